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
/** The end of a key error's hint where a key can be generated instead (not in CI: the environment gives the key). */
export const OR_GENERATE = '; or use --generate-key';
const KEY_HINT = `give a PEM private key (PKCS#1 "BEGIN RSA PRIVATE KEY", PKCS#8 "BEGIN PRIVATE KEY", or "BEGIN EC PRIVATE KEY") or a private JWK (JSON with "d"), RSA 2048+ or EC P-256${OR_GENERATE}`;
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

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A member's value as it may be named in a message: short, printable, never more than a word of it. */
const named = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.replace(/[^\x20-\x7e]/g, '?').slice(0, 20)) : value === undefined ? 'none' : typeof value);

/**
 * The one key to use out of a JWK or a JWK set: a set's only key, else the one private key whose kid is `wanted`.
 * Every member is checked for its type before it is read: the JSON is anyone's.
 */
function jwkOf(parsed: unknown, wanted: string | undefined): Record<string, unknown> {
  if (!isObject(parsed)) refuse(`the private key is JSON but not a JWK (it is ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}, not an object with "kty")`);
  if (!('keys' in parsed)) return parsed;
  const { keys } = parsed;
  if (!Array.isArray(keys)) refuse('the JWK set\'s "keys" is not a list of JWKs');
  if (keys.length === 0) refuse('the JWK set has no keys: give the one private JWK to use');
  if (keys.length === 1) {
    const [only] = keys as unknown[];
    if (!isObject(only)) refuse('the JWK set\'s key is not a JSON object (a JWK)');
    return only;
  }
  const setHint = 'name the private key to use by its kid with --key-id (in CI, the _KEY_ID variable), or give that one JWK alone';
  if (wanted === undefined) refuse(`the JWK set has ${String(keys.length)} keys: okta-connect cannot tell which one to use`, setHint);
  const matching = (keys as unknown[]).filter((candidate) => isObject(candidate) && candidate.kid === wanted && typeof candidate.d === 'string');
  if (matching.length !== 1) {
    refuse(`the JWK set has ${matching.length === 0 ? 'no' : String(matching.length)} private key${matching.length === 0 ? '' : 's'} with kid "${wanted}"`, setHint);
  }
  return matching[0] as Record<string, unknown>;
}

function jwkKey(text: string, wanted: string | undefined): { key: KeyObject; ownKid: string | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('the private key looks like JSON but does not parse');
  }
  const jwk = jwkOf(parsed, wanted);
  if (jwk.kty === 'oct') refuse('this JWK is a symmetric key (kty "oct"): private key JWT needs an RSA or EC P-256 key pair, and okta-connect its private key');
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') refuse(`the JWK has kty ${named(jwk.kty)}: RSA or EC P-256 is needed`);
  if (typeof jwk.d !== 'string') refuse('this JWK is a public key (no "d"): okta-connect needs the private key; the public one goes to Okta');
  // A kid present but not a string is as wrong as any other member of the wrong type.
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') refuse(`the JWK's kid is ${named(jwk.kid)}, not a string`);
  const ownKid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
  try {
    return { key: nodeCrypto().createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }), ownKid };
  } catch {
    return refuse('the JWK is not a valid private key');
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const PRIVATE_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** The one private key block of a PEM file (a key and its certificate may share the file, in either order). */
function pemKey(text: string): KeyObject {
  if (/-----BEGIN [A-Z ]+-----/.test(text) && text.includes('\\n')) {
    refuse('the PEM private key holds "\\n" sequences where its line breaks should be', 'the secret was saved with the two characters \\n instead of newlines: save the PEM file as it is (multi-line), or turn each \\n into a line break');
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    refuse('the private key is encrypted with a passphrase', 'decrypt it first, e.g. openssl pkey -in key.pem -out plain.pem, and keep plain.pem only until it is saved');
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const keys = blocks.filter((block) => PRIVATE_LABELS.has(block[1] ?? ''));
  if (keys.length > 1) refuse(`the PEM holds ${String(keys.length)} private keys: okta-connect cannot tell which one to use`, 'give a file with the one private key registered for the app (its certificate may stay beside it)');
  const [block] = keys;
  if (block === undefined) {
    if (/-----BEGIN (RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(text)) {
      refuse('this is a public key or certificate: okta-connect needs the private key; the public one goes to Okta');
    }
    return refuse('the private key is neither a PEM private key nor a JWK');
  }
  try {
    return nodeCrypto().createPrivateKey({ key: block[0], format: 'pem' });
  } catch {
    return refuse('the PEM private key does not parse');
  }
}

/**
 * A private key from a PEM or a JWK (as read from a file, stdin, the environment or the keychain), validated. The
 * `kid` is the JWK's own, else `keyId`, else the key's thumbprint; a JWK's kid that differs from `keyId` is refused.
 * An empty `keyId` is refused: given, it was meant to name a kid (undefined is none).
 */
export function parsePrivateKey(raw: string, keyId?: string): Normalised<PrivateJwk> {
  const text = raw.trim();
  if (text === '') refuse('the private key is empty');
  if (text.length > 64 * 1024) refuse('the private key is larger than 64 KiB: that is not one key');
  if (keyId?.trim() === '') refuse('the key id is empty', "give the KID shown under the app's Public keys, or leave out --key-id (the JWK's own kid, else the key's thumbprint, is used)");
  const wanted = keyId === undefined ? undefined : parseKeyId(keyId);
  const isPem = !text.startsWith('{');
  const { key, ownKid } = isPem ? { key: pemKey(text), ownKid: undefined } : jwkKey(text, wanted);
  const kty = checkKey(key);
  if (ownKid !== undefined && wanted !== undefined && ownKid !== wanted) {
    refuse(`the JWK's own kid is "${ownKid}", not "${wanted}"`, 'leave out --key-id, or give the kid the JWK carries');
  }
  const exported = key.export({ format: 'jwk' });
  const kid = ownKid ?? wanted ?? thumbprintOf(exported);
  const value: PrivateJwk = { ...(exported as Record<string, string>), kty, kid, alg: kty === 'RSA' ? 'RS256' : 'ES256' };
  // Okta refuses an assertion whose kid is not the registered key's (invalid_client): a PEM has none to go by.
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

/**
 * The app's page in the Admin Console, where its keys and Okta API scopes are granted. On a custom domain the admin
 * host is the org's Okta domain (`oktaUrl`: the org check's `_links.organization.href`), as for the token page.
 */
export function appConsoleUrl(orgUrl: string, clientId: string, oktaUrl?: string | null): string {
  return tokenPageUrl(orgUrl, oktaUrl).replace('/admin/access/api/tokens', `/admin/app/oidc_client/instance/${encodeURIComponent(clientId)}#tab-general`);
}
