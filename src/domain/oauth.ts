import type { JsonWebKey, KeyObject } from 'node:crypto';
import { nodeCrypto } from './builtins.js';
import type { Normalised } from './connection.js';
import { UsageError } from './errors.js';
import { tokenPageUrl } from './org-url.js';

/**
 * The parts of an OAuth 2.0 service-app connection (private key JWT): key parsing and validation with node:crypto,
 * scopes and client ids. Error messages never quote the key: it is a secret.
 */

/** A private key as okta-connect keeps it: a private JWK (RSA ≥ 2048 bits or EC P-256) with its `kid` and `alg`. */
export interface PrivateJwk {
  kty: 'RSA' | 'EC';
  kid: string;
  alg: 'RS256' | 'ES256';
  [member: string]: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const KEY_HINT = 'give a PEM private key (PKCS#1 "BEGIN RSA PRIVATE KEY", PKCS#8 "BEGIN PRIVATE KEY", or "BEGIN EC PRIVATE KEY") or a private JWK (JSON with "d"), RSA 2048+ or EC P-256; or use --generate-key';
export const SCOPES_HINT = 'scopes are Okta API scope names such as okta.users.read or okta.groups.manage, separated by spaces or commas';
export const CLIENT_ID_HINT = "copy the Client ID from the app's General tab in the Admin Console (it starts with 0oa)";

function refuse(message: string, hint = KEY_HINT): never {
  throw new UsageError(message, { hint });
}

/** RFC 7638 thumbprint of the public key: the `kid` when none is given, stable for the same key. */
export function thumbprintOf(publicJwk: JsonWebKey): string {
  const members =
    publicJwk.kty === 'EC'
      ? { crv: publicJwk.crv, kty: 'EC', x: publicJwk.x, y: publicJwk.y }
      : { e: publicJwk.e, kty: 'RSA', n: publicJwk.n };
  return nodeCrypto().createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function checkKey(key: KeyObject): 'RSA' | 'EC' {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) refuse(`the RSA key has ${String(bits)} bits: Okta needs at least 2048`);
    return 'RSA';
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') refuse(`the EC key is on curve ${curve ?? 'unknown'}: okta-connect supports P-256 (ES256)`);
    return 'EC';
  }
  return refuse(`the key is of type ${type ?? 'unknown'}: Okta's private key JWT needs RSA or EC P-256`);
}

/**
 * A private key from a PEM or a JWK (as read from a file, stdin, the environment or the keychain), validated. The
 * `kid` is the JWK's own, else `keyId`, else the key's thumbprint; a JWK's kid that differs from `keyId` is refused.
 */
export function parsePrivateKey(raw: string, keyId?: string): Normalised<PrivateJwk> {
  const text = raw.trim();
  if (text === '') refuse('the private key is empty');
  if (text.length > 64 * 1024) refuse('the private key is larger than 64 KiB: that is not one key');
  let key: KeyObject;
  let ownKid: string | undefined;
  if (text.startsWith('{')) {
    let jwk: JsonWebKey & { kid?: unknown; keys?: unknown };
    try {
      jwk = JSON.parse(text) as typeof jwk;
    } catch {
      return refuse('the private key looks like JSON but does not parse');
    }
    if (Array.isArray(jwk.keys)) {
      if (jwk.keys.length !== 1) refuse('the JWK set has several keys: give the one private JWK to use');
      jwk = jwk.keys[0] as typeof jwk;
    }
    if (typeof jwk.d !== 'string') refuse('this JWK is a public key (no "d"): okta-connect needs the private key; the public one goes to Okta');
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') refuse(`the JWK has kty ${String(jwk.kty)}: RSA or EC P-256 is needed`);
    ownKid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
    try {
      key = nodeCrypto().createPrivateKey({ key: jwk, format: 'jwk' });
    } catch {
      return refuse('the JWK is not a valid private key');
    }
  } else {
    if (/-----BEGIN (RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(text)) {
      refuse('this is a public key or certificate: okta-connect needs the private key; the public one goes to Okta');
    }
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
      refuse('the private key is encrypted with a passphrase', 'decrypt it first, e.g. openssl pkey -in key.pem -out plain.pem, and keep plain.pem only until it is saved');
    }
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/.test(text)) {
      refuse('the private key is neither a PEM private key nor a JWK');
    }
    try {
      key = nodeCrypto().createPrivateKey({ key: text, format: 'pem' });
    } catch {
      return refuse('the PEM private key does not parse');
    }
  }
  const kty = checkKey(key);
  const wanted = keyId === undefined ? undefined : parseKeyId(keyId);
  if (ownKid !== undefined && wanted !== undefined && ownKid !== wanted) {
    refuse(`the JWK's own kid is "${ownKid}", not "${wanted}"`, 'leave out --key-id, or give the kid the JWK carries');
  }
  const exported = key.export({ format: 'jwk' });
  const kid = ownKid ?? wanted ?? thumbprintOf(exported);
  const value: PrivateJwk = { ...(exported as Record<string, string>), kty, kid, alg: kty === 'RSA' ? 'RS256' : 'ES256' };
  // Okta refuses an assertion whose kid is not the registered key's (invalid_client): a PEM has none to go by.
  const isPem = !text.startsWith('{');
  const notices = isPem && wanted === undefined ? [`the PEM key carries no key id: its JWK thumbprint ${kid} is sent as the kid; if the app's Public keys show another KID, give it with --key-id`] : [];
  return { value, notices };
}

/** A key id as given (--key-id, the question, _KEY_ID): empty is none (the key's own kid or its thumbprint is used). */
export function parseKeyId(raw: string): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) refuse('the key id has spaces or characters a kid never has', "copy the KID shown under the app's Public keys");
  return value;
}

/** The public half, as it is pasted under the app's Public keys in the Admin Console. */
export function publicJwkOf(privateJwk: PrivateJwk): Record<string, string> {
  const exported = nodeCrypto().createPublicKey({ key: privateJwk as JsonWebKey, format: 'jwk' }).export({ format: 'jwk' }) as Record<string, string>;
  return { ...exported, kid: privateJwk.kid, alg: privateJwk.alg, use: 'sig' };
}

/** Every private member of the key and its PEM body lines: what the redactor must remove wherever it appears. */
export function privateKeyParts(privateJwk: PrivateJwk): string[] {
  const parts = PRIVATE_MEMBERS.map((member) => privateJwk[member]).filter((value): value is string => typeof value === 'string' && value !== '');
  try {
    const key = nodeCrypto().createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
    const pems = [key.export({ format: 'pem', type: 'pkcs8' }).toString(), key.export({ format: 'pem', type: privateJwk.kty === 'RSA' ? 'pkcs1' : 'sec1' }).toString()];
    for (const pem of pems) parts.push(...pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')));
  } catch {
    // A key that no longer parses is refused elsewhere; its members above are still removed.
  }
  return parts;
}

const SCOPE = /^okta\.[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*\.(read|manage)(\.self)?$/;

/** Scopes separated by spaces or commas, each an Okta API scope name; duplicates dropped, order kept. */
export function parseScopes(raw: string): string[] {
  const scopes = [...new Set(raw.split(/[\s,]+/).filter((scope) => scope !== ''))];
  if (scopes.length === 0) refuse('no scopes given', SCOPES_HINT);
  for (const scope of scopes) {
    if (!SCOPE.test(scope)) {
      const shown = scope.length > 60 ? `${scope.slice(0, 60)}…` : scope;
      refuse(`"${shown.replace(/[^\x20-\x7e]/g, '?')}" is not an Okta API scope (okta.<resource>.read or .manage)`, SCOPES_HINT);
    }
  }
  return scopes;
}

/** An OAuth client id: Okta's are `0oa` + 17 characters; others are accepted with a notice. */
export function parseClientId(raw: string): Normalised<string> {
  const value = raw.trim();
  if (value === '') refuse('the client id is empty', CLIENT_ID_HINT);
  if (!/^[A-Za-z0-9_-]{6,100}$/.test(value)) refuse('the client id has characters an Okta client id never has', CLIENT_ID_HINT);
  return { value, notices: /^0oa[A-Za-z0-9]{17}$/.test(value) ? [] : [`the client id ${value} does not look like Okta's (0oa and 17 more characters); it is tried anyway`] };
}

/** The app's page in the Admin Console, where its keys and Okta API scopes are granted. */
export function appConsoleUrl(orgUrl: string, clientId: string): string {
  return tokenPageUrl(orgUrl).replace('/admin/access/api/tokens', `/admin/app/oidc_client/instance/${encodeURIComponent(clientId)}#tab-general`);
}
