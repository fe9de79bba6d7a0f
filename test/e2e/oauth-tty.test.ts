import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADD_PROMPTS, leftovers, requireKeyring, secretToolLookup, startCli, storedConnection, uniqueName, useFakeOkta, usePtys, useSandbox, type Sandbox } from './harness.js';
import type { Pty } from './pty.js';

/**
 * `add --oauth --generate-key` and a failed `invalid_scope` test in a real terminal (tmux), as a person sees them. With
 * OKTA_CONNECT_SCREENS_DIR set, the screens are written there (for release notes and reviews).
 */
beforeAll(requireKeyring);
const fake = useFakeOkta();
const sandbox = useSandbox();
usePtys();

function terminal(box: Sandbox, args: string[], env: Record<string, string> = {}): Promise<Pty> {
  return startCli(box, args, { width: 120, env });
}

function keep(file: string, screen: string): void {
  const dir = process.env.OKTA_CONNECT_SCREENS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), `${screen.split('[pty: command ended]')[0]?.trimEnd() ?? ''}\n`);
}

/** The questions of `add --oauth` after the address, as they are asked. */
const OAUTH_PROMPTS = {
  clientId: 'Client ID of the API Services app (General tab, starts with 0oa):',
  scopes: 'Okta API scopes granted to the app (e.g. okta.users.read okta.groups.read):',
  key: 'The private key:',
  keyFile: 'Private key file:',
  keyId: "Key ID (KID) of this key, as the app's Public keys list shows it (Enter: its JWK thumbprint):",
  testNow: 'Test the connection now? (add the public key to the app first)',
  menu: 'The test failed. What now?',
} as const;

function publicJwkOn(screen: string): JsonWebKey & { kid: string } {
  const jwkLine = screen.split('\n').find((line) => line.startsWith('{"'));
  return JSON.parse(jwkLine ?? '{}') as JsonWebKey & { kid: string };
}

describe('OAuth in a terminal', () => {
  it('add --oauth with nothing given: every value asked, a key generated from the menu, its JWK shown, tested once it is in the app', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read', 'okta.groups.read'] });
    const name = uniqueName('asked');
    const pty = await terminal(sandbox, ['add', '--oauth']);
    await pty.waitFor(ADD_PROMPTS.address);
    await pty.type(`${fake.url}\r`);
    await pty.waitFor(OAUTH_PROMPTS.clientId);
    // A typo first: refused where it is typed, and typed again.
    await pty.type('0oa bad id\r');
    await pty.waitFor('the client id has characters an Okta client id never has');
    await pty.press('C-u');
    await pty.type(`${made.app.clientId}\r`);
    await pty.waitFor(OAUTH_PROMPTS.scopes);
    await pty.type('okta.users.read,okta.groups.read\r');
    const menu = await pty.waitFor(OAUTH_PROMPTS.key);
    expect(menu).toContain('❯ Generate a new RSA 2048 key');
    await pty.press('Down', 'Enter');
    await pty.waitFor(ADD_PROMPTS.name);
    await pty.press('C-u');
    await pty.type(`${name}\r`);
    const asked = await pty.waitFor(OAUTH_PROMPTS.testNow);
    // An Okta-shaped client id is not questioned; the EC key the menu chose is the one shown.
    expect(asked).not.toContain('does not look like Okta');
    expect(asked).toMatch(/Public key \(kid \S+, ES256\): add it to the app under General > Public keys > Add key:/);
    expect(asked).toContain(`/admin/app/oidc_client/instance/${made.app.clientId}#tab-general`);
    const jwk = publicJwkOn(asked);
    expect(jwk.crv).toBe('P-256');
    expect(jwk.d).toBeUndefined();
    // Nothing is saved before the answer.
    expect(storedConnection(sandbox, name)).toBeUndefined();
    fake.oauth.registerKey(made.app.clientId, jwk);
    await pty.press('Enter');
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).toMatch(new RegExp(`✓ saved ${name} .*as client ${made.app.clientId} +scopes okta\\.users\\.read okta\\.groups\\.read +token 1h +no DPoP`));
    expect(await pty.exitCode()).toBe(0);
    keep('add-oauth-interactive.txt', done);
    expect(storedConnection(sandbox, name)).toMatchObject({ kind: 'oauth', clientId: made.app.clientId, scopes: ['okta.users.read', 'okta.groups.read'], keyId: jwk.kid });
    const stored = JSON.parse(secretToolLookup(name) ?? '{}') as { privateKey?: { d?: string; kid?: string } };
    expect(stored.privateKey?.kid).toBe(jwk.kid);
    expect((await pty.rawOutput()).includes(stored.privateKey?.d ?? 'no key')).toBe(false);
  });

  it('add --oauth with a key file and a scope the app lacks: the failure named, "Test again" once it is granted, then saved', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('granted');
    const keyFile = join(sandbox.home, `${name}.pem`);
    writeFileSync(keyFile, made.privatePem, { mode: 0o600 });
    const pty = await terminal(sandbox, ['add', '--oauth', name, '--org-url', fake.url, '--client-id', made.app.clientId]);
    await pty.waitFor(OAUTH_PROMPTS.scopes);
    await pty.type('okta.users.read okta.groups.manage\r');
    await pty.waitFor(OAUTH_PROMPTS.key);
    await pty.press('Down', 'Down', 'Enter');
    await pty.waitFor(OAUTH_PROMPTS.keyFile);
    await pty.type(`${keyFile}\r`);
    // A PEM carries no kid: the one the app lists is asked for (Okta refuses an assertion with another).
    await pty.waitFor(OAUTH_PROMPTS.keyId);
    await pty.type(`${made.kid}\r`);
    const failed = await pty.waitFor(OAUTH_PROMPTS.menu);
    expect(failed).toMatch(/✗ .*did not grant the scope okta\.groups\.manage to the app/);
    expect(failed).toContain('Okta API Scopes');
    // Nothing is saved yet: the hint needs no --force. The part Okta refused is the one offered first.
    expect(failed).toContain('add again with fewer --scopes');
    expect(failed).not.toContain('--force');
    expect(failed).toContain('❯ Enter the scopes again');
    expect(storedConnection(sandbox, name)).toBeUndefined();
    keep('add-oauth-invalid-scope.txt', failed);
    made.app.grantedScopes.push('okta.groups.manage');
    // Up to "Test again", once the scope is granted.
    await pty.press('Up', 'Up', 'Up', 'Enter');
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).toMatch(/scopes okta\.users\.read okta\.groups\.manage/);
    expect(await pty.exitCode()).toBe(0);
    expect(storedConnection(sandbox, name)?.lastTest).toMatchObject({ ok: true });
    const raw = await pty.rawOutput();
    for (const line of made.privatePem.split('\n').filter((text) => text.length >= 32 && !text.startsWith('-----'))) expect(raw.includes(line)).toBe(false);
  });

  it('add --oauth: a directory, a missing file, ~/ and a public key at "Private key file:" are explained and asked again; then a wrong KID is entered again from the menu', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('retyped');
    mkdirSync(join(sandbox.home, 'keydir'), { recursive: true });
    writeFileSync(join(sandbox.home, `${name}.pem`), made.privatePem, { mode: 0o600 });
    writeFileSync(join(sandbox.home, `${name}-pub.pem`), createPublicKey(made.privatePem).export({ type: 'spki', format: 'pem' }).toString());
    const pty = await terminal(sandbox, ['add', '--oauth', name, '--org-url', fake.url], { HOME: sandbox.home });
    await pty.waitFor(OAUTH_PROMPTS.clientId);
    await pty.type(`${made.app.clientId}\r`);
    await pty.waitFor(OAUTH_PROMPTS.scopes);
    await pty.type('okta.users.read\r');
    await pty.waitFor(OAUTH_PROMPTS.key);
    await pty.press('Down', 'Down', 'Enter');
    for (const [answer, said] of [
      ['~/keydir', 'keydir is not a file (a directory)'],
      ['~/missing.pem', 'missing.pem (ENOENT)'],
      [`~/${name}-pub.pem`, 'this is a public key or certificate'],
    ] as const) {
      await pty.waitFor(OAUTH_PROMPTS.keyFile);
      await pty.press('C-u');
      await pty.type(`${answer}\r`);
      await pty.waitFor(said);
    }
    await pty.waitFor(OAUTH_PROMPTS.keyFile);
    await pty.press('C-u');
    await pty.type(`~/${name}.pem\r`);
    await pty.waitFor(OAUTH_PROMPTS.keyId);
    await pty.type('not-the-kid\r');
    const failed = await pty.waitFor(OAUTH_PROMPTS.menu);
    expect(failed).not.toContain('--private-key-file');
    expect(failed).toContain('The client_assertion JWT kid is invalid');
    expect(failed).toContain('❯ Enter the Key ID (KID) again');
    await pty.press('Enter');
    await pty.waitFor('Key ID (KID)');
    await pty.press('C-u');
    await pty.type(`${made.kid}\r`);
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).toMatch(/scopes okta\.users\.read/);
    expect(await pty.exitCode()).toBe(0);
    expect(storedConnection(sandbox, name)).toMatchObject({ kind: 'oauth', keyId: made.kid, lastTest: { ok: true } });
  });

  it('add --oauth --generate-key, tested before the key is in the app: "Test again (once the key is in the app)", then saved tested', async () => {
    const made = fake.oauth.addApp();
    const name = uniqueName('later');
    const pty = await terminal(sandbox, ['add', '--oauth', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', 'okta.users.read', '--generate-key', '--key-type', 'ec']);
    const asked = await pty.waitFor(OAUTH_PROMPTS.testNow);
    await pty.press('Enter');
    const failed = await pty.waitFor(OAUTH_PROMPTS.menu);
    expect(failed).toContain('❯ Test again (once the key is in the app)');
    expect(failed).toContain('Save untested (test later)');
    expect(failed).not.toContain('saved');
    fake.oauth.registerKey(made.app.clientId, publicJwkOn(asked));
    await pty.press('Enter');
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).not.toContain('despite the failed test');
    expect(await pty.exitCode()).toBe(0);
    expect(storedConnection(sandbox, name)?.lastTest).toMatchObject({ ok: true });
  });

  it('Ctrl-C at "Test the connection now?": exit 130, nothing saved in the keychain or the metadata', async () => {
    const made = fake.oauth.addApp();
    const name = uniqueName('stopped');
    const pty = await terminal(sandbox, ['add', '--oauth', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', 'okta.users.read', '--generate-key']);
    await pty.waitFor(OAUTH_PROMPTS.testNow);
    await pty.press('C-c');
    const screen = await pty.waitFor('error: cancelled at the prompt: nothing was saved');
    expect(await pty.exitCode()).toBe(130);
    expect(screen).not.toContain(`saved ${name}`);
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(secretToolLookup(name)).toBeUndefined();
    expect(leftovers(sandbox)).toEqual([]);
  });

  it('add --oauth --generate-key prints the public JWK and the link, asks to test once the key is added, and the test passes', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('svc');
    const pty = await terminal(sandbox, ['add', '--oauth', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', 'okta.users.read', '--generate-key']);
    const asked = await pty.waitFor('Test the connection now? (add the public key to the app first)');
    expect(asked).toMatch(/Public key \(kid \S+, RS256\): add it to the app under General > Public keys > Add key:/);
    expect(asked).toContain(`/admin/app/oidc_client/instance/${made.app.clientId}#tab-general`);
    const jwkLine = asked.split('\n').find((line) => line.startsWith('{"'));
    const jwk = JSON.parse(jwkLine ?? '{}') as JsonWebKey & { kid: string };
    expect(jwk.d).toBeUndefined();
    // The user pastes it under the app's Public keys, then answers.
    fake.oauth.registerKey(made.app.clientId, jwk);
    await pty.press('Enter');
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).toMatch(new RegExp(`✓ saved ${name} .*as client ${made.app.clientId} +scopes okta\\.users\\.read +token 1h +no DPoP`));
    expect(await pty.exitCode()).toBe(0);
    keep('add-oauth-generate-key.txt', done);
    const stored = JSON.parse(secretToolLookup(name) ?? '{}') as { privateKey?: { d?: string } };
    expect(stored.privateKey?.d).toBeDefined();
    expect((await pty.rawOutput()).includes(stored.privateKey?.d ?? 'no key')).toBe(false);
  });

  it('a failed invalid_scope test: exit 5, the scope named, and where to grant it', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('scoped');
    const key = name.toUpperCase().replace(/-/g, '_');
    const env = {
      [`OKTA_CONNECT_${key}_ORG_URL`]: fake.url,
      [`OKTA_CONNECT_${key}_CLIENT_ID`]: made.app.clientId,
      [`OKTA_CONNECT_${key}_PRIVATE_KEY`]: made.privatePem,
      [`OKTA_CONNECT_${key}_KEY_ID`]: made.kid,
      [`OKTA_CONNECT_${key}_SCOPES`]: 'okta.users.read okta.groups.manage',
    };
    const pty = await terminal(sandbox, ['test', name], env);
    const screen = await pty.waitFor(/hint: .*\n?.*Okta API Scopes/);
    expect(await pty.exitCode()).toBe(5);
    expect(screen).toMatch(/error: .*did not grant the scope okta\.groups\.manage to the app 0oa/);
    keep('test-invalid-scope.txt', screen);
    expect((await pty.rawOutput()).includes(made.privateJwk.d ?? 'no key')).toBe(false);
  });
});
