import type { Context } from '../context.js';
import { parseOrgUrl, parseToken, type ConnectionRecord } from '../domain/connection.js';
import { envConnectionKeys, envKey, orgUrlVar, tokenVar } from '../domain/env-overrides.js';
import { NotFoundError, UsageError } from '../domain/errors.js';

export type TokenSource = 'keychain' | 'env';

/** A connection ready to use: its address, its token, and where each came from. */
export interface ResolvedConnection {
  name: string;
  orgUrl: string;
  token: string;
  source: TokenSource;
  /** The saved metadata, when the connection is saved on this machine. */
  record: ConnectionRecord | undefined;
}

/**
 * Find a connection's address and token: the environment variables win over the keychain, and with both variables
 * set the connection works where it was never saved.
 */
export async function resolveConnection(
  deps: Pick<Context, 'env' | 'metadata' | 'secrets' | 'secretsSeen'>,
  name: string,
  records?: ConnectionRecord[],
): Promise<ResolvedConnection> {
  const all = records ?? (await deps.metadata.list());
  const record = all.find((candidate) => candidate.name === name);
  const envToken = deps.env[tokenVar(name)];
  const envUrl = deps.env[orgUrlVar(name)];
  const orgUrl = envUrl ? parseEnv(orgUrlVar(name), () => parseOrgUrl(envUrl).value) : record?.orgUrl;
  if (orgUrl === undefined) {
    if (envToken) {
      throw new NotFoundError(`no connection named "${name}": ${tokenVar(name)} is set but ${orgUrlVar(name)} is not`, {
        hint: `set ${orgUrlVar(name)}=https://<your-org>.okta.com as well`,
      });
    }
    throw notFound(name, all);
  }
  if (envToken) {
    const token = parseEnv(tokenVar(name), () => parseToken(envToken).value);
    deps.secretsSeen.add(token);
    return { name, orgUrl, token, source: 'env', record };
  }
  const token = await deps.secrets.get(name);
  if (token === undefined) {
    if (!record) throw notFound(name, all);
    throw new NotFoundError(`the connection "${name}" has no token in the OS keychain`, {
      hint: `save it again with: okta-connect add --name ${name} --org-url ${record.orgUrl} --force`,
    });
  }
  deps.secretsSeen.add(token);
  return { name, orgUrl, token, source: 'keychain', record };
}

function parseEnv<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${variable}: ${error.message}`, { hint: `fix or unset ${variable}` });
    throw error;
  }
}

export function notFound(name: string, records: ConnectionRecord[]): NotFoundError {
  const names = records.map((record) => record.name);
  const close = names.filter((candidate) => candidate.startsWith(name.slice(0, 2)) || name.startsWith(candidate));
  const known = names.length === 0 ? 'no connections are saved' : `saved: ${names.join(', ')}`;
  return new NotFoundError(`no connection named "${name}" (${known})`, {
    hint:
      close.length > 0 && close[0] !== undefined
        ? `did you mean "${close[0]}"? See okta-connect list`
        : `create it with: okta-connect add --name ${name}`,
  });
}

/** Every connection's name, saved or environment-only, sorted: what --all tests and the picker offers. */
export function connectionNames(env: Context['env'], records: ConnectionRecord[]): string[] {
  return [...records.map((record) => record.name), ...envOnlyNames(env, records)].sort();
}

/** Names of connections that exist only in the environment (both variables set, nothing saved). */
export function envOnlyNames(env: Context['env'], records: ConnectionRecord[]): string[] {
  const savedKeys = new Set(records.map((record) => envKey(record.name)));
  return envConnectionKeys(env)
    .filter((key) => !savedKeys.has(key))
    .map((key) => key.toLowerCase())
    .filter((name) => env[tokenVar(name)] && env[orgUrlVar(name)]);
}

/**
 * exec and token hand the token out, and the tool it goes to probably calls Okta with it, which renews the 30-day idle
 * expiry. Recorded as "probably used"; a failure to record is only a notice, never a failed command.
 */
export async function markHandedOut(
  deps: Pick<Context, 'metadata' | 'clock' | 'io'>,
  connection: ResolvedConnection,
): Promise<void> {
  if (connection.source !== 'keychain' || connection.record === undefined) return;
  const at = deps.clock.now().toISOString();
  try {
    await deps.metadata.update((connections) =>
      connections.map((saved) => (saved.name === connection.name ? { ...saved, lastUsedAt: at } : saved)),
    );
  } catch (error) {
    deps.io.stderr.write(`note: could not record the use of "${connection.name}": ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
