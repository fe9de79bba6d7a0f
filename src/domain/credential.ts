import { createHash } from 'node:crypto';
import { parseToken, type Normalised } from './connection.js';

/**
 * What proves a connection's identity to Okta. One kind today, shaped so that another (an OAuth 2.0 service app:
 * client id, private key, key id, scopes) is one more member of the union, and only the store and the Okta adapter
 * look inside.
 */
export interface ApiTokenCredential {
  kind: 'api-token';
  token: string;
}
export type Credential = ApiTokenCredential;
export type CredentialKind = Credential['kind'];

/** Where a connection's secret came from at use time: the OS keychain, the environment, or the connection's secret command. */
export type SecretSource = 'keychain' | 'env' | 'command';

/** The record's `kind`, as `list` shows it and connections.json stores it. */
export type ConnectionKind = 'token';

const KIND_OF: Record<CredentialKind, ConnectionKind> = { 'api-token': 'token' };

export function kindOf(credential: Credential): ConnectionKind {
  return KIND_OF[credential.kind];
}

/** The one string a secret store keeps for this credential. */
export function secretOf(credential: Credential): string {
  return credential.token;
}

/** A credential from the string a secret store (or the environment, or stdin) held, validated as on input. */
const FROM_SECRET: Record<ConnectionKind, (secret: string) => Normalised<Credential>> = {
  token: (secret) => {
    const { value, notices } = parseToken(secret);
    return { value: { kind: 'api-token', token: value }, notices };
  },
};

export function credentialFromSecret(kind: ConnectionKind, secret: string): Normalised<Credential> {
  return FROM_SECRET[kind](secret);
}

/** Every value of the credential that must never be printed. */
export function secretParts(credential: Credential): string[] {
  return [credential.token];
}

/**
 * A short, one-way fingerprint of the secret, kept in the metadata beside the address it was saved for: a secret that
 * does not match it (another process's half-done save, a hand-edited keychain) is never sent.
 */
export function fingerprintOf(credential: Credential): string {
  return `sha256:${createHash('sha256').update(secretOf(credential)).digest('hex').slice(0, 16)}`;
}
