/** `OKTA_CONNECT_<NAME>_TOKEN` / `_ORG_URL`: `<NAME>` is the name upper-cased with "-" as "_". */
export function envKey(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

export const tokenVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_TOKEN`;
export const orgUrlVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_ORG_URL`;
/** An OAuth connection in CI: the client id, the private key (PEM or JWK), the scopes and the key id. */
export const clientIdVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_CLIENT_ID`;
export const privateKeyVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_PRIVATE_KEY`;
export const scopesVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_SCOPES`;
export const keyIdVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_KEY_ID`;

/** The OAuth variables that mean nothing without `_CLIENT_ID` beside them. */
export const oauthPartVars = (name: string): string[] => [privateKeyVar(name), scopesVar(name), keyIdVar(name)];

/** The keys of every connection named in the environment (any of its variables), e.g. `PROD`, `MY_ORG`. */
export function envConnectionKeys(env: Readonly<Record<string, string | undefined>>): string[] {
  const keys = new Set<string>();
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || value === '' || !variable.startsWith('OKTA_CONNECT_')) continue;
    const match = /^OKTA_CONNECT_([A-Z0-9][A-Z0-9_]*)_(TOKEN|ORG_URL|CLIENT_ID|PRIVATE_KEY|SCOPES|KEY_ID)$/.exec(variable);
    if (match?.[1] !== undefined) keys.add(match[1]);
  }
  return [...keys].sort();
}
