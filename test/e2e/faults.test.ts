import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta, type RecordedRequest } from '../fixtures/fake-okta.js';
import {
  addArgs,
  BASE_ENV,
  closedPort,
  connectionsPath,
  disposeSandbox,
  expectCleanFailure,
  findLeaks,
  linesStarting,
  makeSandbox,
  requireKeyring,
  secretToolLookup,
  startConnectProxy,
  storedConnection,
  UNREACHABLE_DBUS,
  uniqueName,
  useFakeOkta,
  useSandbox,
  type RunResult,
} from './harness.js';

/**
 * What one spawn of the CLI may cost on a loaded 2-core machine, on top of the time a fault legitimately takes. Every
 * bound below stays under what a hang would cost (the 15 s default test timeout; the keychain timeout, set to 60 s), so
 * it still fails on a hang. Override with OKTA_CONNECT_E2E_SLACK_MS on a slower machine.
 */
const SLACK_MS = Number(process.env.OKTA_CONNECT_E2E_SLACK_MS ?? 9_000);

beforeAll(requireKeyring);
const fake = useFakeOkta({ resetAfterEach: true });
const sandbox = useSandbox();

/** A connection saved without a test (no request, no SDK), with a fresh token. */
async function savedConnection(orgUrl = fake.url): Promise<{ name: string; token: string }> {
  const token = fake.addToken();
  const name = uniqueName('fault');
  const result = await sandbox.run(addArgs(name, orgUrl, '--no-test'), { input: token });
  expect(result.code, result.stderr).toBe(0);
  return { name, token };
}

/** The fault's contract: exit code, a one-line error and a hint, no stack, within `maxMs`, and the token nowhere. */
function expectFault(result: RunResult, code: number, maxMs: number, token: string): string {
  const error = expectCleanFailure(result, code);
  expect(result.ms).toBeLessThan(maxMs);
  expect(findLeaks(token, sandbox, [result])).toEqual([]);
  return error;
}

function hintOf(result: RunResult): string {
  return linesStarting(result.stderr, 'hint: ').join('\n');
}

function since(requests: RecordedRequest[], from: number): RecordedRequest[] {
  return requests.slice(from);
}

describe('network faults (exit 6)', () => {
  it('DNS failure: a host under .invalid', async () => {
    const token = fake.addToken();
    const name = uniqueName('dns');
    const result = await sandbox.run(addArgs(name, 'https://okta-connect-e2e.invalid'), { input: token });
    const error = expectFault(result, 6, SLACK_MS, token);
    expect(error).toMatch(/resolve/);
    expect(error).toContain('okta-connect-e2e.invalid');
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(secretToolLookup(name)).toBeUndefined();
  });

  it('connection refused: a closed local port', async () => {
    const token = fake.addToken();
    const name = uniqueName('refused');
    const port = await closedPort();
    const result = await sandbox.run(addArgs(name, `https://127.0.0.1:${String(port)}`), { input: token });
    const error = expectFault(result, 6, SLACK_MS, token);
    expect(error).toMatch(/refused/);
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(secretToolLookup(name)).toBeUndefined();
  });

  it('a server that accepts and never answers, with --timeout 2', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'silent';
    const result = await sandbox.run(['test', '--name', name, '--timeout', '2'], { timeoutMs: 30_000 });
    const error = expectFault(result, 6, 2_000 + SLACK_MS, token);
    expect(result.ms).toBeGreaterThanOrEqual(2_000);
    expect(error).toMatch(/no answer .* within 2 s/);
    expect(hintOf(result)).toMatch(/--timeout/);
  });

  it('the whole test (org check + users/me) fits in --timeout, not each request', async () => {
    const { name, token } = await savedConnection();
    // Each answer takes 1.5 s: two requests need 3 s, more than the 2 s allowed for the whole test.
    fake.delayMs = 1_500;
    const result = await sandbox.run(['test', '--name', name, '--timeout', '2'], { timeoutMs: 30_000 });
    expectFault(result, 6, 2_000 + SLACK_MS, token);
    expect(result.ms).toBeGreaterThanOrEqual(2_000);
  });

  it('TLS with an untrusted CA: the hint names NODE_EXTRA_CA_CERTS', async () => {
    const rogue = await startFakeOkta({ tls: 'untrusted' });
    try {
      const token = rogue.addToken();
      const name = uniqueName('tls');
      const result = await sandbox.run(addArgs(name, rogue.url), { input: token });
      const error = expectFault(result, 6, SLACK_MS, token);
      expect(error).toMatch(/TLS/);
      expect(hintOf(result)).toContain('NODE_EXTRA_CA_CERTS');
      expect(rogue.requests).toEqual([]);
      expect(storedConnection(sandbox, name)).toBeUndefined();
      expect(secretToolLookup(name)).toBeUndefined();
    } finally {
      await rogue.close();
    }
  });

  it('a working HTTPS_PROXY carries the whole test (the control for the next test)', async () => {
    const { name } = await savedConnection();
    const proxy = await startConnectProxy();
    try {
      const result = await sandbox.run(['test', '--name', name], { env: { HTTPS_PROXY: proxy.url } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.ms).toBeLessThan(SLACK_MS);
      const target = `localhost:${String(fake.port)}`;
      // One tunnel for the org check, at least one for users/me: nothing went around the proxy.
      expect(proxy.connects.length).toBeGreaterThanOrEqual(2);
      expect(new Set(proxy.connects)).toEqual(new Set([target]));
    } finally {
      await proxy.close();
    }
  });

  it('an unreachable HTTPS_PROXY', async () => {
    const { name, token } = await savedConnection();
    const before = fake.requests.length;
    const proxy = `http://127.0.0.1:${String(await closedPort())}`;
    const result = await sandbox.run(['test', '--name', name], { env: { HTTPS_PROXY: proxy } });
    const error = expectFault(result, 6, SLACK_MS, token);
    expect(error).toMatch(/proxy/);
    expect(error).toContain(proxy);
    expect(hintOf(result)).toContain('HTTPS_PROXY');
    expect(since(fake.requests, before)).toEqual([]);
  });
});

describe('Okta or the host answers wrongly (exit 7)', () => {
  it('500 from users/me', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'status-500';
    const result = await sandbox.run(['test', '--name', name]);
    const error = expectFault(result, 7, SLACK_MS, token);
    expect(error).toMatch(/500/);
    expect(storedConnection(sandbox, name)?.lastTest).toMatchObject({ ok: false, code: 7 });
  });

  it('502 with an HTML body: reported in one line, without the page', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'status-502-html';
    const result = await sandbox.run(['test', '--name', name]);
    const error = expectFault(result, 7, SLACK_MS, token);
    expect(error).toMatch(/502/);
    expect(result.stderr).not.toMatch(/<html|<body|Bad Gateway<\/h1>/i);
  });

  it('200 with an HTML page (the SDK would take it for an empty user)', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'html-200';
    const result = await sandbox.run(['test', '--name', name]);
    const error = expectFault(result, 7, SLACK_MS, token);
    expect(error).toMatch(/not Okta's JSON|without a user/);
    expect(storedConnection(sandbox, name)?.lastUsedAt).toBeNull();
  });

  it('a body that never ends: read to 4 MiB, then exit 7 (not the timeout, not the memory)', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'endless-body';
    const result = await sandbox.run(['test', '--name', name, '--timeout', '30']);
    const error = expectFault(result, 7, 30_000, token);
    expect(error).toMatch(/answered GET \/api\/v1\/users\/me with more than 4 MiB, far more than Okta's answer \(not Okta's JSON\)/);
  });

  it('200 with truncated JSON', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'truncated-json';
    const result = await sandbox.run(['test', '--name', name]);
    const error = expectFault(result, 7, SLACK_MS, token);
    expect(error).toMatch(/JSON/);
  });

  it('429 once: retried after the reset, then success (exit 0)', async () => {
    const { name } = await savedConnection();
    fake.behaviour = 'rate-limit-once';
    const before = fake.requests.length;
    const result = await sandbox.run(['test', '--name', name]);
    expect(result.code, result.stderr).toBe(0);
    // The reset is at most 1 s ahead; the SDK waits for it plus 1 s.
    expect(result.ms).toBeLessThan(2_000 + SLACK_MS);
    const me = since(fake.requests, before).filter((request) => request.path === '/api/v1/users/me');
    expect(me).toHaveLength(2);
    expect(me[1]?.retryCount).toBe('1');
    expect(storedConnection(sandbox, name)?.lastTest).toMatchObject({ ok: true, code: 0 });
  });

  it('429 always: a bounded number of tries, then exit 7', async () => {
    const { name, token } = await savedConnection();
    fake.behaviour = 'rate-limit-always';
    const before = fake.requests.length;
    const result = await sandbox.run(['test', '--name', name]);
    const error = expectFault(result, 7, 2_000 + SLACK_MS, token);
    expect(error).toMatch(/429|rate limit/);
    const me = since(fake.requests, before).filter((request) => request.path === '/api/v1/users/me');
    expect(me.length).toBeGreaterThanOrEqual(1);
    expect(me.length).toBeLessThanOrEqual(2);
  });

  it('a host that is not an Okta org: exit 7, and no request ever carried the token', async () => {
    fake.behaviour = 'not-okta';
    const token = fake.addToken();
    const name = uniqueName('notokta');
    const before = fake.requests.length;
    const result = await sandbox.run(addArgs(name, fake.url), { input: token });
    const error = expectFault(result, 7, SLACK_MS, token);
    expect(error).toMatch(/not an Okta org/);
    const requests = since(fake.requests, before);
    expect(requests.map((request) => request.path)).toContain('/.well-known/okta-organization');
    expect(requests.filter((request) => request.authorization !== undefined)).toEqual([]);
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(secretToolLookup(name)).toBeUndefined();

    // The same for a saved connection whose host stopped being an Okta org.
    fake.behaviour = 'okta';
    const saved = await savedConnection();
    fake.behaviour = 'not-okta';
    const from = fake.requests.length;
    const tested = await sandbox.run(['test', '--name', saved.name]);
    expectFault(tested, 7, SLACK_MS, saved.token);
    expect(since(fake.requests, from).length).toBeGreaterThan(0);
    expect(since(fake.requests, from).filter((request) => request.authorization !== undefined)).toEqual([]);
  });

  describe('redirects', () => {
    // Another server that would gladly take a token: an Okta look-alike that never identified itself to us.
    const other = useFakeOkta();

    function tokenSentTo(server: FakeOkta, token: string): RecordedRequest[] {
      return server.requests.filter((request) => request.authorization?.includes(token) === true);
    }

    it('every request redirected to another host: exit 7, the token sent nowhere', async () => {
      const { name, token } = await savedConnection();
      fake.behaviour = 'redirect';
      fake.redirectTo = `https://127.0.0.1:${String(other.port)}`;
      const before = fake.requests.length;
      const result = await sandbox.run(['test', '--name', name]);
      expectFault(result, 7, SLACK_MS, token);
      expect(since(fake.requests, before).length).toBeGreaterThan(0);
      expect(since(fake.requests, before).filter((request) => request.authorization !== undefined)).toEqual([]);
      expect(tokenSentTo(other, token)).toEqual([]);
    });

    it('users/me redirected to another host: exit 7, the token never reaches it', async () => {
      const { name, token } = await savedConnection();
      fake.behaviour = 'redirect-api';
      fake.redirectTo = `https://127.0.0.1:${String(other.port)}`;
      const result = await sandbox.run(['test', '--name', name]);
      expect(tokenSentTo(other, token)).toEqual([]);
      expectFault(result, 7, SLACK_MS, token);
    });

    it('users/me redirected to another port of the same host name: the token never reaches it', async () => {
      const { name, token } = await savedConnection();
      fake.behaviour = 'redirect-api';
      // Same host name, another port: another origin, which never answered /.well-known/okta-organization.
      fake.redirectTo = other.url;
      const result = await sandbox.run(['test', '--name', name]);
      expect(tokenSentTo(other, token), 'the token was sent to an origin that never identified as an Okta org').toEqual([]);
      expectFault(result, 7, SLACK_MS, token);
    });
  });
});

describe('keychain unreachable (exit 8)', () => {
  // A keychain call that waited for its timeout instead of failing at once would take a minute: the bounds below tell.
  const env = { DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS, ...BASE_ENV };

  function expectKeychainHint(result: RunResult): void {
    const hint = hintOf(result);
    expect(hint).toMatch(/Secret Service/);
    expect(hint).toMatch(/OKTA_CONNECT_<NAME>_TOKEN|OKTA_CONNECT_\w+_TOKEN/);
  }

  it('add: exit 8 with what to install, and no metadata saved', async () => {
    const token = fake.addToken();
    const name = uniqueName('nokeyring');
    const result = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token, env });
    expectFault(result, 8, SLACK_MS, token);
    expectKeychainHint(result);
    expect(storedConnection(sandbox, name)).toBeUndefined();
  });

  it('test and remove of a saved connection: exit 8, the connection kept', async () => {
    const { name, token } = await savedConnection();
    const tested = await sandbox.run(['test', '--name', name], { env });
    expectFault(tested, 8, SLACK_MS, token);
    expectKeychainHint(tested);
    const removed = await sandbox.run(['remove', '--name', name, '--yes'], { env });
    expectFault(removed, 8, SLACK_MS, token);
    expect(storedConnection(sandbox, name)).toBeDefined();
    expect(secretToolLookup(name)).toBe(token);
  });
});

describe('metadata file faults', () => {
  const local = useSandbox();

  function writeCorrupt(text: string): { path: string; bytes: Buffer; mtimeMs: number } {
    mkdirSync(local.configDir, { recursive: true, mode: 0o700 });
    const path = connectionsPath(local);
    writeFileSync(path, text, { mode: 0o600 });
    return { path, bytes: readFileSync(path), mtimeMs: statSync(path).mtimeMs };
  }

  it('a corrupt connections.json is reported with its path and left byte-for-byte untouched', async () => {
    const corrupt = writeCorrupt('{"version": 1, "connections": [{"name": "prod", "orgUrl": "https://acme.okta.com"');
    const token = fake.addToken();
    const name = uniqueName('corrupt');
    const runs: [string, RunResult][] = [
      ['list', await local.run(['list'])],
      ['add', await local.run(addArgs(name, fake.url, '--no-test'), { input: token })],
      ['test', await local.run(['test', '--name', 'prod'])],
      ['remove', await local.run(['remove', '--name', 'prod', '--yes'])],
    ];
    for (const [what, result] of runs) {
      const error = expectCleanFailure(result, 2);
      expect(error, what).toContain(corrupt.path);
      expect(error, what).toMatch(/corrupt/);
      expect(result.ms, what).toBeLessThan(SLACK_MS);
    }
    expect(readFileSync(corrupt.path).equals(corrupt.bytes)).toBe(true);
    expect(statSync(corrupt.path).mtimeMs).toBe(corrupt.mtimeMs);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(findLeaks(token, local, runs.map(([, result]) => result))).toEqual([]);
  });

  it('valid JSON of the wrong shape is corrupt too, and left untouched', async () => {
    const corrupt = writeCorrupt('{"version": 1, "connections": {"prod": {}}}\n');
    const result = await local.run(['list', '--json']);
    const error = expectCleanFailure(result, 2);
    expect(error).toContain(corrupt.path);
    expect(result.ms).toBeLessThan(SLACK_MS);
    expect(readFileSync(corrupt.path).equals(corrupt.bytes)).toBe(true);
  });
});

function canMakeImmutable(): boolean {
  try {
    const probe = makeSandbox();
    try {
      execFileSync('chattr', ['+i', probe.cwd], { stdio: 'ignore' });
      execFileSync('chattr', ['-i', probe.cwd], { stdio: 'ignore' });
      return true;
    } finally {
      disposeSandbox(probe);
    }
  } catch {
    return false;
  }
}

describe('config folder that cannot be written', () => {
  // Root ignores file modes, so a chmod 0500 folder would prove nothing here; an immutable folder stops root too.
  it.runIf(canMakeImmutable())('an immutable config folder: add fails cleanly and takes its secret back out of the keychain', async () => {
    const local = makeSandbox();
    const existing = fake.addToken();
    const existingName = uniqueName('kept');
    expect((await local.run(addArgs(existingName, fake.url, '--no-test'), { input: existing })).code).toBe(0);
    const path = connectionsPath(local);
    const bytes = readFileSync(path);
    execFileSync('chattr', ['+i', local.configDir]);
    try {
      const token = fake.addToken();
      const name = uniqueName('readonly');
      const result = await local.run(addArgs(name, fake.url, '--no-test'), { input: token });
      const error = expectCleanFailure(result, 2);
      expect(error).toContain(local.configDir);
      expect(error).toMatch(/permission denied|read-only/);
      expect(result.ms).toBeLessThan(SLACK_MS);
      // The secret was written first, then taken back when the metadata could not be written.
      expect(secretToolLookup(name)).toBeUndefined();
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(secretToolLookup(existingName)).toBe(existing);
      expect(findLeaks(token, local, [result])).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', local.configDir]);
      disposeSandbox(local);
    }
  });

  it('a config path that is a file, not a folder: add fails cleanly and saves no secret', async () => {
    const file = join(sandbox.cwd, 'not-a-folder');
    writeFileSync(file, 'just a file\n');
    const token = fake.addToken();
    const name = uniqueName('notdir');
    const env = { OKTA_CONNECT_CONFIG_DIR: file };
    const result = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token, env });
    const error = expectFault(result, 2, SLACK_MS, token);
    expect(error).toContain(file);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('just a file\n');
  });
});
