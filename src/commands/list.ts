import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { lastTestWords, listItem, type ListItem } from '../connections/views.js';
import { daysUntil, isExpiringSoon } from '../domain/connection.js';
import { ExitCode } from '../domain/errors.js';
import { optionFields, parseOptions } from '../domain/options.js';
import { jsonText, printable } from '../domain/printable.js';
import { fitTable, formatTable } from '../io/table.js';
import type { Theme } from '../io/theme.js';

export const listOptionsSchema = z.lazy(() => z.object({ json: optionFields.flag }));
export type ListOptions = z.output<typeof listOptionsSchema>;
/**
 * Metadata first: list works, fast, with the keychain locked or absent. The contract also says list never shows a
 * connection whose token is missing without saying so, which only the keychain knows: it gets one brief look.
 */
export type ListDeps = Pick<Context, 'io' | 'theme' | 'clock' | 'connections' | 'notify'>;

const KEYCHAIN_GLANCE_MS = 1_500;

export function listCommand(run: (opts: ListOptions) => Promise<void>): Command {
  return new Command('list')
    .description('list saved connections (never the token)')
    .option('--json', 'print an array of connections as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  okta-connect list\n  okta-connect list --json | jq -r \'.[].name\'')
    .action(async (opts: unknown) => {
      await run(parseOptions(listOptionsSchema, opts));
    });
}

export async function listRun(deps: ListDeps, opts: ListOptions): Promise<void> {
  const { connections, isKeychainChecked } = await deps.connections.list(KEYCHAIN_GLANCE_MS);
  const items = connections.map(listItem);
  if (!isKeychainChecked) {
    deps.notify('the keychain did not answer, so the tokens were not checked (okta-connect doctor tells why)');
  }
  for (const item of items) {
    // Variable names only: list never reads a secret, and this set is refused wherever it would be used.
    if (item.envProblem !== undefined) deps.notify(`${item.name}: ${item.envProblem}: test, token and exec refuse it (okta-connect doctor explains)`);
  }
  if (opts.json) {
    deps.io.stdout.write(`${jsonText(items)}\n`);
    return;
  }
  if (items.length === 0) {
    deps.io.stderr.write('No connections saved yet. Create one with: okta-connect add\n');
    return;
  }
  const now = deps.clock.now();
  const rows = items.map((item) => [
    item.name,
    item.kind,
    printable(item.orgUrl),
    // From Okta once, then from a file anyone may edit: never raw to the terminal.
    // An OAuth connection is owned by its app: the client id, tested or not.
    printable((item.kind === 'oauth' ? item.clientId : undefined) ?? item.owner?.login ?? item.owner?.id ?? '-'),
    lastTestCell(item, now, deps.theme),
    expiresCell(item, now, deps.theme),
    item.envProblem === undefined ? item.source : deps.theme.fail(`${item.source} (${item.envProblem.includes('are both set') ? 'conflict' : 'incomplete'})`),
  ]);
  const header = ['NAME', 'KIND', 'ORG URL', 'OWNER', 'LAST TEST', 'EXPIRES', 'SOURCE'];
  // In a terminal the table fits its width: the address is cut with "…", and OWNER (then KIND) goes before a line wraps.
  deps.io.stdout.write(
    deps.io.columns === undefined ? formatTable(header, rows) : fitTable(header, rows, { width: deps.io.columns, shrink: 2, drop: [3, 1] }),
  );
}

/** What the last test found, in words: `ok 2h ago`, `revoked (401) 3d ago`, `not an Okta org 5m ago`. */
function lastTestCell(item: ListItem, now: Date, theme: Theme): string {
  if (!item.lastTest) return 'never';
  const words = lastTestWords(item.lastTest, now, item.kind);
  return item.lastTest.ok ? theme.ok(words) : theme.fail(words);
}

/** "in 23d", "in 4d" (warning colour under 7 days) or "likely expired". */
export function expiresCell(item: Pick<ListItem, 'kind' | 'idleExpiresAt' | 'source' | 'lastTest'>, now: Date, theme: Theme): string {
  // An OAuth key is never idle-expired, nor "dead": an access token is fresh at each use.
  if (item.kind === 'oauth' || item.idleExpiresAt === null) return '-';
  if (item.source === 'missing') return theme.fail('no token');
  // Okta said the token is dead: no count of idle days brings it back.
  if (item.lastTest?.code === ExitCode.auth) return theme.fail('dead');
  const days = daysUntil(item.idleExpiresAt, now);
  if (days < 0) return theme.fail('likely expired');
  const text = `in ${String(days)}d`;
  return isExpiringSoon(item.idleExpiresAt, now) ? theme.warn(text) : text;
}
