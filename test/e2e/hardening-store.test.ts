/**
 * The keychain and connections.json change together or not at all, whatever arrives meanwhile: a SIGTERM while the
 * metadata write is slow, a token in the keychain that does not match its metadata, a secret that is not a token, a
 * umask that strips the owner's own bits.
 * Real parts: the built binary, a private D-Bus session with gnome-keyring, two HTTPS fake Okta orgs. The slow write
 * is real too: strace holds the first fsync(2) of the process (the temporary metadata file's) for a few seconds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { BIN, describeRun, disposeSandbox, expectCleanFailure, makeSandbox, startPrivateKeyring, storedConnection, uniqueName, type PrivateKeyring, type RunResult, type Sandbox } from './harness.js';
import { exitWithin, startWatched } from './watched-process.js';

const LONG = 180_000;
/** How long strace holds the fsync: the window in which the signal arrives. */
const FSYNC_DELAY_MS = 3_000;

let keyring: PrivateKeyring;
let orgA: FakeOkta;
let orgB: FakeOkta;
let sandbox: Sandbox;
let env: Record<string, string>;

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  orgA = await startFakeOkta();
  orgB = await startFakeOkta();
  sandbox = makeSandbox();
  env = { DBUS_SESSION_BUS_ADDRESS: keyring.address, OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: '60000', OKTA_CONNECT_NO_COMPILE_CACHE: '1' };
}, LONG);
afterAll(async () => {
  disposeSandbox(sandbox);
  await orgA.close();
  await orgB.close();
  await keyring.stop();
});

function run(args: string[], input?: string): Promise<RunResult> {
  return sandbox.run(args, { env, input, timeoutMs: 120_000 });
}

async function addUntested(name: string, orgUrl: string, token: string, ...extra: string[]): Promise<void> {
  const result = await run(['add', '--name', name, '--org-url', orgUrl, '--token-stdin', '--no-test', ...extra], token);
  expect(result.code, describeRun(result)).toBe(0);
}

/** Every request that carried this token, per org. */
function sentTo(fake: FakeOkta, token: string): number {
  return fake.requests.filter((request) => request.authorization === `SSWS ${token}`).length;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the CLI under strace with its first fsync held for FSYNC_DELAY_MS, and sends SIGTERM to it once the temporary
 * metadata file exists: after the keychain write, before the metadata rename.
 */
async function terminateDuringMetadataWrite(args: string[], input: string): Promise<{ result: RunResult; sawTemp: boolean }> {
  const strace = ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=fsync', '-e', `inject=fsync:delay_enter=${String(FSYNC_DELAY_MS * 1000)}:when=1`];
  const watched = startWatched('strace', [...strace, process.execPath, BIN, ...args], { cwd: sandbox.cwd, env: { ...sandbox.env, ...env }, input });
  try {
    const hasTemp = (): boolean => {
      try {
        return readdirSync(sandbox.configDir).some((file) => file.endsWith('.tmp'));
      } catch {
        return false; // the folder is not there yet
      }
    };
    const sawTemp = await watched.waitUntil(hasTemp, 60_000);
    if (sawTemp) {
      await sleep(300); // well inside the held fsync
      const tracee = Number(readFileSync(`/proc/${String(watched.pid)}/task/${String(watched.pid)}/children`, 'utf8').trim().split(' ')[0]);
      process.kill(tracee, 'SIGTERM');
    }
    const result = await exitWithin(watched, 60_000);
    watched.dispose();
    return { result: result ?? (await watched.exited), sawTemp };
  } finally {
    watched.dispose();
  }
}

describe('a signal while the metadata is being written', () => {
  it('strace is there to slow the write down (apt-get install strace)', () => {
    expect(() => execFileSync('strace', ['-V'], { stdio: 'ignore' })).not.toThrow();
  });

  it('add --force --org-url B, SIGTERM mid-write: exit 130, keychain and metadata agree, nothing stray, nothing sent to the wrong org', async () => {
    const name = uniqueName('sig');
    const tokenA = orgA.addToken();
    const tokenB = orgB.addToken();
    await addUntested(name, orgA.url, tokenA);

    const { result, sawTemp } = await terminateDuringMetadataWrite(['add', '--force', '--name', name, '--org-url', orgB.url, '--token-stdin', '--no-test'], tokenB);
    expect(sawTemp, describeRun(result)).toBe(true);
    expect(result.code, describeRun(result)).toBe(130);
    expect(result.stderr).not.toContain('nothing was left half-written');

    // No temporary file, no lock: the write finished (or was undone) before the process exited.
    expect(readdirSync(sandbox.configDir)).toEqual(['connections.json']);
    // What it said is what is stored, and the keychain agrees with the metadata.
    const stored = storedConnection(sandbox, name);
    const secret = keyring.lookup(name);
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    if (stored?.orgUrl === orgB.url) {
      expect(last).toBe(`interrupted: "${name}" was saved (${orgB.url}) before the interrupt took effect`);
      expect(secret).toBe(tokenB);
    } else {
      expect(stored?.orgUrl).toBe(orgA.url);
      expect(last).toBe(`interrupted: "${name}" was not saved; the keychain is as it was`);
      expect(secret).toBe(tokenA);
    }

    const tested = await run(['test', '--name', name]);
    expect(tested.code, describeRun(tested)).toBe(0);
    expect(sentTo(orgA, tokenB), 'token B sent to org A').toBe(0);
    expect(sentTo(orgB, tokenA), 'token A sent to org B').toBe(0);
  }, LONG);

  it('the state an interrupted save used to leave (token B in the keychain, address A saved): refused, nothing sent', async () => {
    const name = uniqueName('wrong-org');
    const tokenA = orgA.addToken();
    const tokenB = orgB.addToken();
    await addUntested(name, orgA.url, tokenA);
    keyring.store(name, tokenB);
    const requestsBefore = orgA.requests.length;

    for (const args of [['test', '--name', name], ['token', '--name', name], ['exec', '--name', name, '--', 'true']]) {
      const result = await run(args);
      const line = expectCleanFailure(result, 8);
      expect(line).toContain(`the token in the OS keychain for "${name}" is not the one saved for ${orgA.url}: it was not sent`);
      expect(result.stdout + result.stderr).not.toContain(tokenB);
    }
    expect(orgA.requests.slice(requestsBefore).filter((request) => request.authorization !== undefined)).toEqual([]);
    expect(sentTo(orgA, tokenB)).toBe(0);
  }, LONG);
});

describe('a secret in the keychain that is not a token', () => {
  it('"sh\\r\\nX" stored with secret-tool: test exits 8 saying so, and prints neither the value nor a piece of it', async () => {
    const name = uniqueName('ctrl');
    await addUntested(name, orgA.url, orgA.addToken());
    const value = 'sh\r\nX';
    keyring.store(name, value);
    expect(keyring.lookup(name)).toBe(value);
    const requestsBefore = orgA.requests.length;

    const result = await run(['test', '--name', name]);
    const line = expectCleanFailure(result, 8);
    expect(line).toContain(`the secret saved for "${name}" in the OS keychain is not valid`);
    expect(line).toMatch(/control characters/);
    const printed = result.stdout + result.stderr;
    for (const piece of [value, 'sh\r', '\r\nX', '\nX', 'sh\\r', '\\r\\nX', '\r']) expect(printed).not.toContain(piece);
    expect(printed.split('\n')).not.toContain('X');
    expect(orgA.requests.slice(requestsBefore).filter((request) => request.authorization !== undefined)).toEqual([]);

  }, LONG);
});

describe('a umask that strips the owner\'s own bits', () => {
  /** The CLI started by a shell that set this umask first. */
  function runUnderUmask(umask: string, home: Sandbox, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile('sh', ['-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, BIN, ...args], {
        cwd: home.cwd,
        env: { ...home.env, ...env },
        timeout: 120_000,
      }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
      child.stdin?.end(input);
    });
  }

  it.each(['0277', '0777'])('umask %s: add makes its folders 0700 and the file 0600, and doctor finds them right', async (umask) => {
    const home = makeSandbox();
    try {
      const name = uniqueName('umask');
      const added = await runUnderUmask(umask, home, ['add', '--name', name, '--org-url', orgA.url, '--token-stdin', '--no-test'], orgA.addToken());
      expect(added.code, added.stderr).toBe(0);
      const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
      // XDG_CONFIG_HOME (~/.config) did not exist either: created here, so 0700 too.
      expect([mode(join(home.home, '.config')), mode(home.configDir), mode(join(home.configDir, 'connections.json'))]).toEqual(['0700', '0700', '0600']);
      expect(readdirSync(home.configDir)).toEqual(['connections.json']);
      const doctor = await home.run(['doctor', '--json'], { env, timeoutMs: 120_000 });
      const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string }[] }).checks;
      expect(checks.filter((check) => check.name.startsWith('config '))).toEqual([expect.objectContaining({ name: 'config folder', status: 'ok' })]);
    } finally {
      disposeSandbox(home);
    }
  }, LONG);
});
