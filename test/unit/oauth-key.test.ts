import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialFromSecret, oauthCredential, secretOf, secretParts } from '../../src/domain/credential.js';
import { parseKeyId, parsePrivateKey, parseScopes, publicJwkOf, thumbprintOf } from '../../src/domain/oauth.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

describe('parsePrivateKey', () => {
  it.each([
    ['PKCS#8 RSA', rsa.export({ format: 'pem', type: 'pkcs8' }).toString(), 'RSA'],
    ['PKCS#1 RSA', rsa.export({ format: 'pem', type: 'pkcs1' }).toString(), 'RSA'],
    ['PKCS#8 EC', ecKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'EC'],
    ['SEC1 EC', ecKey.export({ format: 'pem', type: 'sec1' }).toString(), 'EC'],
    ['RSA JWK', JSON.stringify(rsa.export({ format: 'jwk' })), 'RSA'],
    ['EC JWK', JSON.stringify(ecKey.export({ format: 'jwk' })), 'EC'],
  ])('takes %s', (_what, raw, kty) => {
    const { value } = parsePrivateKey(`\n${raw}\n`);
    expect(value.kty).toBe(kty);
    expect(value.alg).toBe(kty === 'RSA' ? 'RS256' : 'ES256');
    expect(value.kid).toBe(thumbprintOf(publicJwkOf(value)));
    expect(publicJwkOf(value)).not.toHaveProperty('d');
  });

  it("takes a JWK's own kid; --key-id names it otherwise; the two must agree", () => {
    const jwk = JSON.stringify({ ...rsa.export({ format: 'jwk' }), kid: 'own' });
    expect(parsePrivateKey(jwk).value.kid).toBe('own');
    expect(parsePrivateKey(jwk, 'own').value.kid).toBe('own');
    expect(() => parsePrivateKey(jwk, 'other')).toThrow(/own kid is "own", not "other"/);
    expect(parsePrivateKey(rsa.export({ format: 'pem', type: 'pkcs8' }).toString(), 'given').value.kid).toBe('given');
  });

  it('says when a PEM is sent with its thumbprint as the kid (Okta refuses a kid it did not register), and only then', () => {
    const pem = rsa.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { value, notices } = parsePrivateKey(pem);
    expect(notices).toEqual([`the PEM key carries no key id: its JWK thumbprint ${value.kid} is sent as the kid; if the app's Public keys show another KID, give it with --key-id`]);
    expect(parsePrivateKey(pem, 'given').notices).toEqual([]);
    expect(parsePrivateKey(pem, '  ').notices).toHaveLength(1);
    expect(parsePrivateKey(JSON.stringify(rsa.export({ format: 'jwk' }))).notices).toEqual([]);
  });

  it.each(['has space', 'tab\there', 'x'.repeat(201), 'é'])('refuses the key id %j', (keyId) => {
    expect(() => parseKeyId(keyId)).toThrow(/the key id has spaces or characters a kid never has/);
  });

  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  it.each([
    ['empty', '', /empty/],
    ['a public PEM', rsa.export({ format: 'pem', type: 'pkcs8' }).toString().replace(/PRIVATE/g, 'PUBLIC'), /public key/],
    ['a public JWK', JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB' }), /public key/],
    ['an encrypted PEM', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----', /encrypted/],
    ['RSA 1024', small.export({ format: 'pem', type: 'pkcs8' }).toString(), /1024 bits/],
    ['EC P-384', p384.export({ format: 'pem', type: 'pkcs8' }).toString(), /P-256/],
    ['garbage', 'hello', /neither a PEM private key nor a JWK/],
  ])('refuses %s, without quoting it', (_what, raw, message) => {
    let caught: unknown;
    try {
      parsePrivateKey(raw);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toMatch(message);
    if (raw.length > 20) expect((caught as Error).message).not.toContain(raw.slice(30, 60));
  });
});

describe('parseScopes', () => {
  it('splits on spaces and commas, drops duplicates', () => {
    expect(parseScopes(' okta.users.read,okta.groups.manage  okta.users.read okta.users.read.self')).toEqual(['okta.users.read', 'okta.groups.manage', 'okta.users.read.self']);
  });
  it.each(['', 'users.read', 'okta.users', 'okta.users.write', 'openid'])('refuses %j', (raw) => {
    expect(() => parseScopes(raw)).toThrow();
  });
});

describe('the OAuth credential', () => {
  it('is one JSON secret in the keychain, read back as it was, and every private part is redacted', () => {
    const { value } = oauthCredential({ clientId: '0oa1234567890abcdefg', scopes: 'okta.users.read', privateKey: rsa.export({ format: 'pem', type: 'pkcs1' }).toString() });
    const secret = secretOf(value);
    expect(credentialFromSecret('oauth', secret).value).toEqual(value);
    const parts = secretParts(value);
    expect(parts).toContain(value.privateKey.d);
    const pemLine = rsa.export({ format: 'pem', type: 'pkcs8' }).toString().split('\n')[3] ?? '';
    expect(parts).toContain(pemLine);
  });
});
