import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetSecrets, requireKeyring, secretToolLookup, startCli, uniqueName, useFakeOkta, usePtys, useSandbox, type Sandbox } from './harness.js';
import type { Pty } from './pty.js';

/**
 * `add --oauth --generate-key` and a failed `invalid_scope` test in a real terminal (tmux), as a person sees them. With
 * OKTA_CONNECT_SCREENS_DIR set, the screens are written there (for release notes and reviews).
 */
beforeAll(requireKeyring);
const fake = useFakeOkta();
const sandbox = useSandbox();
const names: string[] = [];
usePtys();
afterAll(async () => {
  await forgetSecrets(names);
});

function terminal(box: Sandbox, args: string[], env: Record<string, string> = {}): Promise<Pty> {
  return startCli(box, args, { width: 120, env });
}

function keep(file: string, screen: string): void {
  const dir = process.env.OKTA_CONNECT_SCREENS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), `${screen.split('[pty: command ended]')[0]?.trimEnd() ?? ''}\n`);
}

describe('OAuth in a terminal', () => {
  it('add --oauth --generate-key prints the public JWK and the link, asks to test once the key is added, and the test passes', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('svc');
    names.push(name);
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
