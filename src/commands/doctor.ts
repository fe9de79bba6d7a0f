import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import type { ConnectionRecord } from '../domain/connection.js';
import { printedSecretOf } from '../domain/credential.js';
import { clientIdVar, envConnectionKeys, envKey, keyIdVar, orgUrlVar, privateKeyVar, scopesVar, tokenVar } from '../domain/env-overrides.js';
import { envOverride, type EnvOverride } from '../connections/resolve.js';
import { CliError, ExitCode, SilentError } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions } from '../domain/options.js';
import { appConsoleUrl } from '../domain/oauth.js';
import { proxyProblem, safeProxy } from '../domain/org-url.js';
import { jsonText, printable } from '../domain/printable.js';
import { displayCommand } from '../domain/secret-command.js';
import { shellCommand } from '../domain/shell.js';
import { testMany, type TestManyTimes } from '../connections/test-many.js';
import { lastTestWords, nextStepAfter, ownerText, replaceStep } from '../connections/views.js';

export const doctorOptionsSchema = z.lazy(() =>
  z.object({
    json: optionFields.flag,
    test: optionFields.flag,
    timeout: optionFields.timeout,
    secretTimeout: optionFields.secretTimeout,
  }),
);
export type DoctorOptions = z.output<typeof doctorOptionsSchema>;
export type DoctorDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'connections' | 'okta' | 'version' | 'nodeVersion'>;

export function doctorCommand(run: (opts: DoctorOptions) => Promise<void>): Command {
  return new Command('doctor')
    .description('check the keychain, config files, environment and every saved connection (exit 1 if anything is wrong)')
    .option('--json', 'print the checks as JSON on stdout')
    .option('--test', 'also test every connection against Okta, as test --all does')
    .option('--timeout <seconds>', 'time allowed per connection with --test', '15')
    .option(...SECRET_TIMEOUT_FLAG)
    .addHelpText('after', '\nExamples:\n  okta-connect doctor\n  okta-connect doctor --test\n  okta-connect doctor --json | jq \'.checks[] | select(.status == "fail")\'')
    .action(async (opts: unknown) => {
      await run(parseOptions(doctorOptionsSchema, opts));
    });
}

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** The command that fixes it, when there is one. */
  fix: string | null;
}

const MIN_NODE = [20, 19] as const;

export async function doctorRun(deps: DoctorDeps, opts: DoctorOptions): Promise<void> {
  const checks: Check[] = [nodeCheck(deps.nodeVersion)];
  const add = (name: string, status: CheckStatus, message: string, fix: string | null = null): void => {
    checks.push({ name, status, message, fix });
  };

  let records: ConnectionRecord[] | undefined;
  try {
    records = await deps.connections.records();
    add('metadata', 'ok', `${deps.connections.path}: ${String(records.length)} connection(s)`);
  } catch (error) {
    add('metadata', 'fail', error instanceof CliError ? error.message : String(error), error instanceof CliError ? (error.hint ?? null) : null);
  }
  const modes = await deps.connections.modes();
  const folder = modeProblem(modes.dir, 0o700, 'write it');
  if (modes.dir === null) {
    add('config folder', 'info', `${deps.connections.dir} does not exist yet (created by the first okta-connect add)`);
  } else if (folder) {
    add('config folder', 'fail', `${deps.connections.dir} ${folder}`, shellCommand(['chmod', '700', deps.connections.dir]));
  } else {
    add('config folder', 'ok', `${deps.connections.dir} (mode ${octal(modes.dir)})`);
  }
  const file = modeProblem(modes.file, 0o600, 'read or write it');
  if (file) add('config file', 'fail', `${deps.connections.path} ${file}`, shellCommand(['chmod', '600', deps.connections.path]));

  // Where every saved connection has a secret command (a CI runner, say), a missing keychain is no failure.
  const isKeychainNeeded = records === undefined || records.length === 0 || records.some((record) => record.secretCommand === null);
  const keychain = await keychainChecks(deps, add, isKeychainNeeded);
  const stored = keychain?.names;
  const now = deps.clock.now();
  // The keychain's names against connections.json as read with them, under the lock: an add or remove running beside
  // doctor is no orphan.
  const compared = keychain?.records ?? records;
  if (compared !== undefined && stored !== undefined) orphanChecks(compared, stored, now, add);
  if (compared !== undefined && stored !== undefined) await oauthKeyChecks(deps, compared, stored, add);
  // --test runs each secret command as it resolves the connection: once is enough.
  if (!opts.test) await commandChecks(deps, records ?? [], opts.secretTimeout, now, add);
  if (records !== undefined && opts.test) await freshTests(deps, records, { timeoutMs: opts.timeout, secretTimeoutMs: opts.secretTimeout }, add);
  // Without a keychain to compare with, the last tests still get their lines (command-sourced ones have theirs above).
  else if (records !== undefined && stored === undefined) {
    for (const record of records.filter((candidate) => candidate.secretCommand === null)) {
      const last = lastTestOf(record, now);
      add(`connection ${record.name}`, last.status, `${record.orgUrl}; ${last.text}`, last.fix);
    }
  }
  envChecks(deps.env, records ?? [], add);

  const healthy = checks.every((check) => check.status !== 'fail');
  if (opts.json) {
    deps.io.stdout.write(`${jsonText({ ok: healthy, version: deps.version, checks })}\n`);
  } else {
    const mark: Record<CheckStatus, string> = { ok: deps.theme.okMark, fail: deps.theme.failMark, warn: deps.theme.warnMark, info: '-' };
    for (const check of checks) {
      // Paths, variables, keychain account names and error messages: all from outside.
      deps.io.stdout.write(`${mark[check.status]} ${printable(check.name)}: ${printable(check.message)}\n`);
      if (check.fix) deps.io.stdout.write(`    fix: ${printable(check.fix)}\n`);
    }
    const failures = checks.filter((check) => check.status === 'fail').length;
    deps.io.stderr.write(healthy ? 'all checks passed\n' : `${String(failures)} check(s) failed\n`);
  }
  if (!healthy) throw new SilentError(ExitCode.internal);
}

function nodeCheck(version: string): Check {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: 'node',
    status: ok ? 'ok' : 'fail',
    message: `${version}${ok ? '' : ` (okta-connect needs ${String(MIN_NODE[0])}.${String(MIN_NODE[1])} or newer)`}`,
    fix: ok ? null : 'install Node.js 20.19 or newer',
  };
}

type Add = (name: string, status: CheckStatus, message: string, fix?: string | null) => void;

/**
 * Write, read and delete a probe entry; then list our entries. Returns the names stored and the connections read with
 * them, or undefined if the keychain is unusable.
 */
async function keychainChecks(
  deps: DoctorDeps,
  add: Add,
  isNeeded: boolean,
): Promise<{ names: Set<string>; records: ConnectionRecord[] | undefined } | undefined> {
  const check = await deps.connections.keychainCheck();
  if ('names' in check) {
    add('keychain', 'ok', 'write, read and delete of a probe entry worked');
    return check;
  }
  const cli = check.error instanceof CliError ? check.error : undefined;
  const message = `${cli?.message ?? check.error.message}${isNeeded ? '' : ' (no saved connection needs it: each has a secret command)'}`;
  add('keychain', isNeeded ? 'fail' : 'warn', message, cli?.hint ?? (check.isMismatch ? 'check your Secret Service / keychain' : null));
  return undefined;
}

/**
 * Each stored OAuth key is read and parsed as test would (node:crypto), and matched with its metadata: a key that no
 * longer parses, or a secret for another client or kid, is found here rather than at the next run. Never printed.
 */
async function oauthKeyChecks(deps: DoctorDeps, records: ConnectionRecord[], stored: Set<string>, add: Add): Promise<void> {
  for (const record of records.filter((candidate) => candidate.kind === 'oauth' && stored.has(candidate.name))) {
    const name = `oauth key ${record.name}`;
    const again = `${shellCommand(['okta-connect', 'add', '--oauth', '--name', record.name, '--force'])} (with --client-id, --scopes and the key)`;
    try {
      // saved() parses the key (a key that does not parse throws) and keeps it only if it is the one saved for this
      // connection (its fingerprint): another one is never sent.
      const { credential } = await deps.connections.saved(record.name);
      if (credential?.kind !== 'oauth') {
        add(name, 'fail', 'the key in the keychain is not the one saved for this connection (another client, kid or key): it is not used', again);
        continue;
      }
      const type = credential.privateKey.kty === 'RSA' ? 'RSA' : 'EC P-256';
      add(name, 'ok', `the private key parses (${type}, kid ${credential.keyId}) and matches client ${credential.clientId}`);
    } catch (error) {
      // The store's message names the connection and what is wrong, never the key.
      add(name, 'fail', error instanceof CliError ? error.message : 'the key could not be read', again);
    }
  }
}

function orphanChecks(records: ConnectionRecord[], stored: Set<string>, now: Date, add: Add): void {
  const saved = new Set(records.map((record) => record.name));
  for (const record of records) {
    if (record.secretCommand) {
      // Checked by running the command (commandChecks); a keychain entry of its name is left over from before.
      if (stored.has(record.name)) add(`keychain entry ${record.name}`, 'warn', 'a token in the keychain that its connection does not use (a command prints its secret)');
      continue;
    }
    if (stored.has(record.name)) {
      const last = lastTestOf(record, now);
      add(`connection ${record.name}`, last.status, `${record.orgUrl}, ${record.kind === 'oauth' ? 'private key' : 'token'} in the keychain; ${last.text}`, last.fix);
    } else {
      add(
        `connection ${record.name}`,
        'fail',
        `saved, but its ${record.kind === 'oauth' ? 'private key' : 'token'} is missing from the keychain`,
        `${shellCommand(['okta-connect', 'add', '--name', record.name, '--org-url', record.orgUrl, '--force'])}   (or: ${shellCommand(['okta-connect', 'remove', '--name', record.name, '--yes'])})`,
      );
    }
  }
  for (const name of [...stored].filter((candidate) => !saved.has(candidate)).sort()) {
    add(`keychain entry ${name}`, 'fail', 'a token in the keychain with no saved connection', shellCommand(['okta-connect', 'remove', '--name', name, '--yes']));
  }
}

/** A connection's last test and its age, in words: a failed one fails the check, with what to run. */
function lastTestOf(record: ConnectionRecord, now: Date): { status: CheckStatus; text: string; fix: string | null } {
  const test = record.lastTest;
  if (!test) return { status: 'ok', text: 'never tested', fix: null };
  const text = `last test ${lastTestWords(test, now, record.kind)}`;
  if (test.ok) return { status: 'ok', text, fix: null };
  if (record.kind === 'oauth') return { status: 'fail', text, fix: oauthFix(record, test) };
  return { status: 'fail', text, fix: test.code === ExitCode.auth ? authFix(record) : `okta-connect test ${record.name}` };
}

/**
 * What to do about an OAuth connection's failed test, by what Okta refused: only a key Okta does not verify is
 * replaced (rotate); a kid the app lacks is added to it; a scope is granted; a clock is set; an app setting is fixed.
 */
function oauthFix(record: ConnectionRecord, test: NonNullable<ConnectionRecord['lastTest']>): string {
  const reason = test.reason ?? (test.code === ExitCode.permission && test.httpStatus === 400 ? 'scope' : undefined);
  const app = record.clientId == null ? 'the Admin Console' : appConsoleUrl(record.orgUrl, record.clientId);
  const retest = `then: okta-connect test ${record.name}`;
  switch (reason) {
    case 'kid':
      return `add the public key${record.keyId == null ? '' : ` (kid ${record.keyId})`} to the app's Public keys (${app}), ${retest}`;
    case 'scope': {
      const scopes = record.scopes?.join(', ') ?? 'the scopes';
      return `grant ${scopes} on the app's "Okta API Scopes" tab (${app.replace('#tab-general', '#tab-okta-api-scopes')}), ${retest}; or save it with fewer: okta-connect add --oauth ${record.name} --force --scopes …`;
    }
    case 'clock':
    case 'dpop':
      return `check this machine's clock (e.g. timedatectl, or sync with NTP), ${retest}`;
    case 'client':
    case 'method':
    case 'grant':
    case 'other':
      return `check the app's client id and settings (${app}), ${retest}`;
    default:
      return test.code === ExitCode.auth ? authFix(record) : `okta-connect test ${record.name}`;
  }
}

/** What to run when Okta rejected the token; rotate does not reach one that a secret command prints. */
function authFix(record: Pick<ConnectionRecord, 'name' | 'kind' | 'secretCommand'>): string {
  return record.secretCommand
    ? `update the ${record.kind === 'oauth' ? 'key' : 'token'} in your secret manager (${displayCommand(record.secretCommand)} prints it), then: okta-connect test ${record.name}`
    : `okta-connect rotate ${record.name}`;
}

/** doctor --test: every connection tested now, as test --all does (and recorded the same way). */
async function freshTests(deps: DoctorDeps, records: ConnectionRecord[], times: TestManyTimes, add: Add): Promise<void> {
  const names = await deps.connections.names(records);
  for (const outcome of await testMany(deps, names, records, times)) {
    const error = outcome.connection ? outcome.result.error : outcome.error;
    const { connection } = outcome;
    if (!error && connection) add(`test ${outcome.name}`, 'ok', `${connection.orgUrl}  ${ownerText(outcome.result)}  ${String(outcome.result.latencyMs)} ms`);
    else if (error?.exitCode === ExitCode.auth && connection) {
      // Only a secret Okta refused is replaced; a kid the app lacks, a clock or an app setting: what the error's hint says.
      const next = nextStepAfter(error, connection);
      const fix =
        next === undefined
          ? (error.hint ?? null)
          : next.isWholeHint
            ? next.step
            : connection.source === 'env'
              ? replaceStep(connection)
              : authFix({ name: outcome.name, kind: connection.record?.kind ?? 'token', secretCommand: connection.record?.secretCommand ?? null });
      add(`test ${outcome.name}`, 'fail', error.message, fix);
    } else add(`test ${outcome.name}`, 'fail', error?.message ?? 'failed', error?.hint ?? null);
  }
}

/**
 * Each secret command runs once, one at a time (its messages reach stderr whole); what it printed is never shown. A
 * command that works gives the connection's line its last test, as a keychain connection's line has.
 */
async function commandChecks(deps: DoctorDeps, records: ConnectionRecord[], secretTimeoutMs: number, now: Date, add: Add): Promise<void> {
  for (const record of records) {
    if (!record.secretCommand) continue;
    const owner = { argv: record.secretCommand, name: record.name, orgUrl: record.orgUrl };
    try {
      await deps.connections.runSecretCommand(owner, printedSecretOf(record), { secretTimeoutMs });
      const last = lastTestOf(record, now);
      add(`connection ${record.name}`, last.status, `${record.orgUrl}, ${displayCommand(record.secretCommand)} printed a valid ${record.kind === 'oauth' ? 'private key' : 'token'}; ${last.text}`, last.fix);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      add(`connection ${record.name}`, 'fail', error.message, error.hint ?? null);
    }
  }
}

/**
 * Each connection named in the environment, checked as the commands that use it would check it (envOverride): a
 * partial OAuth set, a value that does not parse, a token with no address. Only variable names are printed.
 */
function envChecks(env: Context['env'], records: ConnectionRecord[], add: Add): void {
  for (const key of envConnectionKeys(env)) {
    const name = key.toLowerCase();
    const saved = records.find((record) => envKey(record.name) === key);
    const set = [tokenVar, clientIdVar, privateKeyVar, scopesVar, keyIdVar, orgUrlVar].map((variable) => variable(name)).filter((variable) => env[variable]);
    const what = set.length > 1 ? `${set.slice(0, -1).join(', ')} and ${set.at(-1) ?? ''}` : (set[0] ?? '');
    let override: EnvOverride;
    try {
      override = envOverride(env, name);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      add(`environment ${saved?.name ?? name}`, 'fail', error.message, error.hint ?? `fix or unset ${what}`);
      continue;
    }
    if (override.secretVar !== undefined && override.orgUrl === undefined && !saved) {
      add(`environment ${name}`, 'fail', `${override.secretVar} is set but ${orgUrlVar(name)} is not, and no connection is saved under that name`, `set ${orgUrlVar(name)}=https://<your-org>.okta.com, or unset ${what}`);
    } else {
      add(`environment ${saved?.name ?? name}`, 'info', `${what} in effect${saved ? ` (overrides the saved connection)` : ''}`);
    }
  }
  const proxy = env.HTTPS_PROXY ?? env.https_proxy;
  const unusableProxy = proxy ? proxyProblem(proxy) : undefined;
  if (unusableProxy) add('proxy', 'fail', `HTTPS_PROXY cannot be used: ${unusableProxy}`, 'set HTTPS_PROXY to http://host:port, or unset it');
  else if (proxy) add('proxy', 'info', `HTTPS_PROXY=${safeProxy(proxy)}${env.NO_PROXY ? ' (NO_PROXY is not honoured: every Okta call goes through the proxy)' : ''}`);
  if (env.NODE_EXTRA_CA_CERTS) add('CA certificates', 'info', `NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS}`);
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    add(
      'TLS verification',
      'warn',
      'NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for Node.js programs; okta-connect checks them anyway whenever it sends a secret',
      'unset NODE_TLS_REJECT_UNAUTHORIZED; for a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to a PEM file with its CA certificate',
    );
  }
  const ignored = Object.keys(env).filter((key) => key.startsWith('OKTA_CLIENT_'));
  if (ignored.length > 0) add('Okta SDK variables', 'info', `${ignored.join(', ')} set: okta-connect ignores them (exec sets its own)`);
}

/**
 * What is wrong with a mode that is not exactly `wanted` (0700 for the folder, 0600 for the file): wider lets other
 * users in, narrower locks okta-connect out. Undefined when it is right, or the path does not exist.
 */
function modeProblem(mode: number | null, wanted: number, use: string): string | undefined {
  if (mode === null || mode === wanted) return undefined;
  const shown = `mode ${octal(mode)}, not ${octal(wanted)}`;
  const isOpen = (mode & ~wanted & 0o077) !== 0;
  const isNarrower = (wanted & ~mode) !== 0;
  if (isOpen && isNarrower) return `is open to other users, and okta-connect cannot ${use} (${shown})`;
  if (isOpen) return `is open to other users (${shown})`;
  if (isNarrower) return `has ${shown}: okta-connect cannot ${use}`;
  return `has ${shown}`; // e.g. a file its owner may execute
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
