import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { daysUntil, idleExpiresAt, isExpiringSoon, parseName, type ConnectionRecord } from '../domain/connection.js';
import { CliError, ExitCode, UsageError } from '../domain/errors.js';
import { startSpinner } from '../io/spinner.js';
import { probeConnection, type ProbeResult } from './probe.js';
import { connectionNames, resolveConnection, type ResolvedConnection } from './resolve.js';
import { parseTimeout, summariseRoles } from './shared.js';

export const testOptionsSchema = z.object({
  name: z.optional(z.string()),
  all: z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
  timeout: z.optional(z.string()),
});
export type TestOptions = z.output<typeof testOptionsSchema>;

export type TestDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'metadata' | 'secrets' | 'prompter' | 'okta' | 'secretsSeen'>;

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
      await run(testOptionsSchema.parse(opts));
    });
}

/** Most connections tested at once by --all. */
const CONCURRENCY = 8;

export async function testRun(deps: TestDeps, opts: TestOptions): Promise<number> {
  const timeoutMs = parseTimeout(opts.timeout);
  if (opts.all && opts.name !== undefined) throw new UsageError('--name and --all cannot be used together', { hint: 'use one of them' });
  const records = await deps.metadata.list();
  if (opts.all) return testAll(deps, records, timeoutMs, opts.json);
  const name = opts.name !== undefined ? parseName(opts.name) : await pickName(deps, records);
  const connection = await resolveConnection(deps, name, records);
  const spinner = opts.json ? undefined : startSpinner(deps.io, `testing ${name}…`);
  let result: ProbeResult;
  try {
    result = await probeConnection(await deps.okta(), { orgUrl: connection.orgUrl, token: connection.token, timeoutMs });
  } finally {
    spinner?.stop();
  }
  await record(deps, [{ connection, result }]);
  if (opts.json) deps.io.stdout.write(`${JSON.stringify(jsonResult(connection, result), null, 2)}\n`);
  if (result.error) throw sharpen(result.error, connection);
  if (!opts.json) {
    deps.io.stdout.write(`${resultLine(deps, connection, result)}\n`);
    printWarnings(deps, connection, result);
  }
  return ExitCode.ok;
}

interface Outcome {
  name: string;
  connection?: ResolvedConnection;
  result?: ProbeResult;
  error: CliError | null;
}

async function testAll(deps: TestDeps, records: ConnectionRecord[], timeoutMs: number, json: boolean): Promise<number> {
  const names = connectionNames(deps.env, records);
  if (names.length === 0) {
    throw new CliError(ExitCode.notFound, 'no connections to test', { hint: 'create one with: okta-connect add' });
  }
  const okta = await deps.okta();
  const spinner = json ? undefined : startSpinner(deps.io, `testing ${String(names.length)} connections…`);
  // Tokens are read one at a time (a keychain is a shared desktop service; a burst of parallel sessions has been seen
  // to make gnome-keyring restart), then the connections are tested concurrently.
  const resolved: { name: string; connection: ResolvedConnection | CliError }[] = [];
  for (const name of names) {
    const connection = await resolveConnection(deps, name, records).catch((error: unknown) => {
      if (error instanceof CliError) return error;
      throw error;
    });
    resolved.push({ name, connection });
  }
  const outcomes = await mapBounded(resolved, CONCURRENCY, async ({ name, connection }): Promise<Outcome> => {
    if (connection instanceof CliError) return { name, error: connection };
    const result = await probeConnection(okta, { orgUrl: connection.orgUrl, token: connection.token, timeoutMs });
    return { name, connection, result, error: result.error ? sharpen(result.error, connection) : null };
  });
  spinner?.stop();
  await record(
    deps,
    outcomes.flatMap(({ connection, result }) => (connection && result ? [{ connection, result }] : [])),
  );
  if (json) {
    const items = outcomes.map((outcome) =>
      outcome.connection && outcome.result
        ? jsonResult(outcome.connection, outcome.result)
        : { name: outcome.name, orgUrl: null, ok: false, latencyMs: null, owner: null, roles: null, rateLimit: null, error: jsonError(outcome.error) },
    );
    deps.io.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
  }
  for (const outcome of outcomes) {
    if (!json) {
      const line = outcome.connection && outcome.result && !outcome.error
        ? resultLine(deps, outcome.connection, outcome.result)
        : `${deps.theme.failMark} ${outcome.name}  ${outcome.connection?.orgUrl ?? ''}  ${outcome.error?.message ?? ''}`.replace(/ {3,}/g, '  ');
      deps.io.stdout.write(`${line}\n`);
      if (outcome.connection && outcome.result?.ok) printWarnings(deps, outcome.connection, outcome.result);
    }
    if (outcome.error?.hint) deps.io.stderr.write(`hint: ${outcome.name}: ${outcome.error.hint}\n`);
  }
  const failed = outcomes.filter((outcome) => outcome.error !== null);
  const summary = `${String(outcomes.length - failed.length)} of ${String(outcomes.length)} connections OK`;
  deps.io.stderr.write(`${failed.length === 0 ? summary : `${summary}; failed: ${failed.map((outcome) => outcome.name).join(', ')}`}\n`);
  return failed[0]?.error?.exitCode ?? ExitCode.ok;
}

async function pickName(deps: TestDeps, records: ConnectionRecord[]): Promise<string> {
  if (!deps.io.canPrompt) {
    throw new UsageError('missing --name (or --all)', { hint: 'okta-connect test --name <name>, or --all; see okta-connect list' });
  }
  const names = connectionNames(deps.env, records);
  if (names.length === 0) throw new CliError(ExitCode.notFound, 'no connections are saved', { hint: 'create one with: okta-connect add' });
  return deps.prompter.select(
    'Which connection?',
    names.map((name) => ({ value: name, name: `${name}  ${records.find((saved) => saved.name === name)?.orgUrl ?? '(env)'}` })),
  );
}

/**
 * Record the outcomes on the saved connections, in one write. Only the keychain's tokens are described by the metadata.
 * A config folder that cannot be written is a notice here, not a failure: the tests' own results and exit code stand.
 */
async function record(
  deps: Pick<Context, 'metadata' | 'clock' | 'io' | 'theme'>,
  outcomes: { connection: ResolvedConnection; result: ProbeResult }[],
): Promise<void> {
  const results = new Map(
    outcomes
      .filter(({ connection }) => connection.source === 'keychain' && connection.record !== undefined)
      .map(({ connection, result }) => [connection.name, result]),
  );
  if (results.size === 0) return;
  const at = deps.clock.now().toISOString();
  const update = (saved: ConnectionRecord): ConnectionRecord => {
    const result = results.get(saved.name);
    if (!result) return saved;
    return {
      ...saved,
      lastTest: { at, ok: result.ok, code: result.error?.exitCode ?? ExitCode.ok, latencyMs: result.latencyMs },
      owner: result.owner ? { id: result.owner.id, login: result.owner.login, status: result.owner.status } : saved.owner,
      lastUsedAt: result.ok ? at : saved.lastUsedAt,
    };
  };
  try {
    await deps.metadata.update((connections) => connections.map(update));
  } catch (error) {
    const why = error instanceof CliError ? error.message : String(error);
    deps.io.stderr.write(`${deps.theme.warnMark} the test results were not recorded: ${why}\n`);
  }
}

function sharpen(error: CliError, connection: ResolvedConnection): CliError {
  error.message = `${connection.name}: ${error.message}`;
  if (error.exitCode === ExitCode.auth && connection.source === 'env') {
    error.hint = `${error.hint ?? ''}; the token came from OKTA_CONNECT_…_TOKEN: update that secret`.replace(/^; /, '');
  }
  return error;
}

export function resultLine(deps: Pick<TestDeps, 'theme'>, connection: ResolvedConnection, result: ProbeResult): string {
  const who = result.owner ? `as ${result.owner.login ?? result.owner.id}` : '';
  const roles = result.roles === null ? '' : ` (${summariseRoles(result.roles)})`;
  return `${deps.theme.okMark} ${connection.name}  ${connection.orgUrl}  ${who}${roles}  ${String(result.latencyMs)} ms`;
}

function printWarnings(deps: TestDeps, connection: ResolvedConnection, result: ProbeResult): void {
  const warn = (text: string): void => {
    deps.io.stderr.write(`${deps.theme.warnMark} ${connection.name}: ${text}\n`);
  };
  if (result.owner?.status && result.owner.status !== 'ACTIVE') {
    warn(`the token's owner is ${result.owner.status}: the token stops working if the account is deactivated`);
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

export function jsonResult(connection: ResolvedConnection, result: ProbeResult): object {
  return {
    name: connection.name,
    orgUrl: connection.orgUrl,
    ok: result.ok,
    latencyMs: result.latencyMs,
    owner: result.owner ? { id: result.owner.id, login: result.owner.login, status: result.owner.status ?? null } : null,
    roles: result.roles,
    rateLimit: result.rateLimit,
    error: jsonError(result.error),
  };
}

export function jsonError(error: CliError | null): object | null {
  if (!error) return null;
  return {
    code: error.exitCode,
    message: error.message,
    httpStatus: error.details.httpStatus ?? null,
    oktaErrorCode: error.details.oktaErrorCode ?? null,
    oktaErrorId: error.details.oktaErrorId ?? null,
  };
}

/** Run `work` over `items` with at most `limit` at once, results in the items' order. */
export async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
