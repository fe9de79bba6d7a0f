import { idleExpiresAt, orgUrlSchema, type ConnectionRecord } from '../domain/connection.js';
import { ExitCode, type CliError, type OAuthRefusal } from '../domain/errors.js';
import { withoutUserInfo } from '../domain/org-url.js';
import { printable } from '../domain/printable.js';
import { keyIdVar, privateKeyVar, tokenVar } from '../domain/env-overrides.js';
import { displayCommand } from '../domain/secret-command.js';
import { appConsoleUrl } from '../domain/oauth.js';
import type { ProbeResult } from './probe.js';
import type { ListedConnection, ResolvedConnection } from './store.js';

/** The `list --json` element; `add --json` prints the same shape. Fields are only ever added. */
export interface ListItem {
  name: string;
  kind: ListedConnection['kind'];
  orgUrl: string;
  /** `missing`: saved, but its secret is not in the keychain (doctor explains); `command`: a command prints it. */
  source: ListedConnection['source'];
  createdAt: string | null;
  owner: ConnectionRecord['owner'];
  lastTest: ConnectionRecord['lastTest'];
  lastUsedAt: string | null;
  /** null for OAuth connections: an access token is fresh on every use, and nothing expires when idle. */
  idleExpiresAt: string | null;
  /** Only on a connection whose secret a command prints: the argv (which never holds a secret). */
  secretCommand?: string[];
  /** OAuth connections only (not secret): the app's client id, the scopes asked for, the key's kid. */
  clientId?: string;
  scopes?: string[];
  keyId?: string;
  /** Only when the CI variables make no usable connection (test, token and exec refuse it): what is wrong with them. */
  envProblem?: string;
}

export function listItem(connection: ListedConnection): ListItem {
  const { record } = connection;
  return {
    name: connection.name,
    kind: connection.kind,
    // A saved address was checked on read to be its own normal form: only an environment one is normalised here.
    orgUrl: record !== undefined && connection.orgUrl === record.orgUrl ? record.orgUrl : shownOrgUrl(connection.orgUrl),
    source: connection.source,
    createdAt: record?.createdAt ?? null,
    owner: record?.owner ?? null,
    lastTest: record?.lastTest ?? null,
    lastUsedAt: record?.lastUsedAt ?? null,
    idleExpiresAt: record && connection.kind !== 'oauth' ? idleExpiresAt(record) : null,
    ...(connection.kind === 'oauth' ? oauthItem(connection) : {}),
    ...(record?.secretCommand ? { secretCommand: record.secretCommand } : {}),
    ...(connection.envProblem === undefined ? {} : { envProblem: connection.envProblem }),
  };
}

/** The OAuth fields of a list item: from the CI variables when they are set (they win), else from the record. */
function oauthItem(connection: ListedConnection): Pick<ListItem, 'clientId' | 'scopes' | 'keyId'> {
  const { record, env } = connection;
  const item: Pick<ListItem, 'clientId' | 'scopes' | 'keyId'> = {};
  const clientId = env ? env.clientId : record?.clientId;
  if (clientId !== undefined) item.clientId = printable(clientId);
  const scopes = env ? env.scopes : record?.scopes;
  if (scopes !== undefined) item.scopes = scopes.map((scope) => printable(scope));
  const keyId = env ? env.keyId : record?.keyId;
  if (keyId !== undefined) item.keyId = printable(keyId);
  return item;
}

/**
 * An address as list shows it. A saved one is valid already; one from OKTA_CONNECT_<NAME>_ORG_URL is shown normalised,
 * or, when it is not valid (test refuses it), without user-info (`https://user:password@…`) or control characters.
 */
function shownOrgUrl(raw: string): string {
  const parsed = orgUrlSchema.safeParse(raw);
  return parsed.success ? parsed.data.value : printable(withoutUserInfo(raw));
}

/**
 * What to do after Okta refused a connection's secret: replace it (replaceStep) when the secret itself is what Okta
 * refused (an API token's 401, an OAuth key whose signature does not verify); add the public key to the app when its
 * kid is not there; nothing more for a clock, DPoP or app setting, which no new key fixes (the hint says what does).
 */
export function nextStepAfter(
  error: Pick<CliError, 'message' | 'details'>,
  connection: Pick<ResolvedConnection, 'name' | 'source' | 'credential' | 'record' | 'orgUrl'>,
): { step: string; isWholeHint: boolean } | undefined {
  const refusal = connection.credential.kind === 'oauth' ? error.details.refusal : undefined;
  if (refusal === undefined || refusal === 'key') return { step: replaceStep(connection), isWholeHint: false };
  if (refusal === 'kid' && connection.credential.kind === 'oauth') {
    const other =
      connection.source === 'env'
        ? `set ${keyIdVar(connection.name)} to it`
        : connection.source === 'command'
          ? `save it again with: okta-connect add --oauth ${connection.name} --force --key-id <KID>`
          : `save it again with: okta-connect rotate ${connection.name} --private-key-file <file> --key-id <KID>`;
    const app = appConsoleUrl(connection.orgUrl, connection.credential.clientId);
    return {
      step: `add the public key (kid ${connection.credential.keyId}) to the app's Public keys (${app}), then: okta-connect test ${connection.name} (if the app lists the key under another KID, ${other})`,
      isWholeHint: true,
    };
  }
  return undefined;
}

/**
 * Where a secret that Okta rejected gets replaced: the variable it came from, the user's secret manager, or rotate
 * (which reaches only the keychain).
 */
export function replaceStep(connection: Pick<ResolvedConnection, 'name' | 'source' | 'credential' | 'record'>): string {
  const isOAuth = connection.credential.kind === 'oauth';
  const what = isOAuth ? 'key' : 'token';
  const command = connection.source === 'command' ? connection.record?.secretCommand : null;
  if (connection.source === 'env') return `the ${what} came from ${isOAuth ? privateKeyVar(connection.name) : tokenVar(connection.name)}: update that secret`;
  if (command) return `the ${what} came from ${displayCommand(command)}: update it in your secret manager`;
  return `then save it with: okta-connect rotate ${connection.name}`;
}

/** The `test --json` element. OAuth connections add `oauth`: what the test found, or null when it failed. */
export function testJson(connection: Pick<ResolvedConnection, 'name' | 'orgUrl' | 'credential'>, result: ProbeResult): object {
  return {
    name: connection.name,
    orgUrl: connection.orgUrl,
    ok: result.ok,
    latencyMs: result.latencyMs,
    owner: result.owner ? { id: result.owner.id, login: result.owner.login, status: result.owner.status ?? null } : null,
    roles: result.roles,
    rateLimit: result.rateLimit,
    ...(connection.credential.kind === 'oauth' ? { oauth: result.oauth ?? null } : {}),
    error: errorJson(result.error),
  };
}

export function errorJson(error: CliError | null): object | null {
  if (!error) return null;
  return {
    code: error.exitCode,
    message: error.message,
    httpStatus: error.details.httpStatus ?? null,
    oktaErrorCode: error.details.oktaErrorCode ?? null,
    oktaErrorId: error.details.oktaErrorId ?? null,
  };
}

/** What a successful test should make the user think about: a fragile owner, too much power, a rate limit nearly used. */
export function testWarnings(result: Pick<ProbeResult, 'owner' | 'roles' | 'rateLimit'>): string[] {
  const warnings: string[] = [];
  if (result.owner?.status && result.owner.status !== 'ACTIVE') {
    warnings.push(`the token's owner is ${printable(result.owner.status)}: the token stops working if the account is deactivated`);
  }
  if (result.roles?.some((role) => /super admin/i.test(role) || role === 'SUPER_ADMIN')) {
    warnings.push('this is a Super Administrator token: prefer a service account with a narrower admin role');
  }
  if (result.rateLimit && result.rateLimit.limit > 0 && result.rateLimit.remaining / result.rateLimit.limit < 0.1) {
    warnings.push(`rate limit nearly used up: ${String(result.rateLimit.remaining)} of ${String(result.rateLimit.limit)} left`);
  }
  return warnings;
}

/** "Super Administrator", or "Org Administrator +1". */
export function summariseRoles(roles: string[]): string {
  if (roles.length === 0) return 'no admin role';
  const [first, ...rest] = roles;
  return rest.length === 0 ? (first ?? '') : `${first ?? ''} +${String(rest.length)}`;
}

/** "as ada@acme.com (Super Administrator)", or nothing when the owner is not known. */
export function ownerText(result: Pick<ProbeResult, 'owner' | 'roles' | 'oauth'>): string {
  if (!result.owner) return '';
  if (result.oauth) return printable(oauthText(result.owner.id, result.oauth));
  return printable(`as ${result.owner.login ?? result.owner.id}${result.roles === null ? '' : ` (${summariseRoles(result.roles)})`}`);
}

/** "as client 0oa…  scopes okta.users.read  token 1h  DPoP  (GET /api/v1/users?limit=1)". */
function oauthText(clientId: string, oauth: NonNullable<ProbeResult['oauth']>): string {
  const lifetime = oauth.expiresInS === null ? 'unknown' : oauth.expiresInS >= 3600 && oauth.expiresInS % 3600 === 0 ? `${String(oauth.expiresInS / 3600)}h` : `${String(Math.round(oauth.expiresInS / 60))}m`;
  return [
    `as client ${clientId}`,
    `scopes ${oauth.scopes === null ? '(not said)' : oauth.scopes.join(' ')}`,
    `token ${lifetime}`,
    oauth.isDPoP ? 'DPoP required' : 'no DPoP',
    oauth.checked === null ? 'no check call for these scopes' : oauth.checked,
  ].join('  ');
}

type LastTest = NonNullable<ConnectionRecord['lastTest']>;

/** What the last test found, in words, and when: `ok 2h ago`, `revoked (401) 3d ago`, `not an Okta org 5m ago`. */
export function lastTestWords(test: LastTest, now: Date, kind: ConnectionRecord['kind'] = 'token'): string {
  const ago = relative(now.getTime() - Date.parse(test.at));
  return `${test.ok ? 'ok' : kind === 'oauth' ? oauthFailureWords(test) : failureWords(test)} ${ago} ago`;
}

/** An OAuth connection's failed test: what Okta refused, never "revoked" (a key is not revoked, it is removed from the app). */
const OAUTH_REFUSAL_WORDS: Record<OAuthRefusal, string> = {
  key: 'key refused',
  kid: 'kid not in app',
  client: 'unknown client',
  clock: 'clock off',
  dpop: 'DPoP refused',
  method: 'not private key JWT',
  grant: 'no client credentials grant',
  scope: 'scope not granted',
  other: 'client refused',
};

function oauthFailureWords(test: LastTest): string {
  const reason = test.reason as OAuthRefusal | undefined;
  if (reason !== undefined && Object.hasOwn(OAUTH_REFUSAL_WORDS, reason)) return `${OAUTH_REFUSAL_WORDS[reason]}${test.httpStatus === null ? '' : ` (${String(test.httpStatus)})`}`;
  // Recorded before `reason` was: invalid_scope is the token endpoint's 400; any other 401 is the client or its key.
  if (test.code === ExitCode.permission && test.httpStatus === 400) return 'scope not granted (400)';
  if (test.code === ExitCode.auth) return `refused (${String(test.httpStatus ?? 401)})`;
  return failureWords(test);
}

function failureWords(test: LastTest): string {
  const status = test.httpStatus;
  const words: Partial<Record<number, string>> = {
    [ExitCode.auth]: 'revoked (401)',
    [ExitCode.permission]: 'no permission (403)',
    [ExitCode.network]: 'unreachable',
    [ExitCode.keychain]: 'keychain error',
    [ExitCode.notFound]: 'not found',
  };
  if (test.code === ExitCode.badResponse) {
    if (status === 429) return 'rate limited (429)';
    if (status !== null && status >= 500) return `Okta error (${String(status)})`;
    return 'not an Okta org';
  }
  return words[test.code] ?? `failed (exit ${String(test.code)})`;
}

function relative(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${String(minutes)}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${String(hours)}h`;
  return `${String(Math.floor(hours / 24))}d`;
}
