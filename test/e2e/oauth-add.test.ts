import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonWebKey } from 'node:crypto';
import { describeRun, expectCleanFailure, readConnections, requireKeyring, secretToolLookup, uniqueName, useFakeOkta, useSandbox, type RunResult } from './harness.js';
import { keyLeaks, storedKeyLeaks } from './oauth-leaks.js';
import { testTls } from '../fixtures/tls.js';

/**
 * `add --oauth` without a terminal, through the built binary, the real Secret Service and the fake Okta's verifying
 * token endpoint; then list, and the leak scans (PEM bodies and JWK private members nowhere but the keychain).
 */
beforeAll(requireKeyring);
const fake = useFakeOkta();
// Key files live outside the sandbox: the leak scan reads every file under its HOME and cwd.
const keyDir = mkdtempSync(join(tmpdir(), 'okta-connect-oauth-keys-'));
afterAll(() => {
  rmSync(keyDir, { recursive: true, force: true });
});

function oauthArgs(name: string, clientId: string, scopes: string, ...extra: string[]): string[] {
  return ['add', '--oauth', '--name', name, '--org-url', fake.url, '--client-id', clientId, '--scopes', scopes, '--timeout', '60', ...extra];
}

describe('add --oauth, non-interactive', () => {
  const sandbox = useSandbox();

  it('a PEM file: tested before saving, the key only in the keychain, kind/clientId/scopes/keyId in the metadata', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read', 'okta.groups.read'] });
    const file = join(keyDir, 'svc.pem');
    writeFileSync(file, made.privatePem, { mode: 0o600 });
    const name = uniqueName('svc');
    const before = fake.oauth.log.length;
    const result = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read,okta.groups.read', '--private-key-file', file, '--key-id', made.kid));
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^✓ saved ${name} .*as client ${made.app.clientId}.*scopes okta\\.users\\.read okta\\.groups\\.read`));
    expect(fake.oauth.log.slice(before).map((entry) => entry.error ?? 'granted')).toEqual(['granted']);
    const record = readConnections(sandbox)?.connections.find((connection) => connection.name === name) as Record<string, unknown> | undefined;
    expect(record).toMatchObject({ kind: 'oauth', clientId: made.app.clientId, scopes: ['okta.users.read', 'okta.groups.read'], keyId: made.kid });
    const secret = JSON.parse(secretToolLookup(name) ?? '{}') as { clientId: string; keyId: string; privateKey: { d: string } };
    expect(secret).toMatchObject({ clientId: made.app.clientId, keyId: made.kid, privateKey: { d: made.privateJwk.d } });

    const list = await sandbox.run(['list']);
    expect(list.code, describeRun(list)).toBe(0);
    const row = list.stdout.split('\n').find((line) => line.startsWith(name));
    expect(row).toMatch(new RegExp(`^${name} +oauth +\\S+ +${made.app.clientId} +ok .* +- +keychain$`));
    const json = await sandbox.run(['list', '--json']);
    const item = (JSON.parse(json.stdout) as Record<string, unknown>[]).find((entry) => entry.name === name);
    expect(item).toMatchObject({ kind: 'oauth', clientId: made.app.clientId, scopes: ['okta.users.read', 'okta.groups.read'], keyId: made.kid, idleExpiresAt: null });
    expect(keyLeaks(made, sandbox, [result, list, json])).toEqual([]);
  });

  it('the key on stdin (a JWK), with --token-stdin; a failed test (invalid_scope) saves nothing and exits 5', async () => {
    const made = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read'] });
    const name = uniqueName('stdin');
    const refused = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read okta.groups.manage', '--token-stdin'), { input: JSON.stringify(made.privateJwk) });
    expect(expectCleanFailure(refused, 5)).toMatch(/okta\.groups\.manage.*nothing was saved/);
    expect(readConnections(sandbox)?.connections.some((connection) => connection.name === name) ?? false).toBe(false);
    expect(secretToolLookup(name)).toBeUndefined();
    const saved = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read', '--token-stdin'), { input: `\n${JSON.stringify(made.privateJwk)}\n` });
    expect(saved.code, describeRun(saved)).toBe(0);
    const tested = await sandbox.run(['test', name]);
    expect(tested.code, describeRun(tested)).toBe(0);
    expect(keyLeaks(made, sandbox, [refused, saved, tested])).toEqual([]);
  });

  for (const keyType of ['rsa', 'ec'] as const) {
    it(`--generate-key --key-type ${keyType}: the public JWK and the app's link on stdout, saved untested; test passes once the key is added`, async () => {
      const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
      const name = uniqueName(`gen${keyType}`);
      const result = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read', '--generate-key', '--key-type', keyType));
      expect(result.code, describeRun(result)).toBe(0);
      const lines = result.stdout.split('\n');
      const jwk = JSON.parse(lines.find((line) => line.startsWith('{')) ?? '{}') as JsonWebKey & { kid: string; alg: string; d?: string };
      expect(jwk.kty).toBe(keyType === 'rsa' ? 'RSA' : 'EC');
      expect(jwk.alg).toBe(keyType === 'rsa' ? 'RS256' : 'ES256');
      expect(jwk.d).toBeUndefined();
      expect(result.stdout).toContain(`Public key (kid ${jwk.kid}`);
      expect(result.stdout).toMatch(/General > Public keys > Add key/);
      expect(result.stdout).toContain(`/admin/app/oidc_client/instance/${made.app.clientId}#tab-general`);
      expect(result.stdout).toMatch(new RegExp(`✓ saved ${name} .*as client ${made.app.clientId}  \\(not tested\\)`));
      expect(result.stderr).toContain(`okta-connect test ${name}`);
      expect(readConnections(sandbox)?.connections.find((connection) => connection.name === name)).toMatchObject({ kind: 'oauth', keyId: jwk.kid });

      const early = await sandbox.run(['test', name]);
      expect(early.code).toBe(4);
      fake.oauth.registerKey(made.app.clientId, jwk);
      const tested = await sandbox.run(['test', name]);
      expect(tested.code, describeRun(tested)).toBe(0);
      expect(storedKeyLeaks(name, sandbox, [result, early, tested])).toEqual([]);
    });
  }

  it('refuses, before anything is read or saved: a missing flag, two key sources, a key in argv, a bad scope, --key-type without --generate-key (exit 2)', async () => {
    const made = fake.oauth.addApp();
    const name = uniqueName('bad');
    const cases: [string[], RegExp][] = [
      [['add', '--oauth', '--name', name, '--org-url', fake.url, '--scopes', 'okta.users.read', '--generate-key'], /missing --client-id <id>/],
      [oauthArgs(name, made.app.clientId, 'okta.users.read', '--generate-key', '--token-stdin'), /one way/],
      [oauthArgs(name, made.app.clientId, 'okta.users.read', '--private-key-file', '-----BEGIN PRIVATE KEY-----'), /leaks into ps/],
      [oauthArgs(name, made.app.clientId, 'users.read', '--generate-key'), /"users\.read" is not an Okta API scope/],
      [oauthArgs(name, made.app.clientId, 'okta.users.read', '--key-type', 'ec', '--private-key-file', join(keyDir, 'none.pem')), /--key-type is for --generate-key/],
      [oauthArgs(name, made.app.clientId, 'okta.users.read', '--private-key-file', join(keyDir, 'none.pem')), /cannot read .*none\.pem \(ENOENT\)/],
      [['add', '--name', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--token-stdin'], /--client-id is for OAuth connections: add --oauth/],
    ];
    for (const [args, message] of cases) {
      const result = await sandbox.run(args);
      expect(expectCleanFailure(result, 2), args.join(' ')).toMatch(message);
    }
    expect(secretToolLookup(name)).toBeUndefined();
  });
});

describe('add --oauth, the key through a pipe', () => {
  const sandbox = useSandbox();

  it('--private-key-file on a FIFO (what <(cat key.pem) gives) is read and saved; --private-key-file - is stdin', async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    // Outside the sandbox: its leak scan reads every file there, and a FIFO would block it.
    const fifo = join(keyDir, 'key.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(keyDir, 'piped.pem');
    writeFileSync(file, made.privatePem, { mode: 0o600 });
    // The other end of the pipe, as the shell's <(…) is: it writes once okta-connect opens it.
    const writer = promisify(execFile)('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, fifo], { timeout: 20_000 });
    const name = uniqueName('fifo');
    const result = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read', '--private-key-file', fifo, '--key-id', made.kid));
    await writer;
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`✓ saved ${name} .*as client ${made.app.clientId}`));
    const dash = uniqueName('dash');
    const fromStdin = await sandbox.run(oauthArgs(dash, made.app.clientId, 'okta.users.read', '--private-key-file', '-', '--key-id', made.kid), { input: made.privatePem });
    expect(fromStdin.code, describeRun(fromStdin)).toBe(0);
    expect(keyLeaks(made, sandbox, [result, fromStdin])).toEqual([]);
  });
});

describe('exec of an OAuth connection', () => {
  const sandbox = useSandbox();
  const PRINT_ENV = `process.stdout.write(JSON.stringify({ env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OKTA_'))), argv: process.argv }))`;

  it("the child sees the SDK's and Terraform's variables, and no inherited token or other connection's key", async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read', 'okta.groups.read'] });
    const name = uniqueName('ex');
    const other = fake.oauth.addApp();
    const added = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read okta.groups.read', '--token-stdin', '--key-id', made.kid), { input: made.privatePem });
    expect(added.code, describeRun(added)).toBe(0);
    const inherited = {
      OKTA_API_TOKEN: 'inherited',
      OKTA_CLIENT_TOKEN: 'inherited',
      OKTA_ACCESS_TOKEN: 'inherited',
      OKTA_API_SCOPES: 'inherited',
      OKTA_CONNECT_OTHER_PRIVATE_KEY: other.privatePem,
      OKTA_CONNECT_OTHER_CLIENT_ID: other.app.clientId,
      OKTA_CONNECT_OTHER_SCOPES: 'okta.users.read',
    };
    const result = await sandbox.run(['exec', name, '--', process.execPath, '-e', PRINT_ENV], { env: inherited });
    expect(result.code, describeRun(result)).toBe(0);
    const { env, argv } = JSON.parse(result.stdout) as { env: Record<string, string>; argv: string[] };
    const pem = env.OKTA_CLIENT_PRIVATEKEY ?? '';
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(env).toEqual({
      OKTA_CLIENT_ORGURL: fake.url,
      OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
      OKTA_CLIENT_CLIENTID: made.app.clientId,
      OKTA_CLIENT_SCOPES: 'okta.users.read okta.groups.read',
      OKTA_CLIENT_PRIVATEKEY: pem,
      OKTA_CLIENT_KEYID: made.kid,
      OKTA_ORG_NAME: expect.any(String) as string,
      OKTA_BASE_URL: expect.any(String) as string,
      OKTA_API_CLIENT_ID: made.app.clientId,
      OKTA_API_PRIVATE_KEY: pem,
      OKTA_API_PRIVATE_KEY_ID: made.kid,
      OKTA_API_SCOPES: 'okta.users.read,okta.groups.read',
      OKTA_CONNECT_CONNECTION: name,
    });
    expect(argv.join(' ')).not.toMatch(/PRIVATE KEY/);
    expect(keyLeaks(made, sandbox, [added])).toEqual([]);
  });

  it("a child using @okta/okta-sdk-nodejs in PrivateKey mode from those variables alone gets a token and lists users", async () => {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const name = uniqueName('sdk');
    const added = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read', '--token-stdin'), { input: JSON.stringify(made.privateJwk) });
    expect(added.code, describeRun(added)).toBe(0);
    const script = [
      "const okta = require('@okta/okta-sdk-nodejs');",
      'const client = new okta.Client();',
      "client.http.http(process.env.OKTA_CLIENT_ORGURL + '/api/v1/users?limit=1', { method: 'get' })",
      '  .then((res) => { process.stdout.write(`status ${res.status} mode ${client.authorizationMode}`); })',
      '  .catch((error) => { process.stderr.write(String(error)); process.exit(3); });',
    ].join('\n');
    const before = fake.oauth.log.length;
    const result = await sandbox.run(['exec', name, '--', process.execPath, '-e', script], { env: { NODE_PATH: join(process.cwd(), 'node_modules') } });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe('status 200 mode PrivateKey');
    expect(fake.oauth.log.slice(before).map((entry) => entry.grantedTo)).toEqual([made.app.clientId]);
  });
});

describe('token, remove --revoke and doctor of an OAuth connection', () => {
  const sandbox = useSandbox();

  async function saved(options: { requireDpop?: boolean } = {}): Promise<{ name: string; made: ReturnType<typeof fake.oauth.addApp>; added: RunResult }> {
    const made = fake.oauth.addApp({ scopes: ['okta.users.read'], ...options });
    const name = uniqueName('tk');
    const added = await sandbox.run(oauthArgs(name, made.app.clientId, 'okta.users.read', '--token-stdin', '--key-id', made.kid), { input: made.privatePem });
    expect(added.code, describeRun(added)).toBe(0);
    return { name, made, added };
  }

  it('token prints a fresh access token that the fake Okta issued, only that, and never the key', async () => {
    const { name, made, added } = await saved();
    const before = fake.oauth.log.length;
    const result = await sandbox.run(['token', name]);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^[\w.-]+\n$/);
    expect(fake.oauth.log.slice(before).map((entry) => entry.grantedTo)).toEqual([made.app.clientId]);
    // The token works: the management API takes it.
    const status = await new Promise<number | undefined>((resolvePromise, reject) => {
      get(`${fake.url}/api/v1/users?limit=1`, { ca: readFileSync(testTls().caPath), headers: { Authorization: `Bearer ${result.stdout.trim()}` } }, (response) => {
        response.resume();
        resolvePromise(response.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    expect(keyLeaks(made, sandbox, [added, result])).toEqual([]);
  });

  it('token --timeout <seconds>: taken (the timeout hint suggests it), and checked as test checks it', async () => {
    const { name } = await saved();
    const result = await sandbox.run(['token', name, '--timeout', '30']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^[\w.-]+\n$/);
    expect(expectCleanFailure(await sandbox.run(['token', name, '--timeout', '0']), 2)).toMatch(/--timeout/);
  });

  it('token of a DPoP-bound app: exit 2, nothing on stdout, why, and exec suggested', async () => {
    const { name, made } = await saved({ requireDpop: true });
    const result = await sandbox.run(['token', name]);
    const error = expectCleanFailure(result, 2);
    expect(result.stdout).toBe('');
    expect(error).toMatch(/requires DPoP: .*a bare token is not usable/);
    expect(result.stderr).toMatch(new RegExp(`hint: run the tool through okta-connect exec ${name} -- <command>`));
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  it('doctor says each stored key parses, without printing it', async () => {
    const { name, made } = await saved();
    const result = await sandbox.run(['doctor']);
    expect(result.stdout).toMatch(new RegExp(`^✓ oauth key ${name}: the private key parses \\(RSA, kid ${made.kid}\\) and matches client ${made.app.clientId}$`, 'm'));
    expect(keyLeaks(made, sandbox, [result])).toEqual([]);
  });

  it('remove --revoke revokes nothing at Okta, deletes the local key, and says the key is revoked by deleting it from the app', async () => {
    const { name, made } = await saved();
    const before = fake.requests.length;
    const result = await sandbox.run(['remove', name, '--revoke', '--yes']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(fake.requests.length).toBe(before);
    expect(result.stdout).toBe(`✓ removed ${name} and its private key (nothing was revoked at Okta)\n`);
    expect(result.stderr).toContain(`delete the public key with kid ${made.kid} from the app's General > Public keys`);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(readConnections(sandbox)?.connections.some((connection) => connection.name === name) ?? false).toBe(false);
  });
});
