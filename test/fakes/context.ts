import type { Context, Env, Signals } from '../../src/context.js';
import type { CriticalSection } from '../../src/connections/ports.js';
import { connectionStore } from '../../src/connections/store.js';
import type { ConnectionRecord } from '../../src/domain/connection.js';
import { CliError } from '../../src/domain/errors.js';
import { makeRedactor } from '../../src/domain/redact.js';
import { makeIO } from '../../src/io/streams.js';
import { makeTheme } from '../../src/io/theme.js';
import { FakeMetadataStore } from './metadata-store.js';
import { FakeOktaGateway } from './okta-gateway.js';
import { FakePrompter, type Answer } from './prompter.js';
import { NOW, type EventLog } from './records.js';
import { FakeSecretCommandRunner } from './secret-command.js';
import { FakeSecretStore } from './secret-store.js';
import { Capture, FakeStdin } from './streams.js';

// One fake a file; this one puts them together, and re-exports them so a test imports from one place.
export * from './metadata-store.js';
export * from './okta-gateway.js';
export * from './prompter.js';
export * from './records.js';
export * from './secret-command.js';
export * from './secret-store.js';
export * from './streams.js';


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
  /** Secret commands (their words joined with spaces) and what they print or give. */
  commands?: ConstructorParameters<typeof FakeSecretCommandRunner>[1];
  now?: Date;
  version?: string;
  /** Replace any part of the context outright. */
  context?: Partial<Context>;
}

/** The real ConnectionStore over fake secret and metadata stores, which tests inspect directly. */
export interface FakeContext extends Context {
  secrets: FakeSecretStore;
  commands: FakeSecretCommandRunner;
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
  /** A signal that arrived inside a critical section (set it to simulate one); the process would exit 130 after it. */
  isInterrupted: boolean;
  /** How many critical sections were entered (their first write begun). */
  criticalEntered: number;
  /** What cli.ts would print after each critical section that a signal interrupted, before exiting 130. */
  interruptMessages: string[];
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
  const metadata = new FakeMetadataStore(events, options.connections);
  const secrets = new FakeSecretStore(events, options.secrets);
  const commands = new FakeSecretCommandRunner(events, options.commands);
  const redactor = makeRedactor();
  const theme = makeTheme(false);
  const clock = { now: () => new Date(ctx.clockNow.getTime()) };
  const notify = (text: string): void => {
    err.write(`${theme.warnMark} ${text}\n`);
  };
  const signals: Signals = {
    trap: (handler) => {
      ctx.signalTraps.add(handler);
      return () => ctx.signalTraps.delete(handler);
    },
    critical: (work, says) => fakeCritical(ctx, work, says),
  };
  const ctx: FakeContext = {
    io,
    theme,
    env,
    clock,
    clockNow: options.now ?? NOW,
    metadata,
    secrets,
    commands,
    connections: connectionStore({
      env,
      clock,
      metadata,
      secrets,
      commands,
      redactor,
      critical: signals.critical,
      notice: notify,
    }),
    prompter: new FakePrompter(options.answers ?? [], () => err.plain(), events),
    okta: () => {
      ctx.oktaLoads += 1;
      return Promise.resolve(gateway);
    },
    oktaLoads: 0,
    redactor,
    notify,
    spawn: async (command, args, spawnOptions) => {
      const { spawn } = await import('node:child_process');
      return spawn(command, args, spawnOptions);
    },
    signals,
    signalTraps: new Set(),
    envError: undefined,
    isInterrupted: false,
    criticalEntered: 0,
    interruptMessages: [] as string[],
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

/** Like cli.ts, without exiting: a signal that came inside the section is recorded with what would be printed. */
async function fakeCritical<T>(ctx: FakeContext, work: (section: CriticalSection) => Promise<T>, says: (isDone: boolean) => string): Promise<T> {
  const section = { isOpen: false, isDone: false };
  try {
    const value = await work({
      enter: () => {
        if (!section.isOpen) ctx.criticalEntered += 1;
        section.isOpen = true;
      },
      isInterrupted: () => section.isOpen && ctx.isInterrupted,
    });
    section.isDone = true;
    return value;
  } finally {
    if (section.isOpen && ctx.isInterrupted) ctx.interruptMessages.push(says(section.isDone));
  }
}

/**
 * Run a command's `xRun` and return its exit code: resolving is 0, a thrown CliError becomes its code, anything else is
 * rethrown. A function is called inside, so options refused while parsing them count too.
 */
export async function exitOf(run: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code: number; error: CliError | undefined }> {
  try {
    await (typeof run === 'function' ? run() : run);
    return { code: 0, error: undefined };
  } catch (error) {
    if (error instanceof CliError) return { code: error.exitCode, error };
    throw error;
  }
}

/** Every text a user or a file could see: stdout, stderr, the metadata, and an error's message and hint. */
export function visibleText(ctx: FakeContext, error?: CliError): string {
  return [ctx.out.text(), ctx.err.text(), JSON.stringify(ctx.metadata.all()), error?.message ?? '', error?.hint ?? ''].join('\n');
}
