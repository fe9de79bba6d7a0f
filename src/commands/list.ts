import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { daysUntil, idleExpiresAt, isExpiringSoon, type ConnectionRecord } from '../domain/connection.js';
import { orgUrlVar, tokenVar } from '../domain/env-overrides.js';
import { ExitCode } from '../domain/errors.js';
import { formatTable } from '../io/table.js';
import type { Theme } from '../io/theme.js';
import { envOnlyNames, type TokenSource } from './resolve.js';

export const listOptionsSchema = z.object({ json: z._default(z.boolean(), false) });
export type ListOptions = z.output<typeof listOptionsSchema>;
/**
 * Metadata first: list works, fast, with the keychain locked or absent. The contract also says list never shows a
 * connection whose token is missing without saying so, which only the keychain knows: it gets one brief look.
 */
export type ListDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'metadata' | 'secrets'>;

const KEYCHAIN_GLANCE_MS = 1_500;

export function listCommand(run: (opts: ListOptions) => Promise<void>): Command {
  return new Command('list')
    .description('list saved connections (never the token)')
    .option('--json', 'print an array of connections as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  okta-connect list\n  okta-connect list --json | jq -r \'.[].name\'')
    .action(async (opts: unknown) => {
      await run(listOptionsSchema.parse(opts));
    });
}

/** The `list --json` element; `add --json` prints the same shape. */
export interface ListItem {
  name: string;
  orgUrl: string;
  /** `missing`: saved, but its token is not in the keychain (doctor explains). */
  source: TokenSource | 'missing';
  createdAt: string | null;
  owner: ConnectionRecord['owner'];
  lastTest: ConnectionRecord['lastTest'];
  lastUsedAt: string | null;
  idleExpiresAt: string | null;
}

export function listItem(record: ConnectionRecord, source: TokenSource): ListItem {
  return {
    name: record.name,
    orgUrl: record.orgUrl,
    source,
    createdAt: record.createdAt,
    owner: record.owner,
    lastTest: record.lastTest,
    lastUsedAt: record.lastUsedAt,
    idleExpiresAt: idleExpiresAt(record),
  };
}

/** Saved connections and environment-only ones, by name. Reads metadata only: works with the keychain locked or absent. */
export function listItems(env: Context['env'], records: ConnectionRecord[]): ListItem[] {
  const saved = records.map((record) => {
    const envUrl = env[orgUrlVar(record.name)];
    const item = listItem(record, env[tokenVar(record.name)] ? 'env' : 'keychain');
    return envUrl ? { ...item, orgUrl: envUrl } : item;
  });
  const envOnly = envOnlyNames(env, records).map(
    (name): ListItem => ({
      name,
      orgUrl: env[orgUrlVar(name)] ?? '',
      source: 'env',
      createdAt: null,
      owner: null,
      lastTest: null,
      lastUsedAt: null,
      idleExpiresAt: null,
    }),
  );
  return [...saved, ...envOnly].sort((a, b) => a.name.localeCompare(b.name));
}

export async function listRun(deps: ListDeps, opts: ListOptions): Promise<number> {
  const records = await deps.metadata.list();
  const listed = listItems(deps.env, records);
  const inKeychain = listed.filter((item) => item.source === 'keychain').map((item) => item.name);
  const stored = inKeychain.length > 0 ? await deps.secrets.present(inKeychain, KEYCHAIN_GLANCE_MS) : undefined;
  const items = listed.map((item): ListItem =>
    stored !== undefined && item.source === 'keychain' && !stored.has(item.name) ? { ...item, source: 'missing' } : item,
  );
  if (stored === undefined && items.some((item) => item.source === 'keychain')) {
    deps.io.stderr.write('note: the keychain did not answer, so the tokens were not checked (okta-connect doctor tells why)\n');
  }
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (items.length === 0) {
    deps.io.stderr.write('No connections saved yet. Create one with: okta-connect add\n');
    return ExitCode.ok;
  }
  const now = deps.clock.now();
  const rows = items.map((item) => [
    item.name,
    item.orgUrl,
    item.owner?.login ?? item.owner?.id ?? '-',
    lastTestCell(item, now, deps.theme),
    expiresCell(item, now, deps.theme),
    item.source,
  ]);
  deps.io.stdout.write(formatTable(['NAME', 'ORG URL', 'OWNER', 'LAST TEST', 'EXPIRES', 'SOURCE'], rows));
  return ExitCode.ok;
}

function lastTestCell(item: ListItem, now: Date, theme: Theme): string {
  if (!item.lastTest) return 'never';
  const ago = relative(now.getTime() - Date.parse(item.lastTest.at));
  return item.lastTest.ok ? theme.ok(`ok ${ago} ago`) : theme.fail(`failed (${String(item.lastTest.code)}) ${ago} ago`);
}

/** "in 23d", "in 4d" (warning colour under 7 days) or "likely expired". */
export function expiresCell(item: Pick<ListItem, 'idleExpiresAt' | 'source'>, now: Date, theme: Theme): string {
  if (item.idleExpiresAt === null) return '-';
  if (item.source === 'missing') return theme.fail('no token');
  const days = daysUntil(item.idleExpiresAt, now);
  if (days < 0) return theme.fail('likely expired');
  const text = `in ${String(days)}d`;
  return isExpiringSoon(item.idleExpiresAt, now) ? theme.warn(text) : text;
}

function relative(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${String(minutes)}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${String(hours)}h`;
  return `${String(Math.floor(hours / 24))}d`;
}
