import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, type FakeOkta } from '../fixtures/fake-okta.js';
import {
  addArgs,
  connectionsPath,
  describeRun,
  findLeaks,
  forgetSecrets,
  leftovers,
  LONG,
  nonEmptyLines,
  readConnections,
  requireKeyring,
  saveConnection,
  secretToolLookup,
  storedNames,
  TEST_RESULT_KEYS,
  tokenVar,
  UNDER_LOAD,
  UNREACHABLE_DBUS,
  uniqueName,
  urlVar,
  useFakeOkta,
  useSandbox,
  type RunResult,
  type StoredFile,
} from './harness.js';

/**
 * `test --all`, all in one place: every saved connection (and an env-only one) tested in one run, one line or JSON
 * item each in name order, exiting with the first failure in name order; concurrently, across orgs; and beside another
 * process that writes connections.json.
 */

const WELL_KNOWN = '/.well-known/okta-organization';
const USERS_ME = '/api/v1/users/me';
const ERROR_KEYS = ['code', 'httpStatus', 'message', 'oktaErrorCode', 'oktaErrorId'];

const fake = useFakeOkta({ resetAfterEach: true });

describe('test --all: one org, connections saved out of name order', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();

  it('tests every connection, one line each in name order, and exits with the first failure in name order', async () => {
    const good = fake.addToken();
    const bad = fake.addToken();
    fake.revoke(bad);
    const suffix = uniqueName('all');
    const [first, second, third] = [`a-${suffix}`, `b-${suffix}`, `c-${suffix}`];
    // Saved in another order than their names'.
    for (const [name, token] of [[third, good], [second, bad], [first, good]] as const) {
      expect((await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token })).code).toBe(0);
    }
    const result = await sandbox.run(['test', '--all']);
    expect(result.code, describeRun(result)).toBe(4);
    // Each line as soon as its connection is done: all three, in whatever order they finished, each with its mark.
    const lines = result.stdout.trimEnd().split('\n');
    const marks = Object.fromEntries(lines.map((line): [string, string] => [line.split(/ {2,}|^. /)[1] ?? '', line[0] ?? '']));
    expect(marks).toEqual({ [first]: '✓', [second]: '✗', [third]: '✓' });
    expect(lines).toHaveLength(3);
    expect(result.stderr).toMatch(/2 of 3/);

    const json = await sandbox.run(['test', '--all', '--json']);
    expect(json.code, describeRun(json)).toBe(4);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(items.map((item) => [item.name, item.ok])).toEqual([[first, true], [second, false], [third, true]]);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(TEST_RESULT_KEYS);
    expect(findLeaks(good, sandbox, [result, json])).toEqual([]);
    expect(findLeaks(bad, sandbox, [result, json])).toEqual([]);
  });
});

describe('test --all across three orgs: a healthy one, a slow one with a revoked token, one that is not Okta', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();
  const slow = useFakeOkta();
  const notOkta = useFakeOkta({ behaviour: 'not-okta' });
  const names: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    // Name order a < b < c < d; b fails slowly (4), c fails fast (7): the exit code must follow name order, not time.
    const good = fake.addToken({ user: { login: 'ada-all@example.com' } });
    const slowRevoked = slow.addToken();
    const slowGood = slow.addToken();
    const plan: [string, FakeOkta, string, string[]][] = [
      [uniqueName('a-good'), fake, good, []],
      [uniqueName('b-revoked'), slow, slowRevoked, []],
      [uniqueName('c-notokta'), notOkta, generateToken(), ['--no-test']],
      [uniqueName('d-slow'), slow, slowGood, []],
    ];
    for (const [name, where, token, extra] of plan) {
      await saveConnection(sandbox, name, where.url, token, ...extra);
      names.push(name);
      tokens.push(token);
    }
    slow.revoke(slowRevoked);
    slow.delayMs = 1500;
  });

  it('prints each line as its connection finishes (the slow org last), a summary on stderr, and exits with the first failure in name order', async () => {
    const result = await sandbox.run(['test', '--all', '--timeout', '90'], { timeoutMs: 180_000 });
    expect(result.code, describeRun(result)).toBe(4);
    const lines = nonEmptyLines(result.stdout);
    expect(lines, result.stdout).toHaveLength(4);
    const marks = ['✓', '✗', '✗', '✓'];
    const lineOf = names.map((name) => lines.findIndex((line) => line.split(/\s+/)[1] === name));
    names.forEach((name, index) => {
      expect(lines[lineOf[index] ?? -1]?.startsWith(`${marks[index] ?? ''} ${name} `), result.stdout).toBe(true);
    });
    // The slow org (names 1 and 3) holds back neither the fast one nor the one that is not Okta.
    for (const fast of [0, 2]) for (const slowOne of [1, 3]) expect(lineOf[fast] ?? 99, result.stdout).toBeLessThan(lineOf[slowOne] ?? -1);
    expect(lines[lineOf[0] ?? -1]).toContain('ada-all@example.com');
    const summary = result.stderr.split('\n').filter((line) => /\b2 of 4\b/.test(line));
    expect(summary, result.stderr).toHaveLength(1);
    expect(summary[0]).toContain(names[1]);
    expect(summary[0]).toContain(names[2]);
    expect(result.stdout).not.toMatch(/\bof 4\b/);
    for (const token of tokens) expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('--json prints an array with one result per connection, the same exit code', async () => {
    const result = await sandbox.run(['test', '--all', '--json', '--timeout', '90'], { timeoutMs: 180_000 });
    expect(result.code, describeRun(result)).toBe(4);
    const items = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(Array.isArray(items)).toBe(true);
    expect(items.map((item) => item.name)).toEqual(names);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(TEST_RESULT_KEYS);
    expect(items.map((item) => item.ok)).toEqual([true, false, false, true]);
    expect(items.map((item) => item.orgUrl)).toEqual([fake.url, slow.url, notOkta.url, slow.url]);
    const errors = items.map((item) => item.error as Record<string, unknown> | null);
    expect(errors[0]).toBeNull();
    expect(errors[3]).toBeNull();
    for (const error of [errors[1], errors[2]]) expect(Object.keys(error ?? {}).sort()).toEqual(ERROR_KEYS);
    expect(errors[1]).toMatchObject({ code: 4, httpStatus: 401, oktaErrorCode: 'E0000011' });
    expect(errors[2]).toMatchObject({ code: 7 });
    expect(items[0]).toMatchObject({ owner: { login: 'ada-all@example.com' }, roles: ['Super Administrator'] });
    expect(items[0]?.rateLimit).toMatchObject({ limit: 600 });
    // The slow org's answer time shows in its latency (the fake waits 1500 ms before every answer).
    expect(items[3]?.latencyMs).toBeGreaterThanOrEqual(1400);
    for (const token of tokens) expect(result.stdout).not.toContain(token);
  });
});

describe('test --all runs concurrently', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();
  const lag = useFakeOkta();
  const names: string[] = [];

  beforeAll(async () => {
    for (let index = 0; index < 8; index += 1) {
      const name = uniqueName(`par${String(index)}`);
      await saveConnection(sandbox, name, lag.url, lag.addToken(), '--no-test');
      names.push(name);
    }
    lag.delayMs = 1500;
  });

  it('8 connections on an org answering after 1.5 s take far less than 8 single tests', async () => {
    const one = await sandbox.run(['test', '--name', names[0] ?? '', '--timeout', '120'], { timeoutMs: 240_000 });
    expect(one.code, describeRun(one)).toBe(0);
    const before = lag.requests.length;
    const all = await sandbox.run(['test', '--all', '--timeout', '120'], { timeoutMs: 240_000 });
    expect(all.code, describeRun(all)).toBe(0);
    expect(nonEmptyLines(all.stdout)).toHaveLength(8);
    const ratio = all.ms / one.ms;
    // Sequentially, 8 × 3 requests × 1.5 s = 36 s of waiting alone: 5× or more one test. Concurrently, close to 1×.
    console.log(`test --all (8) ${all.ms.toFixed(0)} ms / test --name ${one.ms.toFixed(0)} ms = ${ratio.toFixed(2)}`);
    expect(ratio, `all ${all.ms.toFixed(0)} ms, one ${one.ms.toFixed(0)} ms`).toBeLessThanOrEqual(3);
    // Structural evidence too: several users/me calls reached the fake before the first answer led to a roles call.
    const during = lag.requests.slice(before);
    const firstRoles = during.findIndex((request) => request.path.endsWith('/roles'));
    const callsFirst = during.slice(0, firstRoles).filter((request) => request.path === USERS_ME).length;
    console.log(`users/me calls in flight before the first roles call: ${String(callsFirst)}`);
    expect(callsFirst).toBeGreaterThanOrEqual(2);
    // The org is asked once per run, however many of its tokens are tested.
    expect(during.filter((request) => request.path === WELL_KNOWN)).toHaveLength(1);
  }, LONG);
});

describe('test --all with an env-only connection, on a machine with no keychain at all', () => {
  const sandbox = useSandbox();

  it('includes the env-only connection, and writes nothing under HOME', async () => {
    const name = uniqueName('ci');
    const token = fake.addToken();
    const env = { DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS, [tokenVar(name)]: token, [urlVar(name)]: fake.url };
    const result = await sandbox.run(['test', '--all'], { env });
    expect(result.code, describeRun(result)).toBe(0);
    expect(nonEmptyLines(result.stdout)).toHaveLength(1);
    expect(result.stdout).toMatch(new RegExp(`^✓ ${name.replace(/-/g, '[-_]')} `));
    // This ran in the env-only sandbox of scripting.test.ts, whose "writes nothing under HOME" test then covered it.
    expect(readdirSync(sandbox.home)).toEqual([]);
  });
});

describe('test --all while another process adds connections', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox(UNDER_LOAD);
  const add = (name: string, token: string): Promise<RunResult> => sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token });
  const existing = Array.from({ length: 5 }, () => ({ name: uniqueName('tall'), token: '' }));
  const added = Array.from({ length: 6 }, () => ({ name: uniqueName('tadd'), token: '' }));
  afterAll(async () => {
    await forgetSecrets([...existing, ...added].map((entry) => entry.name));
  });

  it('nothing is lost, every read of connections.json parses, and both exit 0', async () => {
    // Tokens the fake accepts: test --all may pick up a connection that was added after it started.
    for (const entry of [...existing, ...added]) entry.token = fake.addToken();
    const seeded = await Promise.all(existing.map((entry) => add(entry.name, entry.token)));
    seeded.forEach((result) => {
      expect(result.code, describeRun(result, 'seed add')).toBe(0);
    });
    // Slow answers keep test --all busy while the adds run.
    fake.delayMs = 400;

    // An object, so the compiler does not narrow the flag to its initial value.
    const polling = { isRunning: true };
    const snapshots: string[][] = [];
    const unparsable: string[] = [];
    const contents = new Set<string>();
    const poll = (async () => {
      while (polling.isRunning) {
        const text = readFileSync(connectionsPath(sandbox), 'utf8');
        contents.add(text);
        try {
          snapshots.push((JSON.parse(text) as StoredFile).connections.map((connection) => connection.name));
        } catch {
          unparsable.push(text);
        }
        await sleep(5);
      }
    })();

    const testStarted = Date.now();
    const adderTimes: { started: number; ended: number }[] = [];
    const [tested, adds] = await Promise.all([
      sandbox.run(['test', '--all']).then((result) => ({ result, ended: Date.now() })),
      (async () => {
        const results: RunResult[] = [];
        for (const entry of added) {
          const started = Date.now();
          results.push(await add(entry.name, entry.token));
          adderTimes.push({ started, ended: Date.now() });
        }
        return results;
      })(),
    ]);
    polling.isRunning = false;
    await poll;

    expect(tested.result.code, describeRun(tested.result, 'test --all')).toBe(0);
    adds.forEach((result) => {
      expect(result.code, describeRun(result, 'add')).toBe(0);
    });
    // The two really overlapped: some add finished while test --all was still running.
    expect(adderTimes.some((times) => times.ended > testStarted && times.ended < tested.ended)).toBe(true);

    expect(unparsable).toEqual([]);
    expect(snapshots.length).toBeGreaterThan(20);
    expect(contents.size).toBeGreaterThan(2);
    // Nothing ever disappears: each read holds every name the read before it held.
    snapshots.forEach((names, index) => {
      const previous = snapshots[index - 1] ?? [];
      expect(names, `read ${String(index)}`).toEqual(expect.arrayContaining(previous));
    });

    const file = readConnections(sandbox);
    expect(storedNames(sandbox)).toEqual([...existing, ...added].map((entry) => entry.name).sort());
    // test --all's results were recorded, and not overwritten by the adds' writes.
    for (const entry of existing) {
      expect(file?.connections.find((connection) => connection.name === entry.name)?.lastTest?.ok, entry.name).toBe(true);
    }
    for (const entry of [...existing, ...added]) expect(secretToolLookup(entry.name), entry.name).toBe(entry.token);
    expect(leftovers(sandbox)).toEqual([]);
    console.info(`test --all vs ${String(added.length)} sequential adds: ${String(snapshots.length)} reads, ${String(contents.size)} distinct versions`);
  }, LONG);
});
