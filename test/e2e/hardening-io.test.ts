import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { startRawTlsServer, type Garbage, type GarbageStage } from '../fixtures/raw-tls-server.js';
import {
  BIN,
  disposeSandbox,
  expectCleanFailure,
  makeSandbox,
  requireKeyring,
  startConnectProxy,
  storedConnection,
  UNREACHABLE_DBUS,
  uniqueName,
  type RunResult,
  type Sandbox,
  describeRun,
} from './harness.js';

/** Hardening of the edges where bytes come in: flags and variables with numbers, stdin, the network, stdout. */

let fake: FakeOkta;
let sandbox: Sandbox;
let saved: string;

beforeAll(async () => {
  requireKeyring();
  fake = await startFakeOkta();
  sandbox = makeSandbox();
  saved = uniqueName('io');
  const result = await sandbox.run(['add', '--name', saved, '--org-url', fake.url, '--token-stdin', '--no-test'], { input: fake.addToken() });
  expect(result.code, describeRun(result)).toBe(0);
});
afterAll(async () => {
  await fake.close();
  disposeSandbox(sandbox);
});
afterEach(() => {
  fake.behaviour = 'okta';
});

describe('numbers of time: a sane range, the rest refused naming the flag or variable (exit 2)', () => {
  const KEYCHAIN = 'OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS';
  const cases: { what: string; args: () => string[]; env?: Record<string, string>; says: RegExp }[] = [
    { what: 'test --timeout 1e-9 (was 0 ms)', args: () => ['test', '--name', saved, '--timeout', '1e-9'], says: /^error: invalid --timeout: "1e-9"/ },
    { what: 'test --timeout 0.05', args: () => ['test', '--name', saved, '--timeout', '0.05'], says: /^error: invalid --timeout: "0.05"/ },
    { what: 'test --timeout 1e2', args: () => ['test', '--name', saved, '--timeout', '1e2'], says: /^error: invalid --timeout: "1e2"/ },
    { what: 'test --all --timeout 0x10', args: () => ['test', '--all', '--timeout', '0x10'], says: /^error: invalid --timeout: "0x10"/ },
    { what: 'remove --revoke --timeout 0.0004 (was 0 ms)', args: () => ['remove', '--name', saved, '--revoke', '--yes', '--timeout', '0.0004'], says: /^error: invalid --timeout: "0.0004"/ },
    { what: `test with ${KEYCHAIN}=2147483648 (was a 1 ms timer)`, args: () => ['test', '--name', saved], env: { [KEYCHAIN]: '2147483648' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "2147483648"`) },
    { what: `token with ${KEYCHAIN}=0`, args: () => ['token', '--name', saved], env: { [KEYCHAIN]: '0' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "0"`) },
    { what: `list with ${KEYCHAIN}=1e3`, args: () => ['list'], env: { [KEYCHAIN]: '1e3' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "1e3"`) },
    { what: `add with ${KEYCHAIN}=99`, args: () => ['add', '--name', uniqueName('io'), '--org-url', fake.url, '--token-stdin', '--no-test'], env: { [KEYCHAIN]: '99' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "99"`) },
    { what: `exec with ${KEYCHAIN}=600001`, args: () => ['exec', '--name', saved, '--', 'true'], env: { [KEYCHAIN]: '600001' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "600001"`) },
  ];
  it.each(cases)('$what', async ({ args, env, says }) => {
    const before = fake.requests.length;
    const result = await sandbox.run(args(), { env, input: fake.addToken() });
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(says);
    expect(fake.requests.length, 'refused before any request').toBe(before);
  });

  it('the bounds themselves are accepted: --timeout 0.1 runs the test (and may time out, exit 6, not 2)', async () => {
    const result = await sandbox.run(['test', '--name', saved, '--timeout', '0.1'], { env: { [KEYCHAIN]: '600000' } });
    expect([0, 6], describeRun(result)).toContain(result.code);
  });
});

/** The CLI with `yes` (an endless stream) on its stdin; killed after `boundMs`. */
function runWithYes(args: string[], boundMs: number): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const yes = spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] });
    const child = spawn(process.execPath, [BIN, ...args], { cwd: sandbox.cwd, env: sandbox.env, stdio: [yes.stdout, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      yes.kill('SIGKILL');
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut: false });
    });
  });
}

describe('--token-stdin reads at most 64 KiB', () => {
  it('yes | okta-connect add --token-stdin …: exit 2 at once, saying why, nothing saved', async () => {
    const name = uniqueName('yes');
    const result = await runWithYes(['add', '--name', name, '--org-url', fake.url, '--token-stdin', '--no-test'], 20_000);
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(/stdin held more than 64 KiB/);
    expect(result.ms).toBeLessThan(10_000);
    expect(storedConnection(sandbox, name)).toBeUndefined();
  });
});

// ---- malformed HTTP, proxies, stdout that cannot be written, very large files ----------------------------------

/** Save a connection to `orgUrl` without testing it (no request made). */
async function saveUntested(orgUrl: string): Promise<string> {
  const name = uniqueName('raw');
  const result = await sandbox.run(['add', '--name', name, '--org-url', orgUrl, '--token-stdin', '--no-test'], { input: fake.addToken() });
  expect(result.code, describeRun(result)).toBe(0);
  return name;
}

describe('a TLS server that answers malformed HTTP: exit 7 (the host answered wrongly), not 1', () => {
  const GARBAGE: Garbage[] = ['bad-status-line', 'bad-header-byte', 'header-overflow', 'not-http', 'bad-content-length', 'bad-chunk', 'binary'];
  const STAGES: GarbageStage[] = ['org-check', 'api'];
  const cases = STAGES.flatMap((stage) => GARBAGE.map((garbage) => ({ stage, garbage })));

  it.each(cases)('$garbage at the $stage', async ({ stage, garbage }) => {
    const raw = await startRawTlsServer(garbage, stage);
    try {
      const name = await saveUntested(raw.url);
      const result = await sandbox.run(['test', '--name', name]);
      const error = expectCleanFailure(result, 7);
      expect(error).toMatch(/answered with malformed HTTP \(HPE_[A-Z_]+\)/);
      // The token went only where the org check passed first.
      const withToken = raw.requests.filter((head) => /^authorization:/im.test(head));
      if (stage === 'org-check') expect(withToken).toEqual([]);
    } finally {
      await raw.close();
    }
  });

  it('add tests before saving: malformed HTTP is exit 7 and nothing is saved', async () => {
    const raw = await startRawTlsServer('header-overflow', 'api');
    try {
      const name = uniqueName('raw');
      const result = await sandbox.run(['add', '--name', name, '--org-url', raw.url, '--token-stdin'], { input: fake.addToken() });
      expectCleanFailure(result, 7);
      expect(storedConnection(sandbox, name)).toBeUndefined();
    } finally {
      await raw.close();
    }
  });
});

/** A forward proxy that refuses every CONNECT with 407 (after letting `allow` tunnels through). */
async function startProxy407(allow: number): Promise<{ url: string; connects: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { connects: 0 };
  const server = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req: { url?: string }, client: Socket) => {
    state.connects += 1;
    sockets.add(client);
    client.on('error', () => undefined);
    if (state.connects > allow) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = req.url ?? '';
    const colon = target.lastIndexOf(':');
    void import('node:net').then(({ connect }) => {
      const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon), () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    get connects() {
      return state.connects;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

describe('HTTPS_PROXY', () => {
  it.each([
    ['HTTPS_PROXY', 'proxy.corp:3128'],
    ['HTTPS_PROXY', 'http://[::1'],
    ['HTTPS_PROXY', '::::'],
    ['HTTPS_PROXY', 'http://user:hunter2@'],
    ['HTTPS_PROXY', 'socks5://127.0.0.1:1080'],
    ['https_proxy', 'ftp://proxy.corp'],
  ])('%s=%j cannot be used: exit 2 naming the variable, its password never echoed, no request', async (variable, value) => {
    const before = fake.requests.length;
    const result = await sandbox.run(['test', '--name', saved], { env: { [variable]: value } });
    const error = expectCleanFailure(result, 2);
    expect(error).toContain(variable);
    expect(result.stderr).not.toContain('hunter2');
    expect(fake.requests.length).toBe(before);
  });

  it('a proxy that answers 407 to the org check: exit 6, "the proxy wants credentials"', async () => {
    const proxy = await startProxy407(0);
    try {
      const result = await sandbox.run(['test', '--name', saved], { env: { HTTPS_PROXY: proxy.url } });
      expect(expectCleanFailure(result, 6)).toMatch(/the proxy .* wants credentials \(407\)/);
    } finally {
      await proxy.close();
    }
  });

  it('a proxy that lets the org check through, then answers 407: exit 6 too', async () => {
    const proxy = await startProxy407(1);
    try {
      const result = await sandbox.run(['test', '--name', saved], { env: { HTTPS_PROXY: proxy.url } });
      expect(expectCleanFailure(result, 6)).toMatch(/the proxy .* wants credentials \(407\)/);
      expect(proxy.connects).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });
});

describe('stdout that cannot be written (a full disk): one error line, exit 2', () => {
  function runToDevFull(args: string[]): Promise<RunResult> {
    const started = performance.now();
    const fd = openSync('/dev/full', 'w');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: sandbox.cwd, env: sandbox.env, stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: '', stderr, ms: performance.now() - started, timedOut: false });
      });
    });
  }

  it.each([[['token', '--name', '<saved>']], [['list']], [['list', '--json']], [['--help']], [['completion', 'bash']]])('okta-connect %j > /dev/full', async (args) => {
    const result = await runToDevFull(args.map((arg) => (arg === '<saved>' ? saved : arg)));
    expect(expectCleanFailure(result, 2)).toMatch(/^error: cannot write the output \(stdout\): ENOSPC: no space left on device/);
  });
});

describe('list over a very large connections.json', () => {
  const COUNT = 130_000;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'okta-connect-big-'));
    const connections = Array.from({ length: COUNT }, (_, i) => ({
      name: `c${String(i).padStart(6, '0')}`,
      kind: 'token',
      orgUrl: 'https://acme.okta.com',
      createdAt: '2024-01-01T00:00:00.000Z',
      owner: null,
      lastTest: null,
      lastUsedAt: null,
      secretFingerprint: null,
    }));
    writeFileSync(join(dir, 'connections.json'), JSON.stringify({ version: 2, connections }), { mode: 0o600 });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${String(COUNT)} records: the table, not "Maximum call stack size exceeded"`, async () => {
    const result = await sandbox.run(['list'], { env: { OKTA_CONNECT_CONFIG_DIR: dir, DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS }, timeoutMs: 120_000 });
    expect(result.code, describeRun({ ...result, stdout: result.stdout.slice(0, 500) })).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(COUNT + 1);
    expect(lines[0]).toMatch(/^NAME +KIND|^NAME +ORG URL/);
    expect(lines[COUNT]).toMatch(/^c129999 /);
  }, 150_000);
});

// ---- secrets never go to an unverified host, nor into debug output ----------------------------------------------

describe('TLS is verified whenever a secret is sent, whatever NODE_TLS_REJECT_UNAUTHORIZED says', () => {
  let rogue: FakeOkta;
  beforeAll(async () => {
    rogue = await startFakeOkta({ tls: 'untrusted' });
  });
  afterAll(async () => {
    await rogue.close();
  });

  it.each([
    ['test of a saved connection', async (): Promise<RunResult> => {
      const name = await saveUntested(rogue.url);
      return sandbox.run(['test', '--name', name], { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
    }],
    ['add (which tests first)', (): Promise<RunResult> =>
      sandbox.run(['add', '--name', uniqueName('rogue'), '--org-url', rogue.url, '--token-stdin'], { input: rogue.addToken(), env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } })],
    ['an environment-only connection', (): Promise<RunResult> => {
      const name = uniqueName('rogue');
      const key = name.toUpperCase().replace(/-/g, '_');
      return sandbox.run(['test', '--name', name], {
        env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', [`OKTA_CONNECT_${key}_TOKEN`]: rogue.addToken(), [`OKTA_CONNECT_${key}_ORG_URL`]: rogue.url },
      });
    }],
    ['through a proxy', async (): Promise<RunResult> => {
      const proxy = await startConnectProxy();
      try {
        const name = await saveUntested(rogue.url);
        return await sandbox.run(['test', '--name', name], { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', HTTPS_PROXY: proxy.url } });
      } finally {
        await proxy.close();
      }
    }],
  ])('%s: exit 6, and the host saw no Authorization header', async (_what, run) => {
    const before = rogue.requests.length;
    const result = await run();
    expect(expectCleanFailure(result, 6)).toMatch(/TLS to localhost:\d+ failed/);
    expect(rogue.requests.slice(before).filter((request) => request.authorization !== undefined)).toEqual([]);
  });

  it('doctor warns about NODE_TLS_REJECT_UNAUTHORIZED=0 and points to NODE_EXTRA_CA_CERTS', async () => {
    const result = await sandbox.run(['doctor', '--json'], { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
    const checks = (JSON.parse(result.stdout) as { checks: { name: string; status: string; message: string; fix: string | null }[] }).checks;
    const check = checks.find((candidate) => candidate.message.includes('NODE_TLS_REJECT_UNAUTHORIZED'));
    expect(check?.status, describeRun(result)).toBe('warn');
    expect(check?.fix).toMatch(/NODE_EXTRA_CA_CERTS/);
  });
});

describe('DEBUG=* prints nothing of the proxy password', () => {
  it('test through a proxy with a password in HTTPS_PROXY: the password is nowhere in the output', async () => {
    const proxy = await startConnectProxy();
    try {
      const withPassword = proxy.url.replace('http://', 'http://ada:hunter2secret@');
      for (const args of [['test', '--name', saved], ['doctor']]) {
        const result = await sandbox.run(args, { env: { DEBUG: '*', HTTPS_PROXY: withPassword } });
        if (args[0] === 'test') expect(result.code, describeRun(result)).toBe(0);
        expect(result.stdout + result.stderr).not.toMatch(/hunter2secret|ada:/);
      }
      expect(proxy.connects.length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
