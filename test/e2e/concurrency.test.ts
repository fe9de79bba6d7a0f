import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import {
  addArgs,
  BIN,
  connectionsPath,
  describeRun,
  fileMode,
  forgetSecrets,
  leftovers,
  LONG,
  readConnections,
  requireKeyring,
  secretToolLookup,
  storedNames,
  UNDER_LOAD,
  uniqueName,
  useFakeOkta,
  useSandbox,
  type RunResult,
  type Sandbox,
} from './harness.js';

/**
 * Several okta-connect processes on one config folder and one keychain: the lock and the atomic write must lose no
 * update, keep keychain and metadata in agreement, and survive a process killed while holding the lock.
 */

const PARALLEL_ADDS = 20;
const RACE_ROUNDS = 10;
/** How long the race rounds hold the lock while both processes start (well under the CLI's 10 s lock timeout). */
const GATE_MS = 2_000;

beforeAll(requireKeyring);
const fake = useFakeOkta({ resetAfterEach: true });

function add(sandbox: Sandbox, name: string, token: string, ...extra: string[]): Promise<RunResult> {
  return sandbox.run(addArgs(name, fake.url, '--no-test', ...extra), { input: token });
}

function lockPath(sandbox: Sandbox): string {
  return `${connectionsPath(sandbox)}.lock`;
}

/** A process id that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('no pid');
  await new Promise((resolve) => child.on('exit', resolve));
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

describe('20 parallel adds of different names in one config folder', () => {
  const sandbox = useSandbox(UNDER_LOAD);
  const entries = Array.from({ length: PARALLEL_ADDS }, () => ({ name: uniqueName('par'), token: generateToken() }));
  afterAll(async () => {
    await forgetSecrets(entries.map((entry) => entry.name));
  });

  it('all exit 0; connections.json lists all of them; the keychain holds each one with its own token', async () => {
    const results = await Promise.all(entries.map((entry) => add(sandbox, entry.name, entry.token)));
    results.forEach((result, index) => {
      expect(result.code, describeRun(result, `add ${entries[index]?.name ?? ''}`)).toBe(0);
    });

    const file = readConnections(sandbox);
    expect(file?.version).toBe(2);
    expect(storedNames(sandbox)).toEqual(entries.map((entry) => entry.name).sort());
    for (const entry of entries) expect(secretToolLookup(entry.name), entry.name).toBe(entry.token);
    expect(leftovers(sandbox)).toEqual([]);
    expect(fileMode(connectionsPath(sandbox))).toBe(0o600);
  }, LONG);
});

describe('add --force and remove --yes of one name, in parallel', () => {
  const sandbox = useSandbox(UNDER_LOAD);
  const name = uniqueName('race');
  afterAll(async () => {
    await forgetSecrets([name]);
  });

  it(`after each of ${String(RACE_ROUNDS)} rounds, keychain and metadata agree: both with the round's token, or neither`, async () => {
    const endings: string[] = [];
    for (let round = 1; round <= RACE_ROUNDS; round += 1) {
      // Every round starts with the connection saved, so the remove always has something to remove.
      if (!storedNames(sandbox).includes(name)) {
        const again = await add(sandbox, name, generateToken(), '--force');
        expect(again.code, describeRun(again, `round ${String(round)}: re-add`)).toBe(0);
      }
      const token = generateToken();
      // Line the two up: hold the lock (as a live process) while both start and reach it, then let them race for it.
      // Left to process start-up times, the one that started first nearly always finishes first.
      writeFileSync(lockPath(sandbox), `${String(process.pid)} gate`, { flag: 'wx', mode: 0o600 });
      const both = Promise.all([add(sandbox, name, token, '--force'), sandbox.run(['remove', '--name', name, '--yes'])]);
      try {
        await sleep(GATE_MS);
      } finally {
        rmSync(lockPath(sandbox), { force: true });
      }
      const [added, removed] = await both;
      const context = `round ${String(round)}\n${describeRun(added, 'add --force')}\n${describeRun(removed, 'remove --yes')}`;
      expect(added.code, context).toBe(0);
      expect(removed.code, context).toBe(0);

      const isInMetadata = storedNames(sandbox).includes(name);
      const secret = secretToolLookup(name);
      if (isInMetadata) expect(secret, context).toBe(token);
      else expect(secret, context).toBeUndefined();
      expect(leftovers(sandbox), context).toEqual([]);
      endings.push(isInMetadata ? 'both' : 'neither');
    }
    console.info(`add --force vs remove --yes: ${String(RACE_ROUNDS)} rounds, endings: ${endings.join(' ')}`);
  }, LONG);
});

describe('a lock left behind', () => {
  const sandbox = useSandbox(UNDER_LOAD);
  const names: string[] = [];
  const fresh = (): string => {
    const name = uniqueName('lock');
    names.push(name);
    return name;
  };
  beforeAll(async () => {
    const first = await add(sandbox, fresh(), generateToken());
    expect(first.code, describeRun(first, 'first add')).toBe(0);
  }, LONG);
  afterAll(async () => {
    await forgetSecrets(names);
  });
  afterEach(() => {
    rmSync(lockPath(sandbox), { force: true });
  });

  // The control: without it, the tests below would pass as well if the lock were never honoured at all.
  it('held by a live process, blocks an add (exit 2, nothing saved); once that process is gone, the next add works', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockPath(sandbox), String(holder.pid), { mode: 0o600 });
      const before = readFileSync(connectionsPath(sandbox));
      const name = fresh();
      const blocked = await add(sandbox, name, generateToken());
      const context = describeRun(blocked, 'add while locked');
      expect(blocked.code, context).toBe(2);
      expect(blocked.stderr, context).toMatch(/^error: .*is locked by another okta-connect$/m);
      expect(blocked.stderr, context).toContain(lockPath(sandbox));
      expect(readFileSync(connectionsPath(sandbox)).equals(before)).toBe(true);
      expect(secretToolLookup(name)).toBeUndefined();
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.on('exit', resolve));
    const name = fresh();
    const token = generateToken();
    const after = await add(sandbox, name, token);
    expect(after.code, describeRun(after, 'add after the holder died')).toBe(0);
    expect(secretToolLookup(name)).toBe(token);
    expect(existsSync(lockPath(sandbox))).toBe(false);
  }, LONG);

  it('with the pid of a process that has exited, does not block the next add', async () => {
    writeFileSync(lockPath(sandbox), String(await deadPid()), { mode: 0o600 });
    const name = fresh();
    const token = generateToken();
    const result = await add(sandbox, name, token);
    expect(result.code, describeRun(result, 'add')).toBe(0);
    expect(storedNames(sandbox)).toContain(name);
    expect(secretToolLookup(name)).toBe(token);
    expect(leftovers(sandbox)).toEqual([]);
  }, LONG);

  it('by an add killed (kill -9) while it held the lock, does not block the next add', async () => {
    const killed = fresh();
    let attempts = 0;
    let isCaught = false;
    while (!isCaught && attempts < 15) {
      attempts += 1;
      isCaught = await killWhileLocked(sandbox, killed, generateToken());
    }
    expect(isCaught, `caught an add holding the lock in ${String(attempts)} attempts`).toBe(true);
    // What kill -9 leaves: the lock, with a dead pid (and perhaps the token without metadata: doctor reports that).
    expect(existsSync(lockPath(sandbox))).toBe(true);
    const leftState = `secret ${secretToolLookup(killed) === undefined ? 'no' : 'yes'}, metadata ${storedNames(sandbox).includes(killed) ? 'yes' : 'no'}`;

    const next = fresh();
    const nextToken = generateToken();
    const result = await add(sandbox, next, nextToken);
    expect(result.code, describeRun(result, 'next add')).toBe(0);
    expect(secretToolLookup(next)).toBe(nextToken);
    // The killed one's name can be saved again, and then keychain and metadata agree on it.
    const againToken = generateToken();
    const again = await add(sandbox, killed, againToken, '--force');
    expect(again.code, describeRun(again, 'add --force of the killed name')).toBe(0);
    expect(storedNames(sandbox)).toEqual(expect.arrayContaining([next, killed]));
    expect(secretToolLookup(killed)).toBe(againToken);
    expect(existsSync(lockPath(sandbox))).toBe(false);
    console.info(`kill -9 mid-add: caught holding the lock after ${String(attempts)} attempt(s); it left: ${leftState}`);
  }, LONG);

  it('empty (its owner was killed between creating it and writing its pid), does not block the next add', async () => {
    writeFileSync(lockPath(sandbox), '', { mode: 0o600 });
    const name = fresh();
    const token = generateToken();
    const result = await add(sandbox, name, token);
    expect(result.code, describeRun(result, 'add')).toBe(0);
    expect(secretToolLookup(name)).toBe(token);
  }, LONG);
});

/**
 * Start an add and stop it (SIGSTOP) the moment its lock appears; if the stopped process holds the lock (the lock file
 * names its pid), kill -9 it there. Otherwise let it finish and report that this attempt missed.
 */
async function killWhileLocked(sandbox: Sandbox, name: string, token: string): Promise<boolean> {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...addArgs(name, fake.url, '--no-test', '--force')], {
    cwd: sandbox.cwd,
    env: sandbox.env,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Objects, so the compiler does not narrow the flags to their initial values.
  const state = { hasExited: false, isStopped: false };
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      state.hasExited = true;
      resolve();
    }),
  );
  const pid = String(child.pid);
  const holdsLock = (): boolean => {
    try {
      // "<pid> <nonce>" (or the pid alone): whose lock it is.
      return readFileSync(lockPath(sandbox), 'utf8').split(' ')[0] === pid;
    } catch {
      return false;
    }
  };
  const tryStop = (): void => {
    if (state.isStopped || !holdsLock()) return;
    child.kill('SIGSTOP');
    state.isStopped = true;
  };
  const watcher = watch(sandbox.configDir, tryStop);
  const timer = setInterval(tryStop, 1);
  child.stdin?.end(token);
  while (!state.isStopped && !state.hasExited) await sleep(2);
  clearInterval(timer);
  watcher.close();
  if (!state.isStopped) return false;
  // Stopped: if the lock still names it now, it was stopped while holding it.
  await sleep(50);
  if (holdsLock()) {
    child.kill('SIGKILL');
    await exited;
    return true;
  }
  child.kill('SIGCONT');
  await exited;
  return false;
}
