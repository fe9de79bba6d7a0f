import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import type { ResolvedConnection } from '../connections/store.js';
import { testMany, type TestOutcome } from '../connections/test-many.js';
import { errorJson, nextStepAfter, ownerText, testJson, testWarnings } from '../connections/views.js';
import { daysUntil, idleExpiresAt, isExpiringSoon, type ConnectionRecord } from '../domain/connection.js';
import { CliError, ExitCode, SilentError, UsageError, rephrase } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions, withPositionalName } from '../domain/options.js';
import { jsonText, printable } from '../domain/printable.js';
import { chooseConnection } from '../connections/choose.js';
import { startSpinner } from '../io/spinner.js';

export const testOptionsSchema = z.lazy(() =>
  z.object({
    name: optionFields.name,
    all: optionFields.flag,
    json: optionFields.flag,
    timeout: optionFields.timeout,
    secretTimeout: optionFields.secretTimeout,
  }),
);
export type TestOptions = z.output<typeof testOptionsSchema>;

export type TestDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'connections' | 'prompter' | 'okta' | 'notify'>;

export function testCommand(run: (opts: TestOptions) => Promise<void>): Command {
  return new Command('test')
    .description('test saved connections against Okta (exit code says what failed)')
    .argument('[name]', 'the connection to test (or --name; default: OKTA_CONNECT_NAME, or the only connection)')
    .option('-n, --name <name>', 'the connection to test')
    .option('-a, --all', 'test every connection, concurrently')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(new Option('--timeout <seconds>', 'time allowed per connection, whole test').default('15'))
    .option(...SECRET_TIMEOUT_FLAG)
    .addHelpText(
      'after',
      '\nExamples:\n  okta-connect test prod\n  okta-connect test --name prod\n  okta-connect test --all --json\n  OKTA_CONNECT_PROD_TOKEN=… OKTA_CONNECT_PROD_ORG_URL=https://acme.okta.com okta-connect test --name prod',
    )
    .action(async (name: string | undefined, opts: unknown) => {
      await run(parseOptions(testOptionsSchema, withPositionalName(name, opts)));
    });
}

export async function testRun(deps: TestDeps, opts: TestOptions): Promise<void> {
  if (opts.all && opts.name !== undefined) throw new UsageError('--name and --all cannot be used together', { hint: 'use one of them' });
  const records = await deps.connections.records();
  if (opts.all) {
    await testAll(deps, records, opts);
    return;
  }
  const name =
    opts.name ??
    (await chooseConnection(deps, { message: 'missing --name (or --all)', hint: 'okta-connect test <name>, or --all; see okta-connect list' }));
  const connection = await deps.connections.resolve(name, records, { secretTimeoutMs: opts.secretTimeout });
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

/**
 * Every connection, concurrently. Each line is printed as soon as its connection is done, so a hung host holds back no
 * other; in a terminal the columns are aligned. Then a summary. --json is one array, in name order.
 */
async function testAll(deps: TestDeps, records: ConnectionRecord[], opts: TestOptions): Promise<void> {
  const { timeout: timeoutMs, secretTimeout: secretTimeoutMs, json } = opts;
  const names = await deps.connections.names(records);
  if (names.length === 0) {
    throw new CliError(ExitCode.notFound, 'no connections to test', { hint: 'create one with: okta-connect add' });
  }
  const align = deps.io.isStdoutTTY;
  const nameWidth = align ? Math.max(...names.map((name) => name.length)) : 0;
  const urlWidth = align ? Math.max(...records.map((record) => record.orgUrl.length), 0) : 0;
  // Cells joined by two spaces; empty ones (no owner known) left out, so a line never has a wide gap by accident.
  const line = (cells: string[]): string => `${cells.filter((cell) => cell.trim() !== '').join('  ')}\n`;
  const print = (outcome: TestOutcome): void => {
    const url = (outcome.connection?.orgUrl ?? '').padEnd(urlWidth);
    const name = outcome.name.padEnd(nameWidth);
    const failure = failureOf(outcome);
    if (outcome.connection && !failure) {
      deps.io.stdout.write(line([`${deps.theme.okMark} ${name}`, url, ownerText(outcome.result), `${String(outcome.result.latencyMs)} ms`]));
      printWarnings(deps, outcome.connection, outcome.result);
      return;
    }
    deps.io.stdout.write(line([`${deps.theme.failMark} ${name}`, url, printable(failure?.message ?? '')]));
    if (failure?.hint) deps.io.stderr.write(`  hint: ${printable(failure.hint)}\n`);
  };
  const outcomes = await testMany(deps, names, records, { timeoutMs, secretTimeoutMs }, json ? undefined : print);
  if (json) {
    const items = outcomes.map((outcome) =>
      outcome.connection
        ? testJson(outcome.connection, { ...outcome.result, error: outcome.result.error && sharpen(outcome.result.error, outcome.connection) })
        : { name: outcome.name, orgUrl: null, ok: false, latencyMs: null, owner: null, roles: null, rateLimit: null, error: errorJson(outcome.error) },
    );
    deps.io.stdout.write(`${jsonText(items)}\n`);
  }
  const failed = outcomes.filter((outcome) => failureOf(outcome) !== null);
  const summary = `${String(outcomes.length - failed.length)} of ${String(outcomes.length)} connections OK`;
  deps.io.stderr.write(`${failed.length === 0 ? summary : `${summary}; failed: ${failed.map((outcome) => outcome.name).join(', ')}`}\n`);
  const first = failed[0] && failureOf(failed[0]);
  if (first) throw new SilentError(first.exitCode);
}

/** The failure as the user reads it on the connection's line (the name is on the line already), or null. */
function failureOf(outcome: TestOutcome): CliError | null {
  if (!outcome.connection) return outcome.error;
  return outcome.result.error && nextStep(outcome.result.error, outcome.connection);
}

/**
 * For a rejected secret, what to run next, naming the connection (nextStepAfter): rotate, or where else to update it
 * (rotate does not reach the environment or a secret command); for an OAuth key whose kid the app lacks, adding it; for
 * a clock, DPoP or app setting, nothing beyond the hint.
 */
function nextStep(error: CliError, connection: ResolvedConnection): CliError {
  if (error.exitCode !== ExitCode.auth) return error;
  const next = nextStepAfter(error, connection);
  if (next === undefined) return error;
  return rephrase(error, { hint: next.isWholeHint ? next.step : `${error.hint ?? ''}; ${next.step}`.replace(/^; /, '') });
}

/** The failure with the connection's name in front, and the next step. */
function sharpen(error: CliError, connection: ResolvedConnection): CliError {
  const failure = nextStep(error, connection);
  return rephrase(failure, { message: (message) => `${connection.name}: ${message}` });
}

function resultLine(deps: Pick<TestDeps, 'theme'>, connection: ResolvedConnection, result: ProbeResult): string {
  return `${deps.theme.okMark} ${connection.name}  ${connection.orgUrl}  ${ownerText(result)}  ${String(result.latencyMs)} ms`.replace(/ {3,}/g, '  ');
}

function printWarnings(deps: TestDeps, connection: ResolvedConnection, result: ProbeResult): void {
  const warn = (text: string): void => {
    deps.notify(`${connection.name}: ${text}`);
  };
  testWarnings(result).forEach(warn);
  if (connection.record && connection.source === 'keychain' && result.ok) {
    const expiresAt = idleExpiresAt(connection.record);
    const days = daysUntil(expiresAt, deps.clock.now());
    if (days < 0) warn('the token was past its 30-day idle expiry by our records, yet it worked; this test renewed it');
    else if (isExpiringSoon(expiresAt, deps.clock.now())) warn(`the token was ${String(days)}d from its 30-day idle expiry; this test renewed it`);
  }
}
