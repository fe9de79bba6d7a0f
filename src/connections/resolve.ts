import { byName, parseOrgUrl, type ConnectionRecord } from '../domain/connection.js';
import { credentialFromSecret, oauthCredential, type Credential } from '../domain/credential.js';
import { clientIdVar, envConnectionKeys, envKey, keyIdVar, orgUrlVar, privateKeyVar, scopesVar, tokenVar } from '../domain/env-overrides.js';
import { NotFoundError, UsageError } from '../domain/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What the environment says of one connection: `OKTA_CONNECT_<NAME>_TOKEN` and `_ORG_URL`, each validated. */
export interface EnvOverride {
  orgUrl: string | undefined;
  /** The raw secret, for the redactor, and the credential made of it. */
  secret: string | undefined;
  credential: Credential | undefined;
}

export function envOverride(env: Env, name: string): EnvOverride {
  const rawUrl = env[orgUrlVar(name)];
  const clientId = env[clientIdVar(name)];
  if (clientId) {
    // An OAuth connection from the environment: all of its parts, or a usage error naming the missing one.
    const key = env[privateKeyVar(name)];
    const scopes = env[scopesVar(name)];
    const missing = !key ? privateKeyVar(name) : !scopes ? scopesVar(name) : undefined;
    if (missing) throw new UsageError(`${clientIdVar(name)} is set but ${missing} is not`, { hint: `set ${missing} too, or unset ${clientIdVar(name)}` });
    return {
      orgUrl: rawUrl ? fromVariable(orgUrlVar(name), () => parseOrgUrl(rawUrl).value) : undefined,
      secret: key,
      credential: fromVariable(privateKeyVar(name), () => oauthCredential({ clientId, scopes: scopes ?? '', privateKey: key ?? '', keyId: env[keyIdVar(name)] }).value),
    };
  }
  const secret = env[tokenVar(name)];
  return {
    orgUrl: rawUrl ? fromVariable(orgUrlVar(name), () => parseOrgUrl(rawUrl).value) : undefined,
    secret: secret || undefined,
    credential: secret ? fromVariable(tokenVar(name), () => credentialFromSecret('token', secret).value) : undefined,
  };
}

function fromVariable<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${variable}: ${error.message}`, { hint: `fix or unset ${variable}`, cause: error });
    throw error;
  }
}

export function notFound(name: string, records: ConnectionRecord[], hint?: string): NotFoundError {
  const names = records.map((record) => record.name);
  const close = names.filter((candidate) => candidate.startsWith(name.slice(0, 2)) || name.startsWith(candidate));
  const known = names.length === 0 ? 'no connections are saved' : `saved: ${names.join(', ')}`;
  return new NotFoundError(`no connection named "${name}" (${known})`, {
    hint:
      hint ??
      (close[0] !== undefined ? `did you mean "${close[0]}"? See okta-connect list` : `create it with: okta-connect add --name ${name}`),
  });
}

/** Names of connections that exist only in the environment (both variables set, nothing saved). */
export function envOnlyNames(env: Env, records: ConnectionRecord[]): string[] {
  const savedKeys = new Set(records.map((record) => envKey(record.name)));
  return envConnectionKeys(env)
    .filter((key) => !savedKeys.has(key))
    .map((key) => key.toLowerCase())
    .filter((name) => (env[tokenVar(name)] || env[clientIdVar(name)]) && env[orgUrlVar(name)]);
}

/** Every connection's name, saved or environment-only, in name order: what --all tests and the picker offers. */
export function connectionNames(env: Env, records: ConnectionRecord[]): string[] {
  return [...records.map((record) => record.name), ...envOnlyNames(env, records)].map((name) => ({ name })).sort(byName).map(({ name }) => name);
}
