import { byName, parseOrgUrl, type ConnectionRecord } from '../domain/connection.js';
import { credentialFromSecret, oauthCredential, type Credential } from '../domain/credential.js';
import { clientIdVar, envConnectionKeys, envKey, keyIdVar, oauthPartVars, orgUrlVar, privateKeyVar, scopesVar, tokenVar } from '../domain/env-overrides.js';
import { OR_GENERATE, parseClientId, parsePrivateKey, parseScopes } from '../domain/oauth.js';
import { NotFoundError, UsageError } from '../domain/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What the environment says of one connection: `OKTA_CONNECT_<NAME>_TOKEN` (or the OAuth variables) and `_ORG_URL`, each validated. */
export interface EnvOverride {
  orgUrl: string | undefined;
  /** The raw secret, for the redactor, and the credential made of it. */
  secret: string | undefined;
  credential: Credential | undefined;
  /** The variable the secret came from (`_TOKEN` or `_PRIVATE_KEY`), to name in hints. */
  secretVar: string | undefined;
}

/**
 * The environment's connection of this name. A partial or contradictory set of variables (an OAuth part without
 * `_CLIENT_ID`, `_CLIENT_ID` without its key or scopes, `_TOKEN` and `_CLIENT_ID` both) and a value that does not
 * parse are usage errors naming the variable: never a silent fall back to the keychain. No message quotes a key.
 */
export function envOverride(env: Env, name: string): EnvOverride {
  const rawUrl = env[orgUrlVar(name)];
  const orgUrl = rawUrl ? fromVariable(orgUrlVar(name), () => parseOrgUrl(rawUrl).value) : undefined;
  const problem = envSetProblem(env, name);
  if (problem?.kind === 'both') {
    throw new UsageError(`${tokenVar(name)} and ${clientIdVar(name)} are both set: a connection is an API token or an OAuth app, not both`, {
      hint: `unset one of them`,
    });
  }
  if (problem?.kind === 'missing') {
    // An OAuth connection from the environment: all of its parts, or a usage error naming the missing one.
    const { missing } = problem;
    const states = missing.map((part) => ({ variable: part.variable, state: part.isEmpty ? 'empty' : 'not set' }));
    const said =
      states.length > 1 && states.every((part) => part.state === states[0]?.state)
        ? `${states.map((part) => part.variable).join(' and ')} are ${states[0]?.state ?? ''}`
        : states.map((part) => `${part.variable} is ${part.state}`).join(' and ');
    const holds = (variable: string): string => (variable === privateKeyVar(name) ? 'the private key, PEM or JWK' : 'the Okta API scopes');
    throw new UsageError(`${clientIdVar(name)} is set but ${said}`, {
      hint: `set ${missing.map((part) => `${part.variable} (${holds(part.variable)})`).join(' and ')} too, or unset ${clientIdVar(name)}`,
    });
  }
  if (problem?.kind === 'stray') {
    const [stray] = problem.variables;
    throw new UsageError(`${stray ?? ''} is set but ${clientIdVar(name)} is not`, {
      hint: `set ${clientIdVar(name)} to the app's client id (0oa…) as well, or unset ${stray ?? ''}`,
    });
  }
  const clientId = env[clientIdVar(name)];
  const key = env[privateKeyVar(name)];
  const scopes = env[scopesVar(name)];
  if (clientId && key && scopes) {
    const keyId = env[keyIdVar(name)] || undefined;
    const credential = oauthFromVariables(name, { clientId, scopes, key, keyId });
    return { orgUrl, secret: key, credential, secretVar: privateKeyVar(name) };
  }
  const token = env[tokenVar(name)];
  return {
    orgUrl,
    secret: token || undefined,
    credential: token ? fromVariable(tokenVar(name), () => credentialFromSecret('token', token).value) : undefined,
    secretVar: token ? tokenVar(name) : undefined,
  };
}

/**
 * What is wrong with the set of a name's variables, judged by which are set (empty is unset), no value read: both a
 * token and a client id; a client id without its key or scopes; a key, scopes or kid without a client id. What
 * envOverride refuses, and list says without reading a key.
 */
export type EnvSetProblem =
  | { kind: 'both' }
  | { kind: 'missing'; missing: { variable: string; isEmpty: boolean }[] }
  | { kind: 'stray'; variables: string[] };

export function envSetProblem(env: Env, name: string): EnvSetProblem | undefined {
  if (env[clientIdVar(name)]) {
    if (env[tokenVar(name)]) return { kind: 'both' };
    const missing = [privateKeyVar(name), scopesVar(name)].filter((variable) => !env[variable]).map((variable) => ({ variable, isEmpty: env[variable] === '' }));
    return missing.length > 0 ? { kind: 'missing', missing } : undefined;
  }
  const variables = oauthPartVars(name).filter((variable) => env[variable]);
  return variables.length > 0 ? { kind: 'stray', variables } : undefined;
}

/** Each part checked under its own variable, so the message names the one to fix. */
function oauthFromVariables(name: string, parts: { clientId: string; scopes: string; key: string; keyId: string | undefined }): Credential {
  fromVariable(clientIdVar(name), () => parseClientId(parts.clientId));
  fromVariable(scopesVar(name), () => parseScopes(parts.scopes));
  fromVariable(privateKeyVar(name), () => parsePrivateKey(parts.key));
  return fromVariable(parts.keyId === undefined ? privateKeyVar(name) : keyIdVar(name), () =>
    oauthCredential({ clientId: parts.clientId, scopes: parts.scopes, privateKey: parts.key, keyId: parts.keyId }).value,
  );
}

function fromVariable<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) {
      // A key can be generated at `add`, not in CI: there the variable is the key.
      const hint = error.hint?.replace(OR_GENERATE, '');
      throw new UsageError(`${variable}: ${error.message}`, { hint: hint ? `${hint}; or unset ${variable}` : `fix or unset ${variable}`, cause: error });
    }
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

/**
 * Names of connections that exist only in the environment: an address and a secret variable set (a token, or any OAuth
 * one: a partial OAuth set is listed, so that test --all and doctor say what is missing), nothing saved.
 */
export function envOnlyNames(env: Env, records: ConnectionRecord[]): string[] {
  const savedKeys = new Set(records.map((record) => envKey(record.name)));
  return envConnectionKeys(env)
    .filter((key) => !savedKeys.has(key))
    .map((key) => key.toLowerCase())
    .filter((name) => env[orgUrlVar(name)] && [tokenVar(name), clientIdVar(name), ...oauthPartVars(name)].some((variable) => env[variable]));
}

/** The environment names an OAuth connection of this name (its client id, or any other OAuth variable). */
export function isOAuthInEnv(env: Env, name: string): boolean {
  return [clientIdVar(name), ...oauthPartVars(name)].some((variable) => env[variable]);
}

/** Every connection's name, saved or environment-only, in name order: what --all tests and the picker offers. */
export function connectionNames(env: Env, records: ConnectionRecord[]): string[] {
  return [...records.map((record) => record.name), ...envOnlyNames(env, records)].map((name) => ({ name })).sort(byName).map(({ name }) => name);
}
