import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, expectCleanFailure, findLeaks, readConnections, requireKeyring, secretToolLookup, uniqueName, useFakeOkta, useSandbox, type Sandbox } from './harness.js';
import { keyLeaks, storedKeyLeaks } from './oauth-leaks.js';

/**
 * `rotate` of an OAuth connection without a terminal, through the built binary, the real Secret Service and the fake
 * Okta's verifying token endpoint: a generated key (swapped with --no-test, then its public half registered with the
 * fake, as an admin adds it to the app) and a key file (tested, then swapped); leak scans for every key involved.
 */
beforeAll(requireKeyring);
const fake = useFakeOkta();
// Key files live outside the sandbox: the leak scan reads every file under its HOME and cwd.
const keyDir = mkdtempSync(join(tmpdir(), 'okta-connect-oauth-rotate-keys-'));
afterAll(() => {
  rmSync(keyDir, { recursive: true, force: true });
});

const recordOf = (sandbox: Sandbox, name: string): Record<string, unknown> | undefined =>
  readConnections(sandbox)?.connections.find((connection) => connection.name === name) as Record<string, unknown> | undefined;

describe('rotate of an OAuth connection, non-interactive', () => {
  const sandbox = useSandbox();

  it('a generated key: refused without --no-test; with it, swapped untested, its JWK printed; the old kid named; test passes once the key is in the app', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const file = join(keyDir, 'old.pem');
    writeFileSync(file, made.privatePem, { mode: 0o600 });
    const name = uniqueName('rot');
    const added = await sandbox.run(['add', '--oauth', '--name', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', 'okta.users.read', '--private-key-file', file, '--key-id', made.kid, '--timeout', '60']);
    expect(added.code, describeRun(added)).toBe(0);
    const secretBefore = secretToolLookup(name);

    const refused = await sandbox.run(['rotate', name, '--generate-key']);
    expect(expectCleanFailure(refused, 2)).toMatch(/--generate-key needs --no-test/);
    expect(refused.stdout).toBe('');
    expect(secretToolLookup(name)).toBe(secretBefore);

    const rotated = await sandbox.run(['rotate', name, '--generate-key', '--key-type', 'ec', '--no-test', '--revoke-old', '--timeout', '60']);
    expect(rotated.code, describeRun(rotated)).toBe(0);
    const jwk = JSON.parse(rotated.stdout.split('\n').find((line) => line.startsWith('{')) ?? '{}') as JsonWebKey & { kid: string; alg: string };
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(jwk.d).toBeUndefined();
    expect(rotated.stdout).toContain(`Public key (kid ${jwk.kid}, ES256)`);
    expect(rotated.stdout).toContain(`/admin/app/oidc_client/instance/${made.app.clientId}#tab-general`);
    expect(rotated.stdout).toMatch(new RegExp(`✓ rotated ${name} .*as client ${made.app.clientId}  kid ${jwk.kid}  \\(not tested\\)`));
    expect(rotated.stderr).toMatch(/untested \(--no-test\)/);
    expect(rotated.stderr).toContain(`revoke the old one (kid ${made.kid}) by deleting it from the app's Public keys`);
    expect(recordOf(sandbox, name)).toMatchObject({ kind: 'oauth', clientId: made.app.clientId, scopes: ['okta.users.read'], keyId: jwk.kid, lastTest: null });
    expect(JSON.parse(secretToolLookup(name) ?? '{}')).toMatchObject({ clientId: made.app.clientId, keyId: jwk.kid });

    const early = await sandbox.run(['test', name, '--timeout', '60']);
    expect(early.code, describeRun(early)).toBe(4);
    fake.oauth.registerKey(made.app.clientId, jwk);
    const tested = await sandbox.run(['test', name, '--timeout', '60']);
    expect(tested.code, describeRun(tested)).toBe(0);
    const runs = [added, refused, rotated, early, tested];
    expect(keyLeaks(made, sandbox, runs)).toEqual([]);
    expect(storedKeyLeaks(name, sandbox, runs)).toEqual([]);
  });

  it('a key file: its JWK printed, tested against the token endpoint, swapped only when it passes', async () => {
    const made = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read'] });
    const name = uniqueName('rotf');
    const added = await sandbox.run(['add', '--oauth', '--name', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', 'okta.users.read', '--token-stdin', '--timeout', '60'], {
      input: JSON.stringify(made.privateJwk),
    });
    expect(added.code, describeRun(added)).toBe(0);
    const secretBefore = secretToolLookup(name);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const file = join(keyDir, 'new.pem');
    writeFileSync(file, pem, { mode: 0o600 });
    const args = ['rotate', name, '--private-key-file', file, '--key-id', 'kid-rotated', '--timeout', '60'];

    const unknown = await sandbox.run(args);
    expect(expectCleanFailure(unknown, 4, { stdoutAllowed: true })).toMatch(/the new key failed its test, so nothing was changed/);
    expect(secretToolLookup(name)).toBe(secretBefore);
    expect(recordOf(sandbox, name)).toMatchObject({ keyId: made.kid });

    fake.oauth.registerKey(made.app.clientId, { ...publicKey.export({ format: 'jwk' }), kid: 'kid-rotated' });
    const before = fake.oauth.log.length;
    const rotated = await sandbox.run(args);
    expect(rotated.code, describeRun(rotated)).toBe(0);
    expect(fake.oauth.log.slice(before).map((entry) => entry.error ?? 'granted')).toEqual(['granted']);
    expect(rotated.stdout).toContain('Public key (kid kid-rotated, RS256)');
    expect(rotated.stdout).toMatch(new RegExp(`✓ rotated ${name} .*kid kid-rotated\\n`));
    expect(rotated.stderr).toContain(`the old key (kid ${made.kid}) still works at Okta`);
    expect(recordOf(sandbox, name)).toMatchObject({ keyId: 'kid-rotated', lastTest: { ok: true } });
    const tested = await sandbox.run(['test', name, '--timeout', '60']);
    expect(tested.code, describeRun(tested)).toBe(0);
    const runs = [added, unknown, rotated, tested];
    const pemLines = pem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
    expect(pemLines.flatMap((line) => findLeaks(line, sandbox, runs))).toEqual([]);
    expect(keyLeaks(made, sandbox, runs)).toEqual([]);
    expect(storedKeyLeaks(name, sandbox, runs)).toEqual([]);
  });
});
