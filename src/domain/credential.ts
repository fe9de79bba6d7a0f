import { nodeCrypto } from './builtins.js';
import { parseToken, type Normalised } from './connection.js';
import { UsageError } from './errors.js';
import { parseClientId, parsePrivateKey, parseScopes, privateKeyParts, type PrivateJwk } from './oauth.js';

/**
 * What proves a connection's identity to Okta. One kind today, shaped so that another (an OAuth 2.0 service app:
 * client id, private key, key id, scopes) is one more member of the union, and only the store and the Okta adapter
 * look inside.
 */
export interface ApiTokenCredential {
  kind: 'api-token';
  token: string;
}
/** An OAuth 2.0 API Services app with private key JWT client authentication; the private key is a private JWK. */
export interface OAuthCredential {
  kind: 'oauth';
  clientId: string;
  scopes: string[];
  keyId: string;
  privateKey: PrivateJwk;
}
export type Credential = ApiTokenCredential | OAuthCredential;
export type CredentialKind = Credential['kind'];

/** Where a connection's secret came from at use time: the OS keychain, the environment, or the connection's secret command. */
export type SecretSource = 'keychain' | 'env' | 'command';

/** The record's `kind`, as `list` shows it and connections.json stores it. */
export type ConnectionKind = 'token' | 'oauth';

const KIND_OF: Record<CredentialKind, ConnectionKind> = { 'api-token': 'token', oauth: 'oauth' };

export function kindOf(credential: Credential): ConnectionKind {
  return KIND_OF[credential.kind];
}

/** The one string a secret store keeps for this credential. */
const SECRET_OF: { [K in CredentialKind]: (credential: Extract<Credential, { kind: K }>) => string } = {
  'api-token': (credential) => credential.token,
  // One JSON secret: the key and everything needed to use it, so a keychain entry is whole on its own.
  oauth: (credential) =>
    JSON.stringify({ clientId: credential.clientId, scopes: credential.scopes, keyId: credential.keyId, privateKey: credential.privateKey }),
};

export function secretOf(credential: Credential): string {
  return credential.kind === 'oauth' ? SECRET_OF.oauth(credential) : SECRET_OF['api-token'](credential);
}

/** The parts of an OAuth credential, validated as on input (the key parsed with node:crypto, the scopes by name). */
export function oauthCredential(parts: { clientId: string; scopes: string; privateKey: string; keyId?: string | undefined }): Normalised<OAuthCredential> {
  const clientId = parseClientId(parts.clientId);
  const scopes = parseScopes(parts.scopes);
  const key = parsePrivateKey(parts.privateKey, parts.keyId);
  return {
    value: { kind: 'oauth', clientId: clientId.value, scopes, keyId: key.value.kid, privateKey: key.value },
    // The client id's shape notice is said where the id is typed or given (parseClientId), not again here.
    notices: key.notices,
  };
}

function oauthFromSecret(secret: string): Normalised<Credential> {
  let parsed: { clientId?: unknown; scopes?: unknown; keyId?: unknown; privateKey?: unknown };
  try {
    parsed = JSON.parse(secret) as typeof parsed;
  } catch {
    throw new UsageError('the OAuth secret is not JSON');
  }
  if (typeof parsed.clientId !== 'string' || !Array.isArray(parsed.scopes) || typeof parsed.privateKey !== 'object' || parsed.privateKey === null) {
    throw new UsageError('the OAuth secret lacks its client id, scopes or private key');
  }
  return oauthCredential({
    clientId: parsed.clientId,
    scopes: parsed.scopes.join(' '),
    privateKey: JSON.stringify(parsed.privateKey),
    keyId: typeof parsed.keyId === 'string' ? parsed.keyId : undefined,
  });
}

/** A credential from the string a secret store (or the environment, or stdin) held, validated as on input. */
const FROM_SECRET: Record<ConnectionKind, (secret: string) => Normalised<Credential>> = {
  token: (secret) => {
    const { value, notices } = parseToken(secret);
    return { value: { kind: 'api-token', token: value }, notices };
  },
  oauth: oauthFromSecret,
};

export function credentialFromSecret(kind: ConnectionKind, secret: string): Normalised<Credential> {
  return FROM_SECRET[kind](secret);
}

/**
 * What a secret command prints: an API token, or the private key (PEM or JWK) of an OAuth app whose client id, scopes
 * and kid the metadata holds. The key is validated as a stored one is; a JWK whose own kid is not `keyId` is refused.
 */
export type PrintedSecret = { kind: 'token' } | { kind: 'oauth'; clientId: string; scopes: readonly string[]; keyId: string | undefined };

export function credentialFromPrinted(expected: PrintedSecret, printed: string): Normalised<Credential> {
  if (expected.kind === 'token') return credentialFromSecret('token', printed);
  return oauthCredential({ clientId: expected.clientId, scopes: expected.scopes.join(' '), privateKey: printed, keyId: expected.keyId });
}

/** What the secret command of a saved connection must print; an OAuth record without its client id or scopes is refused. */
export function printedSecretOf(record: { name: string; kind: ConnectionKind; clientId?: string | undefined; scopes?: string[] | undefined; keyId?: string | undefined }): PrintedSecret {
  if (record.kind === 'token') return { kind: 'token' };
  if (record.clientId === undefined || record.scopes === undefined) {
    throw new UsageError(`the record of "${record.name}" has no client id or scopes`, { hint: `save it again: okta-connect add --oauth ${record.name} --force` });
  }
  return { kind: 'oauth', clientId: record.clientId, scopes: record.scopes, keyId: record.keyId };
}

/** Every value of the credential that must never be printed. */
export function secretParts(credential: Credential): string[] {
  return credential.kind === 'oauth' ? [secretOf(credential), JSON.stringify(credential.privateKey), ...privateKeyParts(credential.privateKey)] : [credential.token];
}

/**
 * A short, one-way fingerprint of the secret, kept in the metadata beside the address it was saved for: a secret that
 * does not match it (another process's half-done save, a hand-edited keychain) is never sent.
 */
export function fingerprintOf(credential: Credential): string {
  return `sha256:${nodeCrypto().createHash('sha256').update(secretOf(credential)).digest('hex').slice(0, 16)}`;
}
