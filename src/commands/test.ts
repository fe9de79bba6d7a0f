import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import type { ResolvedConnection } from '../connections/store.js';
import { errorJson, ownerText, testJson } from '../connections/views.js';
import { mapBounded } from '../domain/bounded.js';
import { daysUntil, idleExpiresAt, isExpiringSoon, type ConnectionRecord } from '../domain/connection.js';
import { CliError, ExitCode, SilentError, UsageError, rephrase } from '../domain/errors.js';
import { optionFields, parseOptions } from '../domain/options.js';
import { jsonText, printable } from '../domain/printable.js';
import { startSpinner } from '../io/spinner.js';

export const testOptionsSchema = z.object({
  name: optionFields.name,
  all: optionFields.flag,
  json: optionFields.flag,
  timeout: optionFields.timeout,
});
export type TestOptions = z.output<typeof testOptionsSchema>;

export type TestDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'connections' | 'prompter' | 'okta'>;

export function testCommand(run: (opts: TestOptions) => Promise<void>): Command {
  return new Command('test')
    .description('test saved connections against Okta (exit code says what failed)')
    .option('-n, --name <name>', 'the connection to test')
    .option('-a, --all', 'test every connection, concurrently')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(new Option('--timeout <seconds>', 'time allowed per connection, whole test').default('15'))
    .addHelpText(
      'after',
      '\nExamples:\n  okta-connect test --name prod\n  okta-connect test --all --json\n  OKTA_CONNECT_PROD_TOKEN=… OKTA_CONNECT_PROD_ORG_URL=https://acme.okta.com okta-connect test --name prod',
    )
    .action(async (opts: unknown) => {
      await run(parseOptions(testOptionsSchema, opts));
    });
}

/** Most connections tested at once by --all. */
const CONCURRENCY = 8;

export async function testRun(deps: TestDeps, opts: TestOptions): Promise<void> {
  if (opts.all && opts.name !== undefined) throw new UsageError('--name and --all cannot be used together', { hint: 'use one of them' });
  const records = await deps.connections.records();
  if (opts.all) {
    await testAll(deps, records, opts.timeout, opts.json);
    return;
  }
  const name = opts.name ?? (await pickName(deps, records));
  const connection = await deps.connections.resolve(name, records);
  const spinner = opts.json ? undefined : startSpinner(deps.io, `testing ${name}…`);
  let result: ProbeResult;
  try {
    result = await probeConnection(await deps.okta(), { orgUrl: connection.orgUrl, credential: connection.credential, timeoutMs: opts.timeout });
  } finally {
    spinner?.stop();
  }
  await deps.connections.recordTests([{ connection, test: testRecordOf(result) }]);
  if (opts.json) deps.io.stdout.write(`${jsonText(testJson(connection, result))}\n`);
  if (result.error) throw sharpen(result.error, connection);
  if (!opts.json) {
    deps.io.stdout.write(`${resultLine(deps, connection, result)}\n`);
    printWarnings(deps, connection, result);
  }
}

interface Outcome {
  name: string;
  connection?: ResolvedConnection;
  result?: ProbeResult;
  error: CliError | null;
}

async function testAll(deps: TestDeps, records: ConnectionRecord[], timeoutMs: number, json: boolean): Promise<void> {
  const names = await deps.connections.names(records);
  if (names.length === 0) {
    throw new CliError(ExitCode.notFound, 'no connections to test', { hint: 'create one with: okta-connect add' });
  }
  const okta = await deps.okta();
  const spinner = json ? undefined : startSpinner(deps.io, `testing ${String(names.length)} connections…`);
  // Secrets are read one at a time (a keychain is a shared desktop service; a burst of parallel sessions has been seen
  // to make gnome-keyring restart), then the connections are tested concurrently.
  const resolved: { name: string; connection: ResolvedConnection | CliError }[] = [];
  for (const name of names) {
    const connection = await deps.connections.resolve(name, records).catch((error: unknown) => {
      if (error instanceof CliError) return error;
      throw error;
    });
    resolved.push({ name, connection });
  }
  const outcomes = await mapBounded(resolved, CONCURRENCY, async ({ name, connection }): Promise<Outcome> => {
    if (connection instanceof CliError) return { name, error: connection };
    const result = await probeConnection(okta, { orgUrl: connection.orgUrl, credential: connection.credential, timeoutMs });
    return { name, connection, result, error: result.error ? sharpen(result.error, connection) : null };
  });
  spinner?.stop();
  await deps.connections.recordTests(
    outcomes.flatMap(({ connection, result }) => (connection && result ? [{ connection, test: testRecordOf(result) }] : [])),
  );
  if (json) {
    const items = outcomes.map((outcome) =>
      outcome.connection && outcome.result
        ? testJson(outcome.connection, outcome.result)
        : { name: outcome.name, orgUrl: null, ok: false, latencyMs: null, owner: null, roles: null, rateLimit: null, error: errorJson(outcome.error) },
    );
    deps.io.stdout.write(`${jsonText(items)}\n`);
  }
  for (const outcome of outcomes) {
    if (!json) {
      const line = outcome.connection && outcome.result && !outcome.error
        ? resultLine(deps, outcome.connection, outcome.result)
        : `${deps.theme.failMark} ${outcome.name}  ${outcome.connection?.orgUrl ?? ''}  ${printable(outcome.error?.message ?? '')}`.replace(/ {3,}/g, '  ');
      deps.io.stdout.write(`${line}\n`);
      if (outcome.connection && outcome.result?.ok) printWarnings(deps, outcome.connection, outcome.result);
    }
    if (outcome.error?.hint) deps.io.stderr.write(`hint: ${outcome.name}: ${printable(outcome.error.hint)}\n`);
  }
  const failed = outcomes.filter((outcome) => outcome.error !== null);
  const summary = `${String(outcomes.length - failed.length)} of ${String(outcomes.length)} connections OK`;
  deps.io.stderr.write(`${failed.length === 0 ? summary : `${summary}; failed: ${failed.map((outcome) => outcome.name).join(', ')}`}\n`);
  const first = failed[0]?.error;
  if (first) throw new SilentError(first.exitCode);
}

async function pickName(deps: TestDeps, records: ConnectionRecord[]): Promise<string> {
  if (!deps.io.canPrompt) {
    throw new UsageError('missing --name (or --all)', { hint: 'okta-connect test --name <name>, or --all; see okta-connect list' });
  }
  const names = await deps.connections.names(records);
  if (names.length === 0) throw new CliError(ExitCode.notFound, 'no connections are saved', { hint: 'create one with: okta-connect add' });
  return deps.prompter.select(
    'Which connection?',
    names.map((name) => ({ value: name, name: `${name}  ${records.find((saved) => saved.name === name)?.orgUrl ?? '(env)'}` })),
  );
}

/** The failure with the connection's name in front, and for an environment token, where to fix it. */
function sharpen(error: CliError, connection: ResolvedConnection): CliError {
  const isEnvAuth = error.exitCode === ExitCode.auth && connection.source === 'env';
  return rephrase(error, {
    message: (message) => `${connection.name}: ${message}`,
    hint: isEnvAuth ? `${error.hint ?? ''}; the token came from OKTA_CONNECT_…_TOKEN: update that secret`.replace(/^; /, '') : error.hint,
  });
}

function resultLine(deps: Pick<TestDeps, 'theme'>, connection: ResolvedConnection, result: ProbeResult): string {
  return `${deps.theme.okMark} ${connection.name}  ${connection.orgUrl}  ${ownerText(result)}  ${String(result.latencyMs)} ms`;
}

function printWarnings(deps: TestDeps, connection: ResolvedConnection, result: ProbeResult): void {
  const warn = (text: string): void => {
    deps.io.stderr.write(`${deps.theme.warnMark} ${connection.name}: ${text}\n`);
  };
  if (result.owner?.status && result.owner.status !== 'ACTIVE') {
    warn(`the token's owner is ${printable(result.owner.status)}: the token stops working if the account is deactivated`);
  }
  if (result.roles?.some((role) => /super admin/i.test(role) || role === 'SUPER_ADMIN')) {
    warn('this is a Super Administrator token: prefer a service account with a narrower admin role');
  }
  if (result.rateLimit && result.rateLimit.limit > 0 && result.rateLimit.remaining / result.rateLimit.limit < 0.1) {
    warn(`rate limit nearly used up: ${String(result.rateLimit.remaining)} of ${String(result.rateLimit.limit)} left`);
  }
  if (connection.record && connection.source === 'keychain' && result.ok) {
    const expiresAt = idleExpiresAt(connection.record);
    const days = daysUntil(expiresAt, deps.clock.now());
    if (days < 0) warn('the token was past its 30-day idle expiry by our records, yet it worked; this test renewed it');
    else if (isExpiringSoon(expiresAt, deps.clock.now())) warn(`the token was ${String(days)}d from its 30-day idle expiry; this test renewed it`);
  }
}
