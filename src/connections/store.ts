import { byName, type ConnectionRecord, type Normalised, type Owner } from '../domain/connection.js';
import {
  credentialFromPrinted,
  credentialFromSecret,
  fingerprintOf,
  printedSecretOf,
  kindOf,
  secretOf,
  secretParts,
  type ConnectionKind,
  type Credential,
  type PrintedSecret,
  type SecretSource,
} from '../domain/credential.js';
import { clientIdVar, keyIdVar, orgUrlVar, privateKeyVar, scopesVar, tokenVar } from '../domain/env-overrides.js';
import { CancelledError, CliError, KeychainError, NotFoundError, UsageError, type ExitCodeValue, type OAuthRefusal } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';
import { DEFAULT_SECRET_TIMEOUT_MS, type SecretCommand } from '../domain/secret-command.js';
import type { Critical, MetadataStore, SecretCommandRunner, SecretStore } from './ports.js';
import { connectionNames, envOnlyNames, envOverride, envSetProblem, isOAuthInEnv, notFound } from './resolve.js';
import { commandFailure, invalidOutput, rotatedElsewhere, type CommandOwner } from './secret-command.js';

export type { MetadataStore, SecretCommandRunner, SecretStore } from './ports.js';

/** A connection as `list` sees it: no secret read, no command run. `missing`: saved, but its secret is not in the keychain. */
export interface ListedConnection {
  name: string;
  kind: ConnectionKind;
  orgUrl: string;
  source: SecretSource | 'missing';
  record: ConnectionRecord | undefined;
  /** The _CLIENT_ID, _SCOPES and _KEY_ID of an OAuth connection the CI variables make (they win over a saved record's). */
  env?: { clientId: string | undefined; scopes: string[] | undefined; keyId: string | undefined };
  /**
   * Why the CI variables of this connection make no usable one (test, token and exec refuse it), by which are set, never
   * by reading them: an OAuth set missing a part, or both a token and a client id.
   */
  envProblem?: string;
}

/** What test would refuse in this connection's CI variables, in list's words (envOverride says it in full). */
function envProblemOf(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const problem = envSetProblem(env, name);
  if (problem === undefined) return undefined;
  if (problem.kind === 'both') return `${tokenVar(name)} and ${clientIdVar(name)} are both set`;
  if (problem.kind === 'stray') return `${problem.variables.join(', ')} set but ${clientIdVar(name)} is not`;
  const { missing } = problem;
  return `${clientIdVar(name)} is set but ${missing.map((part) => part.variable).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not`;
}

/** A connection ready to use: its address, its credential, and where each came from. */
export interface ResolvedConnection {
  name: string;
  orgUrl: string;
  credential: Credential;
  source: SecretSource;
  /** The saved metadata, when the connection is saved on this machine. */
  record: ConnectionRecord | undefined;
}

/** What a test found, as it is recorded on the connection. */
export interface TestRecord {
  ok: boolean;
  code: ExitCodeValue;
  latencyMs: number;
  httpStatus: number | null;
  /** An OAuth refusal (the error's details.refusal), when that is what failed the test. */
  reason?: OAuthRefusal | undefined;
  owner: Owner | null;
}

/** How a command that uses a secret wants it read. */
export interface UseOptions {
  /** How long a secret command may run (default 30 s). */
  secretTimeoutMs?: number;
}

export interface SaveRequest {
  name: string;
  orgUrl: string;
  credential: Credential;
  /** The command that prints the secret (the credential is what it printed): the metadata is saved, the keychain untouched. */
  secretCommand?: SecretCommand | null;
  /** Replace an existing connection of that name (and a keychain entry that no metadata knows). */
  force: boolean;
  /** The test made before saving, if any. */
  test: TestRecord | undefined;
}

export interface ConnectionStoreDeps {
  env: Readonly<Record<string, string | undefined>>;
  clock: { now(): Date };
  metadata: MetadataStore;
  secrets: SecretStore;
  commands: SecretCommandRunner;
  redactor: Redactor;
  /** Defers signals while a write is between its first step and its commit or rollback (cli.ts owns the signals). */
  critical: Critical;
  /** A note that must not fail the command (a use that could not be recorded). */
  notice: (text: string) => void;
}

/**
 * The one owner of "connections.json and the secret store agree", like gh's AuthConfig: the only code that calls the
 * SecretStore and the MetadataStore, and the only place a secret is registered with the redactor.
 */
export interface ConnectionStore {
  readonly path: string;
  readonly dir: string;
  /** The saved records, validated, in name order. */
  records(): Promise<ConnectionRecord[]>;
  /** Every connection's name, saved or environment-only, in name order. */
  names(records?: ConnectionRecord[]): Promise<string[]>;
  /** Saved and environment-only connections; asks the keychain which secrets exist within `glanceMs` (never reads one). */
  list(glanceMs: number): Promise<{ connections: ListedConnection[]; isKeychainChecked: boolean }>;
  /** A credential from what a person typed or piped, validated and registered for redaction. */
  intake(kind: ConnectionKind, raw: string): Normalised<Credential>;
  /**
   * Run a secret command once; what it prints (a token, or an OAuth app's private key) is registered for redaction
   * first, then validated (add, doctor).
   */
  runSecretCommand(owner: CommandOwner, expected: PrintedSecret, options?: UseOptions): Promise<Normalised<Credential>>;
  /** The address and credential to use: the environment wins over a secret command, which wins over the keychain. */
  resolve(name: string, records?: ConnectionRecord[], options?: UseOptions): Promise<ResolvedConnection>;
  /**
   * What is saved on this machine under a name (no environment), for remove. Not found if neither exists. A secret
   * command runs only when `needsSecret`.
   */
  saved(
    name: string,
    options?: UseOptions & { needsSecret?: boolean },
  ): Promise<{ record: ConnectionRecord | undefined; credential: Credential | undefined; records: ConnectionRecord[] }>;
  /**
   * Secret first, metadata second, both under the lock; the secret is put back as it was if the metadata fails. A
   * command-sourced connection is metadata only (with `force`, an old keychain entry of the name goes after it).
   */
  save(request: SaveRequest): Promise<ConnectionRecord>;
  /**
   * Replace only the secret of a saved connection (rotate), atomically: the new secret and the record's fingerprint and
   * test together, or neither. The address stays. Returns the credential it replaced, if the keychain held one. A
   * command-sourced connection has no secret here to replace: refused (exit 2).
   */
  /** `test` undefined: swapped untested (an OAuth key whose public half may not be at Okta yet); lastTest becomes null. */
  replaceSecret(request: { name: string; orgUrl: string; credential: Credential; test: TestRecord | undefined }): Promise<{ record: ConnectionRecord; previous: Credential | undefined }>;
  /** Metadata first, then the secret (none for a command-sourced connection), under one lock. */
  remove(name: string): Promise<void>;
  /** The test results of saved connections (not environment ones), in one write; a failure to write is a notice. */
  recordTests(results: { connection: ResolvedConnection; test: TestRecord }[]): Promise<void>;
  /** exec and token hand the secret out: its 30-day idle expiry is probably renewed. A failure is a notice. */
  markUsed(connection: ResolvedConnection): Promise<void>;
  /** Before a secret is asked: fails (exit 8) when the keychain cannot take one, so nobody pastes a token for nothing. */
  checkCanSave(): Promise<void>;
  /** For doctor. */
  modes(): Promise<{ dir: number | null; file: number | null }>;
  /**
   * For doctor: write, read and delete a probe entry, then the names of our entries, and connections.json as it was
   * read under the same lock (undefined when it cannot be read), so the two compare without an add or remove between.
   */
  keychainCheck(): Promise<{ names: Set<string>; records: ConnectionRecord[] | undefined } | { error: CliError | Error; isMismatch: boolean }>;
}

/** Shorter output cannot be a secret Okta accepts; redacting it would mangle every message (a command that printed "1"). */
const MIN_SECRET_CHARS = 8;

/**
 * The probe entries doctor writes and deletes to prove the keychain works: each run its own (this, a dash and a random
 * suffix), so that two doctors, or a doctor and an add reading the probe, never see each other's. No connection name
 * can begin with "_", so none is ever taken for one.
 */
const PROBE_ACCOUNT = '__okta-connect-doctor-probe';

function lastTestOf(test: TestRecord, at: string): NonNullable<ConnectionRecord['lastTest']> {
  const last = { at, ok: test.ok, code: test.code, latencyMs: test.latencyMs, httpStatus: test.httpStatus };
  // Only when there is one: every other record is written as before.
  return test.reason === undefined ? last : { ...last, reason: test.reason };
}

/** What the metadata says of an OAuth credential (nothing secret); null for an API token. */
function oauthFields(credential: Credential): Pick<ConnectionRecord, 'clientId' | 'scopes' | 'keyId'> {
  return credential.kind === 'oauth'
    ? { clientId: credential.clientId, scopes: credential.scopes, keyId: credential.keyId }
    : {};
}

/** The secret is the one saved with the record's address (records from before fingerprints are taken as they are). */
function isBound(record: ConnectionRecord | undefined, credential: Credential): boolean {
  return record?.secretFingerprint == null || record.secretFingerprint === fingerprintOf(credential);
}

export function connectionStore(deps: ConnectionStoreDeps): ConnectionStore {
  const { metadata, secrets, redactor } = deps;

  /** A secret read back is validated as on input; whatever it is, it is never printed. */
  function fromStore(name: string, kind: ConnectionKind, secret: string): Credential {
    redactor.add(secret);
    try {
      return credentialFromSecret(kind, secret).value;
    } catch (error) {
      throw new KeychainError(`the secret saved for "${name}" in the OS keychain is not valid: ${error instanceof CliError ? error.message : 'unreadable'}`, {
        hint: `save it again: okta-connect add --name ${name} --force`,
        cause: error,
      });
    }
  }

  const register = (credential: Credential): Credential => {
    for (const part of secretParts(credential)) redactor.add(part);
    return credential;
  };

  async function readSecret(name: string): Promise<string | undefined> {
    const secret = await secrets.get(name);
    if (secret !== undefined) redactor.add(secret);
    return secret;
  }

  /** Puts the keychain back as it was before a save that did not complete; says so when it cannot. */
  async function restore(name: string, undo: { previous: string | undefined; isRestored: boolean }): Promise<void> {
    try {
      if (undo.previous === undefined) await secrets.delete(name);
      else await secrets.set(name, undo.previous);
    } catch (error) {
      undo.isRestored = false;
      deps.notice(
        `could not put the keychain entry of "${name}" back as it was (${error instanceof Error ? error.message : String(error)}): okta-connect doctor shows it`,
      );
    }
  }

  /** Only these few lines see a command's output before the redactor does. Too short a value cannot be a secret. */
  async function runSecretCommand(owner: CommandOwner, expected: PrintedSecret, options: UseOptions = {}): Promise<Normalised<Credential>> {
    const outcome = await deps.commands.run(owner.argv, options.secretTimeoutMs ?? DEFAULT_SECRET_TIMEOUT_MS);
    if (outcome.kind !== 'printed') throw commandFailure(outcome, owner, '--secret-timeout');
    const printed = outcome.stdout.trim();
    for (const piece of [outcome.stdout, printed, ...printed.split('\n').map((line) => line.trim())]) {
      if (piece.length >= MIN_SECRET_CHARS) redactor.add(piece);
    }
    if (printed === '') throw invalidOutput(owner, expected.kind, undefined);
    let parsed: Normalised<Credential>;
    try {
      parsed = credentialFromPrinted(expected, outcome.stdout);
    } catch (error) {
      if (error instanceof CliError) throw invalidOutput(owner, expected.kind, error.message);
      throw error;
    }
    // A key's other forms (its JWK members, the PEM that exec hands on) are secrets too.
    register(parsed.value);
    return parsed;
  }

  /** A saved secret goes only to the address it was saved with. */
  function assertSavedAddress(name: string, orgUrl: string, record: ConnectionRecord | undefined): void {
    if (record && orgUrl !== record.orgUrl) {
      const what = record.kind === 'oauth' ? 'key' : 'token';
      const own = record.kind === 'oauth' ? `${clientIdVar(name)}, ${privateKeyVar(name)} and ${scopesVar(name)}` : tokenVar(name);
      throw new UsageError(`${orgUrlVar(name)} points the saved ${what} of "${name}" at ${orgUrl}, not the address it was saved for (${record.orgUrl})`, {
        hint: `a secret goes only to the address it was saved with: set ${own} too, or unset ${orgUrlVar(name)}`,
      });
    }
  }

  async function resolve(name: string, known?: ConnectionRecord[], options: UseOptions = {}): Promise<ResolvedConnection> {
    const records = known ?? (await metadata.list());
    const record = records.find((candidate) => candidate.name === name);
    const env = envOverride(deps.env, name);
    if (env.secret !== undefined) redactor.add(env.secret);
    const orgUrl = env.orgUrl ?? record?.orgUrl;
    if (orgUrl === undefined) {
      if (env.credential) {
        throw new NotFoundError(`no connection named "${name}": ${env.secretVar ?? tokenVar(name)} is set but ${orgUrlVar(name)} is not`, {
          hint: `set ${orgUrlVar(name)}=https://<your-org>.okta.com as well`,
        });
      }
      throw notFound(name, records);
    }
    if (env.credential) return { name, orgUrl, credential: register(env.credential), source: 'env', record };
    if (record?.secretCommand) {
      // Checked before the command runs: its secret would go nowhere anyway.
      assertSavedAddress(name, orgUrl, record);
      const owner = { argv: record.secretCommand, name, orgUrl: record.orgUrl };
      const { value } = await runSecretCommand(owner, printedSecretOf(record), options);
      return { name, orgUrl, credential: value, source: 'command', record };
    }
    const secret = await readSecret(name);
    if (secret === undefined) {
      if (!record) throw notFound(name, records);
      throw new NotFoundError(`the connection "${name}" has no token in the OS keychain`, {
        hint: `save it again with: okta-connect add --name ${name} --org-url ${record.orgUrl} --force`,
      });
    }
    const credential = fromStore(name, record?.kind ?? 'token', secret);
    assertSavedAddress(name, orgUrl, record);
    if (record && !isBound(record, credential)) {
      throw new KeychainError(`the token in the OS keychain for "${name}" is not the one saved for ${record.orgUrl}: it was not sent`, {
        hint: `another program or an interrupted save changed it; save the right one: okta-connect rotate ${name}`,
      });
    }
    return { name, orgUrl, credential, source: 'keychain', record };
  }

  /**
   * The metadata alone: the secret stays in the user's secret manager. With `force`, a keychain entry of the name (the
   * replaced connection's) is deleted once the metadata no longer points at it; failing that is a notice.
   */
  async function saveCommandSourced(request: SaveRequest, record: ConnectionRecord): Promise<ConnectionRecord> {
    const replaced: { record: ConnectionRecord | undefined } = { record: undefined };
    // One file write: a signal waits for it, then says whether it happened.
    await deps.critical(
      (section) =>
        metadata.update(
          (connections) => {
            replaced.record = connections.find((existing) => existing.name === request.name);
            if (!request.force && replaced.record) {
              throw new UsageError(`a connection named "${request.name}" was just created by another okta-connect`, {
                hint: 'use --force to replace it, or pick another name',
              });
            }
            section.enter();
            return [...connections.filter((existing) => existing.name !== request.name), record];
          },
          request.force
            ? async () => {
                await secrets.delete(request.name).catch((error: unknown) => {
                  // Only the replaced keychain connection's entry is worth a word; on a machine without a keychain there is none.
                  if (replaced.record && replaced.record.secretCommand === null) {
                    deps.notice(`the old token of "${request.name}" is still in the OS keychain: ${error instanceof Error ? error.message : String(error)}`);
                  }
                });
              }
            : undefined,
        ),
      (isDone) => (isDone ? `"${request.name}" was saved (${request.orgUrl}) before the interrupt took effect` : `"${request.name}" was not saved`),
    );
    return record;
  }

  async function update(change: (connections: ConnectionRecord[]) => ConnectionRecord[], what: string): Promise<void> {
    try {
      await deps.critical(
        (section) =>
          metadata.update((connections) => {
            section.enter();
            return change(connections);
          }),
        () => 'nothing was left half-written',
      );
    } catch (error) {
      deps.notice(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    path: metadata.path,
    dir: metadata.dir,
    records: () => metadata.list(),
    async names(records) {
      return connectionNames(deps.env, records ?? (await metadata.list()));
    },
    async list(glanceMs) {
      const records = await metadata.list();
      // What the CI variables say of an OAuth connection, without reading the key: list never touches a secret.
      const oauthEnv = (name: string): ListedConnection['env'] => {
        const scopes = deps.env[scopesVar(name)]?.split(/[\s,]+/).filter((scope) => scope !== '');
        return { clientId: deps.env[clientIdVar(name)] || undefined, scopes: scopes?.length ? scopes : undefined, keyId: deps.env[keyIdVar(name)] || undefined };
      };
      const withEnvProblem = (listed: ListedConnection): ListedConnection => {
        const problem = envProblemOf(deps.env, listed.name);
        return problem === undefined ? listed : { ...listed, envProblem: problem };
      };
      const saved = records.map((record): ListedConnection => {
        const orgUrl = deps.env[orgUrlVar(record.name)];
        const listed: ListedConnection = {
          name: record.name,
          kind: record.kind,
          orgUrl: orgUrl ?? record.orgUrl,
          source: deps.env[tokenVar(record.name)] || isOAuthInEnv(deps.env, record.name) ? 'env' : record.secretCommand ? 'command' : 'keychain',
          record,
        };
        // The environment wins over the saved connection, for what list shows as for what is used.
        if (isOAuthInEnv(deps.env, record.name)) return withEnvProblem({ ...listed, kind: 'oauth', env: oauthEnv(record.name) });
        return deps.env[tokenVar(record.name)] ? { ...listed, kind: 'token' } : listed;
      });
      const envOnly = envOnlyNames(deps.env, records).map(
        (name): ListedConnection => {
          const orgUrl = deps.env[orgUrlVar(name)] ?? '';
          if (!isOAuthInEnv(deps.env, name)) return { name, kind: 'token', orgUrl, source: 'env', record: undefined };
          return withEnvProblem({ name, kind: 'oauth', orgUrl, source: 'env', record: undefined, env: oauthEnv(name) });
        },
      );
      const all = [...saved, ...envOnly].sort(byName);
      const inKeychain = all.filter((item) => item.source === 'keychain').map((item) => item.name);
      const stored = inKeychain.length > 0 ? await secrets.present(inKeychain, glanceMs) : undefined;
      return {
        connections: all.map((item) =>
          stored !== undefined && item.source === 'keychain' && !stored.has(item.name) ? { ...item, source: 'missing' } : item,
        ),
        isKeychainChecked: stored !== undefined || inKeychain.length === 0,
      };
    },
    intake(kind, raw) {
      const parsed = credentialFromSecret(kind, raw);
      register(parsed.value);
      return parsed;
    },
    runSecretCommand,
    resolve,
    async saved(name, options = {}) {
      const records = await metadata.list();
      const record = records.find((candidate) => candidate.name === name);
      if (record?.secretCommand) {
        const owner = { argv: record.secretCommand, name, orgUrl: record.orgUrl };
        const credential = options.needsSecret === true ? (await runSecretCommand(owner, printedSecretOf(record), options)).value : undefined;
        return { record, credential, records };
      }
      const envVar = [tokenVar(name), clientIdVar(name)].find((variable) => deps.env[variable]);
      const isEnvOnly = !record && envVar !== undefined;
      // An env-only name on a machine without a keychain (CI) is "not found", with the hint to unset the variable.
      const secret = await readSecret(name).catch((error: unknown) => {
        if (isEnvOnly && error instanceof KeychainError) return undefined;
        throw error;
      });
      if (!record && secret === undefined) {
        throw notFound(name, records, isEnvOnly ? `"${name}" comes from ${envVar} only: unset that variable instead` : undefined);
      }
      const stored = secret === undefined ? undefined : fromStore(name, record?.kind ?? 'token', secret);
      // A secret that is not the one saved for this address is deleted with it, but never sent (no revocation).
      const credential = stored !== undefined && isBound(record, stored) ? stored : undefined;
      return { record, credential, records };
    },
    async save(request) {
      const now = deps.clock.now().toISOString();
      const { test } = request;
      const record: ConnectionRecord = {
        name: request.name,
        kind: kindOf(request.credential),
        orgUrl: request.orgUrl,
        createdAt: now,
        owner: test?.owner ? { id: test.owner.id, login: test.owner.login, status: test.owner.status } : null,
        lastTest: test ? lastTestOf(test, now) : null,
        lastUsedAt: test?.ok ? now : null,
        secretFingerprint: request.secretCommand ? null : fingerprintOf(request.credential),
        secretCommand: request.secretCommand ?? null,
        ...oauthFields(request.credential),
      };
      if (record.secretCommand) return saveCommandSourced(request, record);
      // Set inside the update callback; an object so the compiler does not narrow them to their initial values.
      const undo = { previous: undefined as string | undefined, isSecretWritten: false, isRestored: true };
      const says = (isDone: boolean): string => {
        if (isDone) return `"${request.name}" was saved (${request.orgUrl}) before the interrupt took effect`;
        return undo.isRestored ? `"${request.name}" was not saved; the keychain is as it was` : `"${request.name}" was not saved`;
      };
      return deps.critical(async (section) => {
        try {
          await metadata.update(async (connections) => {
            const isKnown = connections.some((existing) => existing.name === request.name);
            if (!request.force && isKnown) {
              throw new UsageError(`a connection named "${request.name}" was just created by another okta-connect`, {
                hint: 'use --force to replace it, or pick another name',
              });
            }
            undo.previous = await readSecret(request.name);
            if (!request.force && undo.previous !== undefined) {
              throw new UsageError(`the OS keychain already holds a token for "${request.name}" that no saved connection knows`, {
                hint: `it may belong to another okta-connect config folder or an older install; replace it with --force, or pick another name`,
              });
            }
            // The first write: from here a signal waits until the metadata is written or the keychain put back.
            section.enter();
            await secrets.set(request.name, secretOf(request.credential));
            undo.isSecretWritten = true;
            if (section.isInterrupted()) throw new CancelledError('interrupted: nothing was saved');
            return [...connections.filter((existing) => existing.name !== request.name), record];
          });
        } catch (error) {
          if (undo.isSecretWritten) await restore(request.name, undo);
          throw error;
        }
        return record;
      }, says);
    },
    async replaceSecret(request) {
      const at = deps.clock.now().toISOString();
      const { test } = request;
      const state: { previous: string | undefined; isSecretWritten: boolean; isRestored: boolean; record: ConnectionRecord | undefined } = {
        previous: undefined,
        isSecretWritten: false,
        isRestored: true,
        record: undefined,
      };
      const what = request.credential.kind === 'oauth' ? 'key' : 'token';
      const says = (isDone: boolean): string => {
        if (isDone) return `the ${what} of "${request.name}" was replaced before the interrupt took effect`;
        return state.isRestored ? `the ${what} of "${request.name}" was not replaced; the keychain is as it was` : `the ${what} of "${request.name}" was not replaced`;
      };
      await deps.critical(async (section) => {
        try {
          await metadata.update(async (connections) => {
            const existing = connections.find((candidate) => candidate.name === request.name);
            // Another process removed it, or pointed it elsewhere, since it was tested: the new secret was tested for this.
            if (existing?.orgUrl !== request.orgUrl) {
              throw new UsageError(`the connection "${request.name}" was changed by another okta-connect while it was rotated`, {
                hint: `nothing was changed; see okta-connect list, then run okta-connect rotate ${request.name} again`,
              });
            }
            if (existing.secretCommand) throw rotatedElsewhere({ argv: existing.secretCommand, name: request.name, orgUrl: existing.orgUrl }, existing.kind);
            state.previous = await readSecret(request.name);
            // The first write: from here a signal waits until the metadata is written or the old token put back.
            section.enter();
            await secrets.set(request.name, secretOf(request.credential));
            state.isSecretWritten = true;
            if (section.isInterrupted()) throw new CancelledError(`interrupted: the ${what} was not replaced`);
            state.record = {
              ...existing,
              owner: test?.owner ? { id: test.owner.id, login: test.owner.login, status: test.owner.status } : existing.owner,
              lastTest: test ? lastTestOf(test, at) : null,
              lastUsedAt: test?.ok === true ? at : existing.lastUsedAt,
              secretFingerprint: fingerprintOf(request.credential),
              ...oauthFields(request.credential),
            };
            const record = state.record;
            return connections.map((candidate) => (candidate.name === request.name ? record : candidate));
          });
        } catch (error) {
          if (state.isSecretWritten) await restore(request.name, state);
          throw error;
        }
      }, says);
      // The old secret, to revoke: one that no longer parses as a credential cannot be sent anywhere anyway.
      let previous: Credential | undefined;
      try {
        previous = state.previous === undefined ? undefined : credentialFromSecret(state.record?.kind ?? 'token', state.previous).value;
      } catch {
        previous = undefined;
      }
      return { record: state.record as ConnectionRecord, previous };
    },
    async remove(name) {
      // The record goes first, then the secret; a signal in between waits for both. A command-sourced connection has no
      // keychain entry of its own: one of that name belongs to something else.
      const state = { isRecordRemoved: false, isCommandSourced: false };
      await deps.critical(
        (section) =>
          metadata.update(
            (connections) => {
              section.enter();
              state.isCommandSourced = connections.some((candidate) => candidate.name === name && candidate.secretCommand !== null);
              return connections.filter((candidate) => candidate.name !== name);
            },
            async () => {
              state.isRecordRemoved = true;
              if (!state.isCommandSourced) await secrets.delete(name);
            },
          ),
        (isDone) =>
          isDone
            ? `"${name}" was removed before the interrupt took effect`
            : state.isRecordRemoved
              ? `"${name}" was removed from ${metadata.path}, but its token may still be in the keychain (okta-connect doctor shows it)`
              : `"${name}" was not removed`,
      );
    },
    async recordTests(results) {
      const tests = new Map(
        results
          .filter(({ connection }) => connection.source !== 'env' && connection.record !== undefined)
          .map(({ connection, test }) => [connection.name, test]),
      );
      if (tests.size === 0) return;
      const at = deps.clock.now().toISOString();
      await update(
        (connections) =>
          connections.map((saved) => {
            const test = tests.get(saved.name);
            if (!test) return saved;
            return {
              ...saved,
              lastTest: lastTestOf(test, at),
              owner: test.owner ? { id: test.owner.id, login: test.owner.login, status: test.owner.status } : saved.owner,
              lastUsedAt: test.ok ? at : saved.lastUsedAt,
            };
          }),
        'the test results were not recorded',
      );
    },
    async markUsed(connection) {
      if (connection.source === 'env' || connection.record === undefined) return;
      const at = deps.clock.now().toISOString();
      await update(
        (connections) => connections.map((saved) => (saved.name === connection.name ? { ...saved, lastUsedAt: at } : saved)),
        `could not record the use of "${connection.name}"`,
      );
    },
    async checkCanSave() {
      try {
        await secrets.get(PROBE_ACCOUNT);
      } catch (error) {
        if (!(error instanceof KeychainError)) throw error;
        throw new KeychainError(`the OS keychain cannot save a token here: ${error.message.replace(/^cannot [a-z ]+ in the OS keychain: /, '')}`, {
          hint: error.hint,
          cause: error,
        });
      }
    },
    modes: () => metadata.modes(),
    // Under the connections lock, which every delete of okta-connect's takes too: gnome-keyring 42 aborts when the
    // properties of an item are read (names() reads every entry) while another client deletes that item.
    keychainCheck: () => metadata.whileLocked(async () => {
      const account = `${PROBE_ACCOUNT}-${Math.random().toString(36).slice(2, 10)}`;
      const probe = `probe-${String(deps.clock.now().getTime())}`;
      try {
        // Once the probe is written, a signal waits until it is deleted again: an interrupted doctor leaves no entry
        // behind. Not before: a keychain that never answers the write must not hold Ctrl-C back until its timeout.
        const read = await deps.critical(
          async (section) => {
            await secrets.set(account, probe);
            section.enter();
            try {
              return await secrets.get(account);
            } finally {
              await secrets.delete(account);
            }
          },
          (isDone) => (isDone ? "doctor's probe entry was written to the keychain and deleted again" : "doctor's keychain probe did not finish"),
        );
        if (read !== probe) return { error: new Error('a probe entry written to the keychain read back differently'), isMismatch: true };
        const names = new Set((await secrets.names()).filter((name) => !name.startsWith(PROBE_ACCOUNT)));
        return { names, records: await metadata.list().catch(() => undefined) };
      } catch (error) {
        return { error: error instanceof Error ? error : new Error(String(error)), isMismatch: false };
      }
    }),
  };
}

