import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { credentialFromSecret, oauthCredential, secretOf, secretParts } from '../../src/domain/credential.js';
import { appConsoleUrl, parseKeyId, parsePrivateKey, parseScopes, publicJwkOf, thumbprintOf } from '../../src/domain/oauth.js';

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

describe('parsePrivateKey on keys as people have them', () => {
  const pem = rsa.export({ format: 'pem', type: 'pkcs8' }).toString();
  const refusal = (raw: string, keyId?: string): UsageError => {
    try {
      parsePrivateKey(raw, keyId);
    } catch (error) {
      if (error instanceof UsageError) return error;
      throw error;
    }
    throw new Error('taken');
  };

  /** A self-signed certificate of the key, made with openssl at test time. */
  function certificateOf(keyPem: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'oc-cert-'));
    try {
      writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
      execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'key.pem'), '-subj', '/CN=okta-connect-test', '-days', '1', '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      return readFileSync(join(dir, 'cert.pem'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('takes the private key out of a PEM file that holds its certificate too, in either order', () => {
    const cert = certificateOf(pem);
    expect(cert).toMatch(/BEGIN CERTIFICATE/);
    const alone = parsePrivateKey(pem).value;
    expect(parsePrivateKey(`${pem}${cert}`).value).toEqual(alone);
    expect(parsePrivateKey(`Bag Attributes\n${cert}\n${pem}`).value).toEqual(alone);
    expect(refusal(cert).message).toMatch(/public key or certificate/);
  });

  it('refuses a PEM with two private keys, saying so', () => {
    const other = ecKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(refusal(`${pem}${other}`).message).toBe('the PEM holds 2 private keys: okta-connect cannot tell which one to use');
  });

  it('says when a PEM holds literal \\n sequences instead of line breaks (a CI secret pasted as one line)', () => {
    const error = refusal(pem.trim().replace(/\n/g, '\\n'));
    expect(error.message).toMatch(/holds "\\n" sequences where its line breaks should be/);
    expect(error.hint).toMatch(/instead of newlines/);
  });

  it('names a JWK set that is empty, and picks the one private key of a set whose kid is given', () => {
    expect(refusal('{"keys":[]}').message).toBe('the JWK set has no keys: give the one private JWK to use');
    const a = { ...rsa.export({ format: 'jwk' }), kid: 'a' };
    const b = { ...ecKey.export({ format: 'jwk' }), kid: 'b' };
    const publicB = { kty: 'EC', crv: b.crv, x: b.x, y: b.y, kid: 'b' };
    const set = JSON.stringify({ keys: [a, publicB, b] });
    expect(parsePrivateKey(set, 'b').value).toMatchObject({ kty: 'EC', kid: 'b', d: b.d });
    expect(parsePrivateKey(set, 'a').value).toMatchObject({ kty: 'RSA', kid: 'a' });
    expect(refusal(set).message).toBe('the JWK set has 3 keys: okta-connect cannot tell which one to use');
    expect(refusal(set).hint).toMatch(/--key-id .*_KEY_ID/);
    expect(refusal(set, 'c').message).toBe('the JWK set has no private key with kid "c"');
    expect(refusal(JSON.stringify({ keys: [a, { ...a }] }), 'a').message).toBe('the JWK set has 2 private keys with kid "a"');
  });

  it('says a symmetric JWK is one, not that it is a public key', () => {
    expect(refusal(JSON.stringify({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' })).message).toMatch(/^this JWK is a symmetric key \(kty "oct"\): .*RSA or EC P-256/);
  });

  it('refuses an empty key id given explicitly (a blank answer to the question is none: parseKeyId)', () => {
    expect(refusal(pem, '').message).toBe('the key id is empty');
    expect(refusal(pem, '  ').message).toBe('the key id is empty');
    expect(parseKeyId('  ')).toBeUndefined();
  });

  it.each([['{"keys":[null]}'], ['null'], ['[]'], ['{"keys":{}}'], ['{"keys":[1,2]}'], ['{"kty":"RSA","d":1}'], ['{"kty":"RSA","d":"x","kid":7}'], ['{"kty":{},"d":"x"}']])(
    'refuses %s with a usage error',
    (raw) => {
      expect(() => parsePrivateKey(raw, raw.includes('[1,2]') ? 'k' : undefined)).toThrow(UsageError);
    },
  );

  it('throws nothing but a usage error for any JSON, JWK-shaped or not', () => {
    const member = fc.oneof(fc.jsonValue(), fc.constantFrom('RSA', 'EC', 'oct', 'P-256', 'AQAB', ''));
    const jwkLike = fc.dictionary(fc.constantFrom('kty', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi', 'crv', 'x', 'y', 'kid', 'keys', 'k'), member);
    const value = fc.oneof(fc.jsonValue(), jwkLike, fc.record({ keys: fc.array(fc.oneof(jwkLike, fc.jsonValue()), { maxLength: 3 }) }));
    fc.assert(
      fc.property(value, fc.option(fc.constantFrom('k', 'a', ''), { nil: undefined }), (json, keyId) => {
        const text = JSON.stringify(json);
        try {
          parsePrivateKey(text.startsWith('{') ? text : `{"keys":[${text}]}`, keyId);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
        }
      }),
      { numRuns: 500 },
    );
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

describe('appConsoleUrl', () => {
  it("links the app on the org's admin host; on a custom domain, on the Okta domain the org check gave, as the token page does", () => {
    expect(appConsoleUrl('https://acme.okta.com', '0oa1234567890abcdefg')).toBe('https://acme-admin.okta.com/admin/app/oidc_client/instance/0oa1234567890abcdefg#tab-general');
    expect(appConsoleUrl('https://login.acme.example', '0oa1234567890abcdefg', 'https://acme.okta.com')).toBe('https://acme-admin.okta.com/admin/app/oidc_client/instance/0oa1234567890abcdefg#tab-general');
    expect(appConsoleUrl('https://login.acme.example', '0oa1234567890abcdefg')).toMatch(/^https:\/\/<your-org>-admin\.okta\.com\/admin\/app\/oidc_client\/instance\/0oa1234567890abcdefg#tab-general \(/);
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
