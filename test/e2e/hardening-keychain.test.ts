/**
 * A keychain that accepts and never answers: the session's dbus-daemon stopped with SIGSTOP (the kernel still queues
 * connections to its socket, so a client connects and then waits for its first answer forever). @napi-rs/keyring connects
 * to D-Bus on the main thread with no timeout, so without a bound of our own every command that touches the keychain
 * would hang past OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS and ignore SIGTERM. Real daemons: a private D-Bus session and
 * gnome-keyring, through the built binary.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { BIN, describeRun, disposeSandbox, expectCleanFailure, makeSandbox, readConnections, startPrivateKeyring, uniqueName, waitFor, type PrivateKeyring, type RunResult, type Sandbox } from './harness.js';
import { exitWithin, startWatched } from './watched-process.js';

/** The bound under test: short, so that a hang is plain, but long enough for a loaded machine to start the CLI. */
const BOUND_MS = 2_000;
/** Start-up and exit of the CLI on a shared 2-core machine, on top of the bound. */
const SLACK_MS = 4_000;
const LONG = 120_000;

let keyring: PrivateKeyring;
let fake: FakeOkta;
let sandbox: Sandbox;
let env: Record<string, string>;
const saved = uniqueName('stopped');

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  fake = await startFakeOkta();
  sandbox = makeSandbox();
  env = { DBUS_SESSION_BUS_ADDRESS: keyring.address, OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: String(BOUND_MS) };
  const token = fake.addToken();
  const added = await sandbox.run(['add', '--name', saved, '--org-url', fake.url, '--token-stdin', '--no-test'], {
    input: token,
    env: { ...env, OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: '60000' },
    timeoutMs: 60_000,
  });
  expect(added.code, describeRun(added)).toBe(0);
  expect(keyring.lookup(saved)).toBe(token);
}, LONG);
afterEach(() => {
  keyring.resumeBus();
});
afterAll(async () => {
  keyring.resumeBus();
  disposeSandbox(sandbox);
  await fake.close();
  await keyring.stop();
});

/** Each command, its arguments and what it reads on stdin (made when it runs: rotate needs a token the fake knows). */
const commands: [string, string[], (() => string) | undefined][] = [
  ['token', ['token', '--name', saved], undefined],
  ['test', ['test', '--name', saved], undefined],
  ['exec', ['exec', '--name', saved, '--', 'true'], undefined],
  ['remove', ['remove', '--name', saved, '--yes'], undefined],
  ['add', ['add', '--name', uniqueName('new'), '--org-url', 'https://acme.okta.com', '--token-stdin', '--no-test'], () => `00${'a'.repeat(40)}`],
  // It tests the new token first (the fake answers), then writes the keychain.
  ['rotate', ['rotate', saved, '--token-stdin'], () => fake.addToken()],
];

describe('the dbus-daemon stopped (accepts, never answers)', () => {
  it.each(commands)('%s: exit 8 within the bound, saying the keychain did not answer; nothing changed', async (_, args, input) => {
    const before = readConnections(sandbox);
    keyring.pauseBus();
    const result = await sandbox.run(args, { env, input: input?.(), timeoutMs: BOUND_MS + 30_000 });
    keyring.resumeBus();
    const line = expectCleanFailure(result, 8);
    expect(line).toContain(`the keychain did not answer within ${String(BOUND_MS / 1000)} s`);
    expect(result.ms, describeRun(result)).toBeGreaterThanOrEqual(BOUND_MS - 100);
    expect(result.ms, describeRun(result)).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(readConnections(sandbox)).toEqual(before);
    expect(readdirSync(sandbox.configDir)).toEqual(['connections.json']);
  }, LONG);

  it('doctor: the keychain check fails within the bound (exit 1), and the report is printed', async () => {
    keyring.pauseBus();
    const result = await sandbox.run(['doctor', '--json'], { env, timeoutMs: BOUND_MS + 30_000 });
    keyring.resumeBus();
    expect(result.code, describeRun(result)).toBe(1);
    const report = JSON.parse(result.stdout) as { checks: { name: string; status: string; message: string }[] };
    expect(report.checks.find((check) => check.name === 'keychain')).toMatchObject({ status: 'fail', message: expect.stringContaining('did not answer') as string });
    expect(result.ms, describeRun(result)).toBeLessThan(BOUND_MS + SLACK_MS);
  }, LONG);

  it('the same commands work again once the daemon is continued', async () => {
    const result = await sandbox.run(['token', '--name', saved], { env, timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe(`${keyring.lookup(saved) ?? 'missing'}\n`);
  }, LONG);

  /** Spawns the CLI against the stopped bus, waits until it has connected to it, then sends SIGTERM. */
  async function terminateWhileWaiting(args: string[], input: string | undefined): Promise<{ result: RunResult; afterSignalMs: number }> {
    // A long bound: only the signal can end the command in time.
    const watched = startWatched(process.execPath, [BIN, ...args], {
      cwd: sandbox.cwd,
      env: { ...sandbox.env, ...env, OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: '60000' },
      input,
    });
    try {
      // Connected to the bus: a unix socket among its descriptors, once it runs the CLI (between fork and exec the
      // child still has the test runner's sockets; after exec only its own, since Node opens everything close-on-exec).
      const proc = `/proc/${String(watched.pid)}`;
      const hasSocket = (): boolean => {
        try {
          if (!readFileSync(`${proc}/cmdline`, 'utf8').split('\0').includes(BIN)) return false;
          // Past the three stdio descriptors, which are socket pairs themselves when Node spawns with pipes.
          return readdirSync(`${proc}/fd`).some((fd) => Number(fd) > 2 && readlinkSync(`${proc}/fd/${fd}`).startsWith('socket:'));
        } catch {
          return false;
        }
      };
      await watched.waitUntil(hasSocket, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 200)); // let it settle into its wait
      const signalled = performance.now();
      watched.child.kill('SIGTERM');
      const result = await exitWithin(watched, 10_000);
      const afterSignalMs = performance.now() - signalled;
      watched.dispose();
      return { result: result ?? (await watched.exited), afterSignalMs };
    } finally {
      watched.dispose();
    }
  }

  it.each(commands.filter(([command]) => ['token', 'test', 'add'].includes(command)))(
    '%s: SIGTERM while it waits on the keychain ends it within a second (exit 130), leaving no lock file',
    async (_, args, input) => {
      const before = readConnections(sandbox);
      const requestsBefore = fake.requests.length;
      keyring.pauseBus();
      const { result, afterSignalMs } = await terminateWhileWaiting(args, input?.());
      keyring.resumeBus();
      expect(result.code, describeRun(result)).toBe(130);
      expect(result.stderr).toContain('interrupted: nothing was left half-written');
      expect(afterSignalMs, describeRun(result)).toBeLessThan(1_000);
      expect(fake.requests.slice(requestsBefore).filter((request) => request.authorization !== undefined)).toEqual([]);
      // add was holding the metadata lock while it waited: it is removed on the way out.
      expect(readdirSync(sandbox.configDir)).toEqual(['connections.json']);
      expect(readConnections(sandbox)).toEqual(before);
    },
    LONG,
  );

  it('doctor: SIGTERM while its keychain probe waits ends it within a second (exit 130), no probe entry and no lock file left', async () => {
    keyring.pauseBus();
    const { result, afterSignalMs } = await terminateWhileWaiting(['doctor'], undefined);
    keyring.resumeBus();
    expect(result.code, describeRun(result)).toBe(130);
    expect(afterSignalMs, describeRun(result)).toBeLessThan(1_000);
    expect(keyring.accounts().filter((account) => account.startsWith('__okta-connect-doctor-probe'))).toEqual([]);
    // doctor probes under the connections lock: it is removed on the way out.
    expect(readdirSync(sandbox.configDir)).toEqual(['connections.json']);
  }, LONG);
});

describe('SIGQUIT (Ctrl-\\), whose default action is a core dump', () => {
  it('test holding the token while Okta is slow: SIGQUIT ends it with 130 and leaves no core file', async () => {
    // A core file lands in the working folder here (kernel.core_pattern "core") once the shell lifts the size limit.
    const watched = startWatched('sh', ['-c', 'ulimit -c unlimited 2>/dev/null; exec "$@"', 'sh', process.execPath, BIN, 'test', '--name', saved, '--timeout', '60'], {
      cwd: sandbox.cwd,
      env: { ...sandbox.env, ...env, OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: '60000' },
    });
    const since = fake.requests.length; // earlier tests asked too
    const asked = (path: string) => (): boolean => fake.requests.slice(since).some((request) => request.path === path);
    try {
      // The org check answers at once; users/me, sent with the token once the SDK has loaded (long after), waits.
      expect(await watched.waitUntil(asked('/.well-known/okta-organization'), 60_000), watched.output().stderr).toBe(true);
      fake.delayMs = 30_000;
      expect(await watched.waitUntil(asked('/api/v1/users/me'), 60_000), watched.output().stderr).toBe(true);
      watched.child.kill('SIGQUIT');
      const result = await exitWithin(watched, 10_000);
      expect(result, 'okta-connect did not exit within 10 s of SIGQUIT').toBeDefined();
      if (result === undefined) return;
      expect(result.signal, describeRun(result)).toBeNull();
      expect(result.code, describeRun(result)).toBe(130);
      expect(readdirSync(sandbox.cwd).filter((file) => file.startsWith('core'))).toEqual([]);
    } finally {
      fake.delayMs = 0;
      watched.dispose();
    }
  }, LONG);
});

describe('the harness: a private keyring whose daemon dies says so (keyring-per-file.ts fails the file with it)', () => {
  it('death() is undefined while the daemon runs and after stop(), and names how it ended when it dies first', async () => {
    const running = await startPrivateKeyring();
    const killed = await startPrivateKeyring();
    try {
      expect(running.death()).toBeUndefined();
      expect(killed.daemonPid).toBeTypeOf('number');
      process.kill(killed.daemonPid ?? 0, 'SIGKILL');
      await waitFor('the killed daemon to be reaped', () => killed.death() !== undefined, 10_000);
      expect(killed.death()).toMatch(/^SIGKILL; it said: /);
      expect(running.death()).toBeUndefined();
    } finally {
      await running.stop();
      await killed.stop();
    }
    expect(running.death()).toBeUndefined();
  }, LONG);
});
