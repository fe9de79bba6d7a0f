import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { Context, Env } from '../../src/context.js';
import { withDeadline } from '../../src/domain/deadline.js';
import type { SecretStore } from '../../src/adapters/keychain.js';
import type { MetadataStore } from '../../src/adapters/metadata.js';
import type { Identity, OktaCall, OktaGateway, OrgInfo, RateLimit } from '../../src/adapters/okta.js';
import type { Choice, Prompter } from '../../src/adapters/prompter.js';
import { connectionRecordSchema, type ConnectionRecord, type Owner } from '../../src/domain/connection.js';
import { AuthError, CancelledError, CliError, KeychainError, NetworkError } from '../../src/domain/errors.js';
import { makeIO } from '../../src/io/streams.js';
import { makeTheme } from '../../src/io/theme.js';

/** A fresh token shaped like Okta's ("00" + 40 url-safe characters), made at run time so no secret-like literal exists. */
export function makeToken(): string {
  return `00${randomBytes(30).toString('base64url').slice(0, 40)}`;
}

export const NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY_MS = 86_400_000;

/** An ISO time `days` before the fake clock's now. */
export function daysAgo(days: number, now: Date = NOW): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/** A saved connection's metadata with sensible defaults. */
export function makeRecord(name: string, orgUrl: string, extra: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return { name, orgUrl, createdAt: daysAgo(1), owner: null, lastTest: null, lastUsedAt: null, ...extra };
}

/** A copy of a CliError, same class and fields, so commands that sharpen messages never touch the configured one. */
export function cloneError<E extends CliError>(error: E): E {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as E, error);
  copy.message = error.message;
  copy.stack = error.stack ?? '';
  return copy;
}

// ---------------------------------------------------------------- streams

// eslint-disable-next-line no-control-regex
const SPINNER = /\r\u001b\[2K(?:[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [^\r\n]*)?/g;
// eslint-disable-next-line no-control-regex
const ANSI_COLOUR = /\u001b\[[0-9;]*m/g;

/** A writable that keeps everything written to it as text. */
export class Capture extends Writable {
  isTTY: boolean;
  private chunks: string[] = [];

  constructor(isTTY: boolean) {
    super({ decodeStrings: false });
    this.isTTY = isTTY;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    callback();
  }

  text(): string {
    return this.chunks.join('');
  }

  /** The text with spinner control sequences and colours removed. */
  plain(): string {
    return this.text().replace(SPINNER, '').replace(ANSI_COLOUR, '');
  }
}

/** A stdin that is a pipe nobody closes: reading it waits forever. */
export const NEVER_ENDING = '\u0000never-ending\u0000';

/** stdin for tests: given text (then end), or a stream that never ends. Records whether anyone read it. */
export class FakeStdin extends Readable {
  isTTY: boolean;
  wasRead = false;
  private pending: string | undefined;
  private readonly neverEnds: boolean;

  constructor(input: string, isTTY: boolean) {
    super();
    this.isTTY = isTTY;
    this.neverEnds = input === NEVER_ENDING;
    this.pending = this.neverEnds ? undefined : input;
  }

  override _read(): void {
    this.wasRead = true;
    if (this.neverEnds) return;
    if (this.pending !== undefined && this.pending !== '') this.push(Buffer.from(this.pending));
    this.pending = undefined;
    this.push(null);
  }
}

// ---------------------------------------------------------------- event log shared by the fakes

/** Every side effect of the fakes, in order, e.g. `secrets.set prod`, `metadata.update`, `okta.revokeCurrentToken`, `prompt.confirm`. */
export type EventLog = string[];

// ---------------------------------------------------------------- secret store

type SecretOp = 'get' | 'set' | 'delete' | 'names' | 'present';

export class FakeSecretStore implements SecretStore {
  readonly entries = new Map<string, string>();
  /** Make an operation fail with this error (a KeychainError by default through `breakAll`). */
  readonly failures: Partial<Record<SecretOp, Error>> = {};
  /** Make an operation never answer (a locked keychain waiting for a dialog). */
  readonly hangs: Partial<Record<SecretOp, boolean>> = {};

  constructor(
    private readonly log: EventLog,
    initial: Record<string, string> = {},
  ) {
    for (const [name, token] of Object.entries(initial)) this.entries.set(name, token);
  }

  /** Every operation fails like an absent Secret Service (exit 8). */
  breakAll(error: Error = new KeychainError('cannot read the token in the OS keychain: no Secret Service', { hint: 'install one' })): void {
    for (const op of ['get', 'set', 'delete', 'names', 'present'] as const) this.failures[op] = error;
  }

  hangAll(): void {
    for (const op of ['get', 'set', 'delete', 'names', 'present'] as const) this.hangs[op] = true;
  }

  private async gate(op: SecretOp, name?: string): Promise<void> {
    this.log.push(name === undefined ? `secrets.${op}` : `secrets.${op} ${name}`);
    await Promise.resolve();
    if (this.hangs[op]) await new Promise<never>(() => undefined);
    const failure = this.failures[op];
    if (failure) throw failure instanceof CliError ? cloneError(failure) : failure;
  }

  async get(name: string): Promise<string | undefined> {
    await this.gate('get', name);
    return this.entries.get(name);
  }

  async set(name: string, token: string): Promise<void> {
    await this.gate('set', name);
    this.entries.set(name, token);
  }

  async delete(name: string): Promise<boolean> {
    await this.gate('delete', name);
    return this.entries.delete(name);
  }

  async names(): Promise<string[]> {
    await this.gate('names');
    return [...this.entries.keys()];
  }

  /** Like the real one: a failing or hanging keychain gives undefined (within the timeout), never an error. */
  async present(names: string[], timeoutMs: number): Promise<Set<string> | undefined> {
    const lookup = this.gate('present').then(() => new Set(names.filter((name) => this.entries.has(name))));
    return withDeadline(lookup, timeoutMs, () => undefined).catch(() => undefined);
  }

}

// ---------------------------------------------------------------- metadata store

export class FakeMetadataStore implements MetadataStore {
  readonly path = '/fake/config/okta-connect/connections.json';
  readonly dir = '/fake/config/okta-connect';
  private records: ConnectionRecord[];
  /** When set, `update` throws it after running the change (nothing is written). */
  failUpdate: Error | undefined;
  /** When set, `list` throws it. */
  failList: Error | undefined;
  updates = 0;

  constructor(
    private readonly log: EventLog,
    initial: ConnectionRecord[] = [],
  ) {
    this.records = initial.map((record) => connectionRecordSchema.parse(record));
  }

  /** What is stored, sorted by name (copies). */
  all(): ConnectionRecord[] {
    return structuredClone(this.records).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Write behind the command's back, as another okta-connect process would. */
  put(record: ConnectionRecord): void {
    this.records = [...this.records.filter((existing) => existing.name !== record.name), connectionRecordSchema.parse(record)];
  }

  get(name: string): ConnectionRecord | undefined {
    return this.all().find((record) => record.name === name);
  }

  async list(): Promise<ConnectionRecord[]> {
    this.log.push('metadata.list');
    await Promise.resolve();
    if (this.failList) throw this.failList;
    return this.all();
  }

  /** Folder 0700 and file 0600 (or no file yet), as the real store writes them. */
  modes(): Promise<{ dir: number | null; file: number | null }> {
    return Promise.resolve({ dir: 0o700, file: this.records.length > 0 ? 0o600 : null });
  }

  /** Like the real store: `change` and `afterWrite` run under the lock; 'metadata.update' is logged when the file is written. */
  async update(
    change: (connections: ConnectionRecord[]) => ConnectionRecord[] | Promise<ConnectionRecord[]>,
    afterWrite?: () => Promise<void>,
  ): Promise<void> {
    await Promise.resolve();
    const next = await change(this.all());
    if (this.failUpdate) throw this.failUpdate instanceof CliError ? cloneError(this.failUpdate) : this.failUpdate;
    this.log.push('metadata.update');
    // Like the real store, only what the schema accepts can be read back: a malformed record fails loudly here.
    this.records = next.map((record) => connectionRecordSchema.parse(structuredClone(record)));
    this.updates += 1;
    await afterWrite?.();
  }
}

// ---------------------------------------------------------------- prompter

/** Simulates Ctrl-C at the prompt that receives it. */
export const CTRL_C = Symbol('ctrl-c');
export type Answer = string | boolean | typeof CTRL_C;

export interface Question {
  kind: 'input' | 'password' | 'select' | 'confirm';
  message: string;
  default?: string | boolean | undefined;
  choices?: string[];
  /** What stderr held when the question was asked (to check what was shown before it). */
  stderrBefore: string;
}

export interface Rejection {
  message: string;
  answer: string;
  reason: string;
}

/**
 * A prompter answering from a script. Answers go to prompts in order; `validate` runs on each and a rejected answer
 * is recorded and the same question takes the next answer, as at a real prompt. An exhausted script is a test error.
 */
export class FakePrompter implements Prompter {
  readonly questions: Question[] = [];
  readonly rejections: Rejection[] = [];
  private readonly script: Answer[];

  constructor(
    answers: Answer[],
    private readonly stderrSoFar: () => string,
    private readonly log: EventLog = [],
  ) {
    this.script = [...answers];
  }

  answer(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  get remaining(): number {
    return this.script.length;
  }

  private next(message: string): string | boolean {
    if (this.script.length === 0) throw new Error(`FakePrompter: no scripted answer left for "${message}"`);
    const answer = this.script.shift() as Answer;
    if (answer === CTRL_C) throw new CancelledError('cancelled at the prompt: nothing was saved');
    return answer;
  }

  private async text(
    kind: 'input' | 'password',
    message: string,
    options: { default?: string | undefined; validate?: (value: string) => string | true },
  ): Promise<string> {
    this.questions.push({ kind, message, default: options.default, stderrBefore: this.stderrSoFar() });
    this.log.push(`prompt.${kind}`);
    await Promise.resolve();
    for (;;) {
      const raw = this.next(message);
      if (typeof raw !== 'string') throw new Error(`FakePrompter: "${message}" needs a string answer, got ${String(raw)}`);
      // @inquirer/input: an empty answer takes the default, then validate runs on the result.
      const value = raw === '' && options.default !== undefined ? options.default : raw;
      const verdict = options.validate ? options.validate(value) : true;
      if (verdict === true) return value;
      this.rejections.push({ message, answer: value, reason: verdict });
    }
  }

  input(message: string, options: { default?: string; validate?: (value: string) => string | true } = {}): Promise<string> {
    return this.text('input', message, options);
  }

  password(message: string, options: { validate?: (value: string) => string | true } = {}): Promise<string> {
    return this.text('password', message, options);
  }

  async select<T extends string>(message: string, choices: Choice<T>[]): Promise<T> {
    this.questions.push({ kind: 'select', message, choices: choices.map((choice) => choice.value), stderrBefore: this.stderrSoFar() });
    this.log.push('prompt.select');
    await Promise.resolve();
    const raw = this.next(message);
    const choice = choices.find((candidate) => candidate.value === raw);
    if (!choice) throw new Error(`FakePrompter: "${String(raw)}" is not a choice of "${message}" (${choices.map((c) => c.value).join(', ')})`);
    return choice.value;
  }

  async confirm(message: string, defaultValue: boolean): Promise<boolean> {
    this.questions.push({ kind: 'confirm', message, default: defaultValue, stderrBefore: this.stderrSoFar() });
    this.log.push('prompt.confirm');
    await Promise.resolve();
    const raw = this.next(message);
    if (raw === '') return defaultValue;
    if (typeof raw !== 'boolean') throw new Error(`FakePrompter: "${message}" needs a boolean answer`);
    return raw;
  }
}

// ---------------------------------------------------------------- Okta gateway

export interface FakeOrg {
  /** checkOrg throws this (e.g. not an Okta org, 5xx, network). */
  checkOrgError?: CliError;
  orgId?: string;
}

export interface FakeTokenBehaviour {
  owner?: Partial<Owner & { displayName: string | null }>;
  roles?: string[];
  rolesError?: CliError;
  rateLimit?: RateLimit | null;
  /** whoAmI throws this (401, 403, 5xx…). */
  whoAmIError?: Error;
  /** revokeCurrentToken throws this. */
  revokeError?: CliError;
  /** Runs while users/me is in flight: what another process does meanwhile. */
  duringWhoAmI?: () => void;
}

export interface OktaCallRecord {
  op: 'checkOrg' | 'whoAmI' | 'roles' | 'revokeCurrentToken';
  orgUrl: string;
  token?: string;
  ok: boolean;
}

export const DEFAULT_OWNER = { id: '00u1abcdefGHIJKLmn0x7', login: 'ada@acme.com', status: 'ACTIVE', displayName: 'Ada Lovelace' };

/** 401 as the real adapter reports it. */
export function auth401(orgUrl = 'https://acme.okta.com'): AuthError {
  return new AuthError('Okta rejected the token (401 E0000011 Invalid token provided)', {
    httpStatus: 401,
    oktaErrorCode: 'E0000011',
    oktaErrorId: 'oaeFakeErrorId123',
    hint: `the token was revoked, expired after 30 days unused, or its creator was deactivated; create a new one at ${orgUrl.replace('.okta.com', '-admin.okta.com')}/admin/access/api/tokens`,
  });
}

/**
 * An OktaGateway over registered orgs and tokens. An unregistered org fails DNS (exit 6); a registered org with an
 * unregistered token answers 401 (exit 4). Every call is recorded in order, with the token it carried.
 */
export class FakeOktaGateway implements OktaGateway {
  readonly calls: OktaCallRecord[] = [];
  private readonly orgs = new Map<string, FakeOrg>();
  private readonly tokens = new Map<string, FakeTokenBehaviour>();
  /** Milliseconds each call waits for, per org (to make some tests finish before others). */
  readonly delays = new Map<string, number>();

  /** Calls under way now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** When set, loading the SDK fails with it. */
  readyError: Error | undefined;
  readyCalls = 0;

  constructor(private readonly log: EventLog) {}

  async ready(): Promise<void> {
    this.readyCalls += 1;
    this.log.push('okta.ready');
    await Promise.resolve();
    if (this.readyError) throw this.readyError;
  }

  org(orgUrl: string, behaviour: FakeOrg = {}): this {
    this.orgs.set(orgUrl, behaviour);
    return this;
  }

  /** A working token at an org (the org is registered too, if it was not). */
  token(orgUrl: string, token: string, behaviour: FakeTokenBehaviour = {}): this {
    if (!this.orgs.has(orgUrl)) this.orgs.set(orgUrl, {});
    this.tokens.set(`${orgUrl} ${token}`, behaviour);
    return this;
  }

  /** Calls that carried a token with no successful checkOrg of the same org before them. */
  tokenSentBeforeOrgCheck(): OktaCallRecord[] {
    const checked = new Set<string>();
    const violations: OktaCallRecord[] = [];
    for (const call of this.calls) {
      if (call.op === 'checkOrg') {
        if (call.ok) checked.add(call.orgUrl);
      } else if (!checked.has(call.orgUrl)) {
        violations.push(call);
      }
    }
    return violations;
  }

  tokensSent(): string[] {
    return this.calls.flatMap((call) => (call.token === undefined ? [] : [call.token]));
  }

  private async enter(op: OktaCallRecord['op'], orgUrl: string, token?: string): Promise<OktaCallRecord> {
    const call: OktaCallRecord = token === undefined ? { op, orgUrl, ok: false } : { op, orgUrl, token, ok: false };
    this.calls.push(call);
    this.log.push(`okta.${op}`);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const delay = this.delays.get(orgUrl) ?? 0;
      await (delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve());
    } finally {
      this.inFlight -= 1;
    }
    return call;
  }

  private behaviourOf(call: OktaCall): FakeTokenBehaviour {
    const behaviour = this.tokens.get(`${call.orgUrl} ${call.token}`);
    if (!behaviour) throw auth401(call.orgUrl);
    return behaviour;
  }

  async checkOrg(orgUrl: string): Promise<OrgInfo> {
    const call = await this.enter('checkOrg', orgUrl);
    const org = this.orgs.get(orgUrl);
    if (!org) throw new NetworkError(`cannot resolve ${new URL(orgUrl).host} (DNS)`, { hint: 'check the spelling of the API address and your DNS' });
    if (org.checkOrgError) throw cloneError(org.checkOrgError);
    call.ok = true;
    return { id: org.orgId ?? '00o1fakeorgid0000x7', oktaUrl: null };
  }

  async whoAmI(request: OktaCall): Promise<Identity> {
    const call = await this.enter('whoAmI', request.orgUrl, request.token);
    const behaviour = this.behaviourOf(request);
    behaviour.duringWhoAmI?.();
    if (behaviour.whoAmIError) throw behaviour.whoAmIError instanceof CliError ? cloneError(behaviour.whoAmIError) : behaviour.whoAmIError;
    call.ok = true;
    const owner = { ...DEFAULT_OWNER, ...behaviour.owner };
    return {
      owner: { id: owner.id, login: owner.login, status: owner.status, displayName: owner.displayName },
      rateLimit: behaviour.rateLimit === undefined ? { limit: 600, remaining: 599, resetAt: null } : behaviour.rateLimit,
    };
  }

  async roles(request: OktaCall, userId: string): Promise<string[]> {
    const call = await this.enter('roles', request.orgUrl, request.token);
    const behaviour = this.behaviourOf(request);
    if (behaviour.rolesError) throw cloneError(behaviour.rolesError);
    if (userId === '') throw new Error('FakeOktaGateway: roles asked without a user id');
    call.ok = true;
    return [...(behaviour.roles ?? ['Super Administrator'])];
  }

  async revokeCurrentToken(request: OktaCall): Promise<void> {
    const call = await this.enter('revokeCurrentToken', request.orgUrl, request.token);
    const behaviour = this.behaviourOf(request);
    if (behaviour.revokeError) throw cloneError(behaviour.revokeError);
    call.ok = true;
    this.tokens.delete(`${request.orgUrl} ${request.token}`);
  }
}

// ---------------------------------------------------------------- the context

export interface FakeContextOptions {
  env?: Env;
  /** stdin and stderr (and stdout) are terminals. Default false. */
  tty?: boolean;
  isStdinTTY?: boolean;
  isStdoutTTY?: boolean;
  isStderrTTY?: boolean;
  /** Overrides the decision makeIO takes from the terminals and the environment. */
  canPrompt?: boolean;
  /** What stdin holds; NEVER_ENDING is a pipe nobody closes. Default: empty. */
  stdin?: string;
  answers?: Answer[];
  connections?: ConnectionRecord[];
  secrets?: Record<string, string>;
  now?: Date;
  version?: string;
  /** Replace any part of the context outright. */
  context?: Partial<Context>;
}

export interface FakeContext extends Context {
  secrets: FakeSecretStore;
  metadata: FakeMetadataStore;
  prompter: FakePrompter;
  gateway: FakeOktaGateway;
  stdin: FakeStdin;
  out: Capture;
  err: Capture;
  events: EventLog;
  /** How many times a command asked for the Okta gateway (the SDK would load on the first). */
  oktaLoads: number;
  clockNow: Date;
  /** Handlers commands trapped signals with (exec forwards them); call them to simulate a signal. */
  signalTraps: Set<(signal: NodeJS.Signals) => void>;
}

export function fakeContext(options: FakeContextOptions = {}): FakeContext {
  const tty = options.tty ?? false;
  const env: Env = options.env ?? {};
  const stdin = new FakeStdin(options.stdin ?? '', options.isStdinTTY ?? tty);
  const out = new Capture(options.isStdoutTTY ?? tty);
  const err = new Capture(options.isStderrTTY ?? tty);
  const baseIO = makeIO({ stdin, stdout: out, stderr: err }, env, true);
  const io = options.canPrompt === undefined ? baseIO : { ...baseIO, canPrompt: options.canPrompt };
  const events: EventLog = [];
  const gateway = new FakeOktaGateway(events);
  const ctx: FakeContext = {
    io,
    theme: makeTheme(false),
    env,
    clock: { now: () => new Date(ctx.clockNow.getTime()) },
    clockNow: options.now ?? NOW,
    metadata: new FakeMetadataStore(events, options.connections),
    secrets: new FakeSecretStore(events, options.secrets),
    prompter: new FakePrompter(options.answers ?? [], () => err.plain(), events),
    okta: () => {
      ctx.oktaLoads += 1;
      return Promise.resolve(gateway);
    },
    oktaLoads: 0,
    secretsSeen: new Set(),
    signals: {
      trap: (handler) => {
        ctx.signalTraps.add(handler);
        return () => ctx.signalTraps.delete(handler);
      },
    },
    signalTraps: new Set(),
    nodeVersion: 'v20.19.0',
    version: options.version ?? '9.8.7',
    platform: 'linux',
    gateway,
    stdin,
    out,
    err,
    events,
    ...options.context,
  } as FakeContext;
  return ctx;
}

/** Run a command's `xRun` and return its exit code: a thrown CliError becomes its code, anything else is rethrown. */
export async function exitOf(run: Promise<number>): Promise<{ code: number; error: CliError | undefined }> {
  try {
    return { code: await run, error: undefined };
  } catch (error) {
    if (error instanceof CliError) return { code: error.exitCode, error };
    throw error;
  }
}

/** Every text a user or a file could see: stdout, stderr, the metadata, and an error's message and hint. */
export function visibleText(ctx: FakeContext, error?: CliError): string {
  return [ctx.out.text(), ctx.err.text(), JSON.stringify(ctx.metadata.all()), error?.message ?? '', error?.hint ?? ''].join('\n');
}
