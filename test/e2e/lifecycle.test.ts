/**
 * The token's life, end to end through the built binary, a real Secret Service and the HTTPS fake Okta: idle expiry
 * (lastUsedAt, idleExpiresAt, list's EXPIRES column, the renewal warning), owner and roles, rate-limit headroom,
 * `remove --revoke`, and `doctor`.
 *
 * The tests of this file share its keyring (keyring-per-file.ts), each describe with a sandbox of its own, and doctor
 * reports every okta-connect keychain entry without metadata as an orphan: so in the file's keyring doctor is only
 * asserted about the names of the test at hand. The "globally healthy" assertions (exit 0, every check ok) run against
 * a private D-Bus session with its own gnome-keyring (the harness's usePrivateKeyring).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { READ_ONLY_ADMIN } from '../fixtures/fake-okta.js';
import { addArgs, closedPort, connectionsPath, envKey, escapeRegExp, expectCleanFailure, expectRejectedTokenHint, fileMode, findLeaks, linesStarting, readConnections, requireKeyring, secretToolClear, secretToolLookup, stackFrames, storedConnection, UNREACHABLE_DBUS, tokenVar, uniqueName, LONG, UNDER_LOAD, useFakeOkta, usePrivateKeyring, useSandbox, type RunOptions, type RunResult, type Sandbox, type StoredConnection, describeRun } from './harness.js';

const DAY_MS = 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(requireKeyring);
const fake = useFakeOkta({ resetAfterEach: true });

// ---- helpers -------------------------------------------------------------------------------------------------------

/** `add` with the test (the default): a saved, tested connection. */
async function addTested(sandbox: Sandbox, token: string, name: string, options: RunOptions = {}): Promise<RunResult> {
  const result = await sandbox.run(addArgs(name, fake.url, '--timeout', '60'), { ...options, input: token });
  expect(result.code, describeRun(result)).toBe(0);
  return result;
}

async function addUntested(sandbox: Sandbox, token: string, name: string, options: RunOptions = {}): Promise<RunResult> {
  const result = await sandbox.run(addArgs(name, fake.url, '--no-test'), { ...options, input: token });
  expect(result.code, describeRun(result)).toBe(0);
  return result;
}

function testArgs(name: string, ...extra: string[]): string[] {
  return ['test', '--name', name, '--timeout', '60', ...extra];
}

/** Edit connections.json by hand, as a user (or a test) would: `change` returns the new entry, or undefined to drop it. */
function editConnection(sandbox: Sandbox, name: string, change: (saved: StoredConnection) => StoredConnection | undefined): void {
  const file = readConnections(sandbox);
  if (!file) throw new Error('no connections.json');
  expect(file.connections.some((saved) => saved.name === name), `${name} is saved`).toBe(true);
  const connections = file.connections.flatMap((saved) => {
    if (saved.name !== name) return [saved];
    const next = change(saved);
    return next ? [next] : [];
  });
  // writeFileSync on an existing file keeps its mode (0600).
  writeFileSync(connectionsPath(sandbox), `${JSON.stringify({ ...file, connections }, null, 2)}\n`);
}

function daysAgo(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString();
}

interface ListItem {
  name: string;
  orgUrl: string;
  source: string;
  createdAt: string | null;
  owner: { id: string; login: string | null; status?: string | null } | null;
  lastTest: { at: string; ok: boolean; code: number; latencyMs: number } | null;
  lastUsedAt: string | null;
  idleExpiresAt: string | null;
}

async function listItem(sandbox: Sandbox, name: string): Promise<ListItem> {
  const result = await sandbox.run(['list', '--json']);
  expect(result.code, describeRun(result)).toBe(0);
  const item = (JSON.parse(result.stdout) as ListItem[]).find((candidate) => candidate.name === name);
  if (!item) throw new Error(`${name} is not in list --json:\n${result.stdout}`);
  return item;
}

/** The EXPIRES cell of `name`'s row in the `list` table (columns found from the header, as a user reads it). */
async function expiresCell(sandbox: Sandbox, name: string): Promise<string> {
  const result = await sandbox.run(['list']);
  expect(result.code, describeRun(result)).toBe(0);
  const lines = result.stdout.split('\n');
  const header = lines[0] ?? '';
  const start = header.indexOf('EXPIRES');
  const end = header.indexOf('SOURCE');
  expect(start, `header: ${header}`).toBeGreaterThan(0);
  expect(end, `header: ${header}`).toBeGreaterThan(start);
  const row = lines.find((line) => line.startsWith(`${name} `));
  if (row === undefined) throw new Error(`no row for ${name}:\n${result.stdout}`);
  return row.slice(start, end).trim();
}

/** A time recorded by the CLI during a run lies between the moments just before and just after that run. */
function expectDuring(iso: string | null | undefined, before: number, after: number): number {
  expect(iso).toMatch(ISO);
  const at = Date.parse(String(iso));
  expect(at).toBeGreaterThanOrEqual(before);
  expect(at).toBeLessThanOrEqual(after);
  return at;
}

interface TestJson {
  name: string;
  orgUrl: string;
  ok: boolean;
  latencyMs: number;
  owner: { id: string; login: string | null; status: string | null } | null;
  roles: string[] | null;
  rateLimit: { limit: number; remaining: number; resetAt: string | null } | null;
  error: { code: number; message: string; httpStatus: number | null; oktaErrorCode: string | null; oktaErrorId: string | null } | null;
}

function warnings(result: RunResult, name: string): string[] {
  return linesStarting(result.stderr, `! ${name}: `);
}

// ---- idle expiry -----------------------------------------------------------------------------------------------------

describe('idle expiry: lastUsedAt, idleExpiresAt and the EXPIRES column, with real timestamps', () => {
  const sandbox = useSandbox(UNDER_LOAD);

  it('after a tested add, lastUsedAt is now and idleExpiresAt is exactly lastUsedAt + 30 days; a later test moves it forward', async () => {
    const token = fake.addToken();
    const name = uniqueName('idle');
    const before = Date.now();
    await addTested(sandbox, token, name);
    const after = Date.now();

    const item = await listItem(sandbox, name);
    const usedAt = expectDuring(item.lastUsedAt, before, after);
    expectDuring(item.createdAt, before, after);
    expect(item.idleExpiresAt).toMatch(ISO);
    expect(Date.parse(String(item.idleExpiresAt)) - usedAt).toBe(30 * DAY_MS);
    expect(item.idleExpiresAt).toBe(new Date(usedAt + 30 * DAY_MS).toISOString());
    expect(await expiresCell(sandbox, name)).toBe('in 30d');

    await new Promise((resolve) => setTimeout(resolve, 20));
    const testBefore = Date.now();
    const tested = await sandbox.run(testArgs(name));
    const testAfter = Date.now();
    expect(tested.code, describeRun(tested)).toBe(0);
    const later = await listItem(sandbox, name);
    const usedAgain = expectDuring(later.lastUsedAt, testBefore, testAfter);
    expect(usedAgain).toBeGreaterThan(usedAt);
    expect(Date.parse(String(later.idleExpiresAt)) - usedAgain).toBe(30 * DAY_MS);
    expect(later.createdAt).toBe(item.createdAt);
    // A fresh token: no renewal warning.
    expect(warnings(tested, name).filter((line) => /idle expiry/.test(line))).toEqual([]);
  }, LONG);

  it('add --no-test: lastUsedAt is null and idleExpiresAt is createdAt + 30 days', async () => {
    const name = uniqueName('idle-nt');
    const before = Date.now();
    await addUntested(sandbox, fake.addToken(), name);
    const after = Date.now();
    const item = await listItem(sandbox, name);
    expect(item.lastUsedAt).toBeNull();
    const createdAt = expectDuring(item.createdAt, before, after);
    expect(item.idleExpiresAt).toBe(new Date(createdAt + 30 * DAY_MS).toISOString());
    expect(await expiresCell(sandbox, name)).toBe('in 30d');
  }, LONG);

  it('exec and token hand the token out ("probably used"): each moves lastUsedAt to now', async () => {
    const token = fake.addToken();
    const name = uniqueName('idle-use');
    await addUntested(sandbox, token, name);
    const old = daysAgo(10);

    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: old }));
    expect((await listItem(sandbox, name)).lastUsedAt).toBe(old);
    let before = Date.now();
    const executed = await sandbox.run(['exec', '--name', name, '--', process.execPath, '-e', 'process.exit(0)']);
    let after = Date.now();
    expect(executed.code, describeRun(executed)).toBe(0);
    let item = await listItem(sandbox, name);
    const usedAt = expectDuring(item.lastUsedAt, before, after);
    expect(Date.parse(String(item.idleExpiresAt)) - usedAt).toBe(30 * DAY_MS);

    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: old }));
    before = Date.now();
    const printed = await sandbox.run(['token', '--name', name]);
    after = Date.now();
    expect(printed.code, describeRun(printed)).toBe(0);
    expect(printed.stdout).toBe(`${token}\n`);
    item = await listItem(sandbox, name);
    expectDuring(item.lastUsedAt, before, after);
    expect(await expiresCell(sandbox, name)).toBe('in 30d');
  }, LONG);

  it('exec of a command that cannot start (exit 127) never handed the token out: lastUsedAt stays', async () => {
    const name = uniqueName('idle-127');
    await addUntested(sandbox, fake.addToken(), name);
    const old = daysAgo(26);
    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: old }));
    const missing = join(sandbox.cwd, 'no-such-command');
    const executed = await sandbox.run(['exec', '--name', name, '--', missing]);
    expectCleanFailure(executed, 127);
    // Recording a use here would show "in 30d" for a token that may expire in 4 days.
    expect(storedConnection(sandbox, name)?.lastUsedAt, 'lastUsedAt after a child that never started').toBe(old);
    expect(await expiresCell(sandbox, name)).toBe('in 4d');
  }, LONG);

  it('add --force with a new token starts its idle clock again (createdAt now, lastUsedAt null with --no-test)', async () => {
    const name = uniqueName('idle-force');
    await addTested(sandbox, fake.addToken(), name);
    editConnection(sandbox, name, (saved) => ({ ...saved, createdAt: daysAgo(40), lastUsedAt: daysAgo(29) }));
    expect(await expiresCell(sandbox, name)).toBe('in 1d');
    const before = Date.now();
    const forced = await sandbox.run(addArgs(name, fake.url, '--no-test', '--force'), { input: fake.addToken() });
    const after = Date.now();
    expect(forced.code, describeRun(forced)).toBe(0);
    const item = await listItem(sandbox, name);
    expect(item.lastUsedAt).toBeNull();
    const createdAt = expectDuring(item.createdAt, before, after);
    expect(item.idleExpiresAt).toBe(new Date(createdAt + 30 * DAY_MS).toISOString());
  }, LONG);

  it('a token from OKTA_CONNECT_<NAME>_TOKEN is not the saved one: using it does not renew the saved entry', async () => {
    const name = uniqueName('idle-env');
    await addUntested(sandbox, fake.addToken(), name);
    const old = daysAgo(10);
    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: old }));
    const envToken = fake.addToken();
    const variable = tokenVar(name);
    const printed = await sandbox.run(['token', '--name', name], { env: { [variable]: envToken } });
    expect(printed.code, describeRun(printed)).toBe(0);
    expect(printed.stdout).toBe(`${envToken}\n`);
    expect(storedConnection(sandbox, name)?.lastUsedAt).toBe(old);
  }, LONG);

  it('25 days unused shows "in 5d", 31 days "likely expired"; a successful test warns that it renewed it, then "in 30d"', async () => {
    const token = fake.addToken();
    const name = uniqueName('idle-edit');
    await addTested(sandbox, token, name);

    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: daysAgo(25) }));
    expect(await expiresCell(sandbox, name)).toBe('in 5d');
    const fiveLeft = await sandbox.run(testArgs(name));
    expect(fiveLeft.code, describeRun(fiveLeft)).toBe(0);
    expect(warnings(fiveLeft, name), describeRun(fiveLeft)).toContain(
      `! ${name}: the token was 5d from its 30-day idle expiry; this test renewed it`,
    );
    expect(await expiresCell(sandbox, name)).toBe('in 30d');

    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: daysAgo(31) }));
    expect(await expiresCell(sandbox, name)).toBe('likely expired');
    expect(Date.parse(String((await listItem(sandbox, name)).idleExpiresAt))).toBeLessThan(Date.now());
    const before = Date.now();
    const renewed = await sandbox.run(testArgs(name));
    const after = Date.now();
    expect(renewed.code, describeRun(renewed)).toBe(0);
    const renewal = warnings(renewed, name).filter((line) => /idle expiry/.test(line));
    expect(renewal, describeRun(renewed)).toHaveLength(1);
    expect(renewal[0]).toMatch(/this test renewed it/);
    expect(await expiresCell(sandbox, name)).toBe('in 30d');
    expectDuring((await listItem(sandbox, name)).lastUsedAt, before, after);
  }, LONG);

  it('20 days left: no renewal warning (it is for the last week only)', async () => {
    const name = uniqueName('idle-ok');
    await addTested(sandbox, fake.addToken(), name);
    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: daysAgo(10) }));
    expect(await expiresCell(sandbox, name)).toBe('in 20d');
    const tested = await sandbox.run(testArgs(name));
    expect(tested.code, describeRun(tested)).toBe(0);
    expect(warnings(tested, name).filter((line) => /idle expiry/.test(line)), describeRun(tested)).toEqual([]);
  }, LONG);

  it('a failed test (401) does not renew: lastUsedAt stays, and EXPIRES says "dead"', async () => {
    const token = fake.addToken();
    const name = uniqueName('idle-dead');
    await addTested(sandbox, token, name);
    const old = daysAgo(31);
    editConnection(sandbox, name, (saved) => ({ ...saved, lastUsedAt: old }));
    fake.revoke(token);
    const tested = await sandbox.run(testArgs(name));
    expectCleanFailure(tested, 4);
    expect(storedConnection(sandbox, name)?.lastUsedAt).toBe(old);
    // Okta said so: no count of idle days brings it back.
    expect(await expiresCell(sandbox, name)).toBe('dead');
  }, LONG);

  it('with colour on, under 7 days is in the warning colour and 20 days is not', async () => {
    const soon = uniqueName('idle-c1');
    const fine = uniqueName('idle-c2');
    await addUntested(sandbox, fake.addToken(), soon);
    await addUntested(sandbox, fake.addToken(), fine);
    editConnection(sandbox, soon, (saved) => ({ ...saved, lastUsedAt: daysAgo(26) }));
    editConnection(sandbox, fine, (saved) => ({ ...saved, lastUsedAt: daysAgo(10) }));
    const result = await sandbox.run(['list'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(result.code, describeRun(result)).toBe(0);
    const rowOf = (name: string): string => result.stdout.split('\n').find((line) => line.startsWith(`${name} `)) ?? '';
    expect(rowOf(soon)).toContain('\u001b[33min 4d\u001b[39m');
    expect(rowOf(fine)).toMatch(/ in 20d /);
    expect(rowOf(fine)).not.toContain('\u001b[33min 20d');
  }, LONG);
});

// ---- owner and roles -----------------------------------------------------------------------------------------------

describe('test: owner and roles', () => {
  const sandbox = useSandbox(UNDER_LOAD);

  it('shows the owner login and the role label in the human line, and owner/roles in --json; a Super Administrator is warned', async () => {
    const token = fake.addToken(); // Super Administrator by default
    const name = uniqueName('owner');
    await addUntested(sandbox, token, name);
    const user = fake.tokenEntry(token).user;

    const human = await sandbox.run(testArgs(name));
    expect(human.code, describeRun(human)).toBe(0);
    const line = human.stdout.trim();
    expect(line.split('\n'), describeRun(human)).toHaveLength(1);
    expect(line).toMatch(new RegExp(`^✓ ${name}  ${escapeRegExp(fake.url)}  as ${escapeRegExp(user.profile.login)} \\(Super Administrator\\)  \\d+ ms$`));
    expect(warnings(human, name), describeRun(human)).toContain(
      `! ${name}: this is a Super Administrator token: prefer a service account with a narrower admin role`,
    );

    const json = await sandbox.run(testArgs(name, '--json'));
    expect(json.code, describeRun(json)).toBe(0);
    const result = JSON.parse(json.stdout) as TestJson;
    expect(result).toMatchObject({
      name,
      orgUrl: fake.url,
      ok: true,
      owner: { id: user.id, login: user.profile.login, status: 'ACTIVE' },
      roles: ['Super Administrator'],
      error: null,
    });
    expect(storedConnection(sandbox, name)?.owner).toMatchObject({ id: user.id, login: user.profile.login });
    expect(findLeaks(token, sandbox, [human, json])).toEqual([]);
  }, LONG);

  it('a narrower role is shown by its label and gets no Super Administrator warning', async () => {
    const token = fake.addToken({ roles: [READ_ONLY_ADMIN] });
    const name = uniqueName('readonly');
    await addUntested(sandbox, token, name);
    const human = await sandbox.run(testArgs(name));
    expect(human.code, describeRun(human)).toBe(0);
    expect(human.stdout).toContain(`as ${fake.loginOf(token)} (Read-only Administrator)`);
    expect(warnings(human, name), describeRun(human)).toEqual([]);
    const json = await sandbox.run(testArgs(name, '--json'));
    expect((JSON.parse(json.stdout) as TestJson).roles).toEqual(['Read-only Administrator']);
  }, LONG);

  it('roles not visible (403 E0000006 on /roles) is not a failure: exit 0, roles null, no role in the line', async () => {
    const token = fake.addToken({ roles: 'forbidden' });
    const name = uniqueName('noroles');
    await addUntested(sandbox, token, name);
    const user = fake.tokenEntry(token).user;
    const before = fake.requests.length;
    const json = await sandbox.run(testArgs(name, '--json'));
    expect(json.code, describeRun(json)).toBe(0);
    const result = JSON.parse(json.stdout) as TestJson;
    expect(result).toMatchObject({ ok: true, roles: null, error: null, owner: { id: user.id, login: user.profile.login } });
    // The roles were asked for (and refused), not skipped.
    expect(fake.requests.slice(before).some((request) => request.path === `/api/v1/users/${user.id}/roles`)).toBe(true);

    const human = await sandbox.run(testArgs(name));
    expect(human.code, describeRun(human)).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`as ${escapeRegExp(user.profile.login)}  \\d+ ms`));
    expect(human.stdout).not.toContain('(');
    expect(linesStarting(human.stderr, 'error:')).toEqual([]);
  }, LONG);

  it.each(['LOCKED_OUT', 'PASSWORD_EXPIRED'] as const)('an owner who is %s: the test passes with a not-ACTIVE warning', async (status) => {
    const token = fake.addToken({ user: { status }, roles: [READ_ONLY_ADMIN] });
    const name = uniqueName('status');
    await addUntested(sandbox, token, name);
    const human = await sandbox.run(testArgs(name));
    expect(human.code, describeRun(human)).toBe(0);
    const notActive = warnings(human, name).filter((line) => line.includes(`owner is ${status}`));
    expect(notActive, describeRun(human)).toHaveLength(1);
    const json = await sandbox.run(testArgs(name, '--json'));
    expect((JSON.parse(json.stdout) as TestJson).owner?.status).toBe(status);
  }, LONG);

  it('an ACTIVE owner gets no not-ACTIVE warning', async () => {
    const token = fake.addToken({ roles: [READ_ONLY_ADMIN] });
    const name = uniqueName('active');
    await addUntested(sandbox, token, name);
    const human = await sandbox.run(testArgs(name));
    expect(human.code, describeRun(human)).toBe(0);
    expect(warnings(human, name).filter((line) => /owner is/.test(line))).toEqual([]);
  }, LONG);

  it.each(['DEPROVISIONED', 'SUSPENDED'] as const)('an owner who became %s: 401, exit 4, the causes and the token page', async (status) => {
    const token = fake.addToken();
    const name = uniqueName('gone');
    await addTested(sandbox, token, name);
    fake.tokenEntry(token).user.status = status;
    const human = await sandbox.run(testArgs(name));
    const error = expectCleanFailure(human, 4);
    expect(error).toContain(name);
    expect(error).toMatch(/401/);
    expectRejectedTokenHint(human, fake.url);

    const json = await sandbox.run(testArgs(name, '--json'));
    expect(json.code, describeRun(json)).toBe(4);
    const result = JSON.parse(json.stdout) as TestJson;
    expect(result).toMatchObject({ ok: false, error: { code: 4, httpStatus: 401, oktaErrorCode: 'E0000011' } });
    expect(result.error?.oktaErrorId).toMatch(/^oae/);
    expect(findLeaks(token, sandbox, [human, json])).toEqual([]);
  }, LONG);
});

// ---- rate limit ----------------------------------------------------------------------------------------------------

describe('test: rate-limit headroom', () => {
  const sandbox = useSandbox(UNDER_LOAD);
  let name: string;
  beforeAll(async () => {
    name = uniqueName('rate');
    await addUntested(sandbox, fake.addToken({ roles: [READ_ONLY_ADMIN] }), name);
  }, LONG);

  it('--json rateLimit is {limit, remaining, resetAt} from the users/me headers, resetAt ISO-8601', async () => {
    fake.rateLimitRemaining = 400;
    const before = Date.now();
    const json = await sandbox.run(testArgs(name, '--json'));
    const after = Date.now();
    expect(json.code, describeRun(json)).toBe(0);
    const { rateLimit } = JSON.parse(json.stdout) as TestJson;
    expect(Object.keys(rateLimit ?? {}).sort()).toEqual(['limit', 'remaining', 'resetAt']);
    expect(rateLimit).toMatchObject({ limit: 600, remaining: 400 });
    expect(rateLimit?.resetAt).toMatch(ISO);
    // The fake says "now + 1 s" in epoch seconds.
    const reset = Date.parse(String(rateLimit?.resetAt));
    expect(reset % 1000).toBe(0);
    expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 1000);
    expect(reset).toBeLessThanOrEqual(after + 1000);
  }, LONG);

  it('under 10 % left (30 of 600) prints a warning line; exactly 10 % does not', async () => {
    fake.rateLimitRemaining = 30;
    const low = await sandbox.run(testArgs(name));
    expect(low.code, describeRun(low)).toBe(0);
    expect(warnings(low, name), describeRun(low)).toContain(`! ${name}: rate limit nearly used up: 30 of 600 left`);

    fake.rateLimitRemaining = 60;
    const enough = await sandbox.run(testArgs(name));
    expect(enough.code, describeRun(enough)).toBe(0);
    expect(warnings(enough, name).filter((line) => /rate limit/.test(line)), describeRun(enough)).toEqual([]);
  }, LONG);
});

// ---- remove --revoke -----------------------------------------------------------------------------------------------

describe('remove --revoke', () => {
  const sandbox = useSandbox(UNDER_LOAD);

  async function saved(): Promise<{ name: string; token: string }> {
    const token = fake.addToken();
    const name = uniqueName('rm');
    await addUntested(sandbox, token, name);
    expect(secretToolLookup(name)).toBe(token);
    return { name, token };
  }

  function expectKept(name: string, token: string): void {
    expect(secretToolLookup(name), 'the keychain entry is kept').toBe(token);
    expect(storedConnection(sandbox, name), 'the metadata is kept').toBeDefined();
  }

  it('revokes at Okta with DELETE /api/v1/api-tokens/current, then removes the keychain entry and the metadata', async () => {
    const { name, token } = await saved();
    const before = fake.requests.length;
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain(`removed ${name}`);
    expect(result.stdout).toContain('revoked');
    const requests = fake.requests.slice(before);
    // The org identified itself first, without the token; then the DELETE with it.
    expect(requests[0]).toMatchObject({ method: 'GET', path: '/.well-known/okta-organization', authorization: undefined });
    const deletes = requests.filter((request) => request.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({ path: '/api/v1/api-tokens/current', authorization: `SSWS ${token}` });
    expect(fake.tokenEntry(token).revoked).toBe(true);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(findLeaks(token, sandbox, [result])).toEqual([]);

    // The connection is gone for every command.
    const gone = await sandbox.run(testArgs(name));
    expectCleanFailure(gone, 3);
  }, LONG);

  it('without --yes and without a terminal: exit 2, nothing revoked, nothing removed', async () => {
    const { name, token } = await saved();
    const before = fake.requests.length;
    const result = await sandbox.run(['remove', '--name', name, '--revoke']);
    expectCleanFailure(result, 2);
    expect(fake.requests.length).toBe(before);
    expect(fake.tokenEntry(token).revoked).toBe(false);
    expectKept(name, token);
  }, LONG);

  it('a token already revoked (401): still removed locally, exit 0, with a notice', async () => {
    const { name, token } = await saved();
    fake.revoke(token);
    const before = fake.requests.length;
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stderr).toMatch(/already invalid.*401/);
    expect(fake.requests.slice(before).some((request) => request.method === 'DELETE' && request.path === '/api/v1/api-tokens/current')).toBe(true);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  }, LONG);

  it('revoke fails at Okta (500): exit 7, the keychain entry and the metadata are still there', async () => {
    const { name, token } = await saved();
    fake.behaviour = 'revoke-fails';
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes']);
    const error = expectCleanFailure(result, 7);
    expect(error).toMatch(/could not revoke/);
    expect(error).toMatch(/500/);
    expect(fake.tokenEntry(token).revoked).toBe(false);
    expectKept(name, token);
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  }, LONG);

  it('revoke refused by the token\'s role (403 E0000006): exit 5, nothing removed', async () => {
    const { name, token } = await saved();
    fake.behaviour = 'revoke-forbidden';
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes']);
    const error = expectCleanFailure(result, 5);
    expect(error).toMatch(/could not revoke/);
    expect(error).toMatch(/403/);
    expect(fake.tokenEntry(token).revoked).toBe(false);
    expectKept(name, token);
  }, LONG);

  it('a network failure during revoke (connection refused): exit 6, nothing removed', async () => {
    const { name, token } = await saved();
    const port = await closedPort();
    const deadUrl = `https://localhost:${String(port)}`;
    editConnection(sandbox, name, (entry) => ({ ...entry, orgUrl: deadUrl }));
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes', '--timeout', '60']);
    const error = expectCleanFailure(result, 6);
    expect(error).toMatch(/could not revoke/);
    expect(error).toMatch(/refused/);
    expect(fake.tokenEntry(token).revoked).toBe(false);
    expectKept(name, token);
    expect(storedConnection(sandbox, name)?.orgUrl).toBe(deadUrl);
  }, LONG);

  it('a host that is not an Okta org never gets the token: exit 7, no request with Authorization, nothing removed', async () => {
    const { name, token } = await saved();
    fake.behaviour = 'not-okta';
    const before = fake.requests.length;
    const result = await sandbox.run(['remove', '--name', name, '--revoke', '--yes']);
    const error = expectCleanFailure(result, 7);
    expect(error).toMatch(/not an Okta org/);
    const requests = fake.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((request) => request.authorization !== undefined)).toEqual([]);
    expect(fake.tokenEntry(token).revoked).toBe(false);
    expectKept(name, token);
  }, LONG);
});

// ---- doctor --------------------------------------------------------------------------------------------------------

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'info';
  message: string;
  fix: string | null;
}
interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

async function doctorJson(sandbox: Sandbox, env: Record<string, string | undefined> = {}): Promise<{ result: RunResult; report: DoctorReport }> {
  const result = await sandbox.run(['doctor', '--json'], { env });
  let report: DoctorReport;
  try {
    report = JSON.parse(result.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor --json did not print JSON:\n${describeRun(result)}`);
  }
  return { result, report };
}

function checkNamed(report: DoctorReport, name: string): Check | undefined {
  return report.checks.find((check) => check.name === name);
}

/** Checks that mention a connection name anywhere. */
function checksAbout(report: DoctorReport, name: string): Check[] {
  return report.checks.filter((check) => new RegExp(`\\b${name}\\b`).test(`${check.name} ${check.message} ${check.fix ?? ''}`));
}

/** The CLI arguments of a fix line such as `okta-connect remove --name x --yes`. */
function fixArgs(fix: string): string[] {
  const command = fix.split('(or:')[0]?.trim() ?? '';
  expect(command.startsWith('okta-connect ')).toBe(true);
  return command.slice('okta-connect '.length).split(/\s+/);
}

describe('doctor, in the keyring of this file (asserts only about its own names)', () => {
  const sandbox = useSandbox(UNDER_LOAD);

  it('--json is {ok, checks:[{name, status, message, fix}]}; saved connections, metadata, folder and keychain are ok', async () => {
    const first = uniqueName('doc');
    const second = uniqueName('doc');
    await addUntested(sandbox, fake.addToken(), first);
    await addUntested(sandbox, fake.addToken(), second);
    const { result, report } = await doctorJson(sandbox);
    expect(typeof report.ok).toBe('boolean');
    expect(result.code, describeRun(result)).toBe(report.ok ? 0 : 1);
    expect(report.checks.length).toBeGreaterThan(0);
    for (const check of report.checks) {
      expect(Object.keys(check).sort()).toEqual(['fix', 'message', 'name', 'status']);
      expect(['ok', 'warn', 'fail', 'info']).toContain(check.status);
      expect(typeof check.message).toBe('string');
      expect(check.fix === null || typeof check.fix === 'string').toBe(true);
    }
    for (const name of ['node', 'metadata', 'config folder', 'keychain', `connection ${first}`, `connection ${second}`]) {
      expect(checkNamed(report, name)?.status, `${name} in\n${result.stdout}`).toBe('ok');
    }
    expect(report.checks.filter((check) => check.status === 'fail' && (check.name.includes(first) || check.name.includes(second)))).toEqual([]);
  }, LONG);

  it('a keychain entry deleted behind its back (secret-tool clear): exit 1, the check names it and gives the fix', async () => {
    const name = uniqueName('orph-k');
    await addUntested(sandbox, fake.addToken(), name);
    secretToolClear(name);
    expect(secretToolLookup(name)).toBeUndefined();

    const { result, report } = await doctorJson(sandbox);
    expect(result.code, describeRun(result)).toBe(1);
    expect(report.ok).toBe(false);
    const check = checkNamed(report, `connection ${name}`);
    expect(check, result.stdout).toMatchObject({ status: 'fail' });
    expect(check?.message).toMatch(/missing from the keychain/);
    expect(check?.fix).toContain(`okta-connect add --name ${name} --org-url ${fake.url} --force`);

    const text = await sandbox.run(['doctor']);
    expect(text.code, describeRun(text)).toBe(1);
    const lines = text.stdout.split('\n');
    const at = lines.findIndex((line) => line.startsWith(`✗ connection ${name}: `));
    expect(at, text.stdout).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toContain(`    fix: okta-connect add --name ${name}`);
    expect(text.stderr).toMatch(/check\(s\) failed/);
  }, LONG);

  it('a metadata entry deleted by hand (keychain entry kept): exit 1, fix "okta-connect remove --name <name> --yes", which works', async () => {
    const name = uniqueName('orph-m');
    const token = fake.addToken();
    await addUntested(sandbox, token, name);
    editConnection(sandbox, name, () => undefined);
    expect(secretToolLookup(name)).toBe(token);

    const { result, report } = await doctorJson(sandbox);
    expect(result.code, describeRun(result)).toBe(1);
    const check = checkNamed(report, `keychain entry ${name}`);
    expect(check, result.stdout).toMatchObject({ status: 'fail', fix: `okta-connect remove --name ${name} --yes` });
    expect(findLeaks(token, sandbox, [result])).toEqual([]);

    const fixed = await sandbox.run(fixArgs(check?.fix ?? ''));
    expect(fixed.code, describeRun(fixed)).toBe(0);
    expect(secretToolLookup(name)).toBeUndefined();
    const again = await doctorJson(sandbox);
    expect(checksAbout(again.report, name), again.result.stdout).toEqual([]);
    expect(checkNamed(again.report, 'keychain')?.status).toBe('ok');
  }, LONG);

  it('the config folder at 0755 fails with chmod 700, connections.json at 0644 fails with chmod 600', async () => {
    const name = uniqueName('modes');
    await addUntested(sandbox, fake.addToken(), name);
    const file = connectionsPath(sandbox);
    try {
      chmodSync(sandbox.configDir, 0o755);
      const folder = await doctorJson(sandbox);
      expect(folder.result.code, describeRun(folder.result)).toBe(1);
      const folderCheck = checkNamed(folder.report, 'config folder');
      expect(folderCheck?.status).toBe('fail');
      expect(folderCheck?.message).toContain('0755');
      expect(folderCheck?.fix).toBe(`chmod 700 ${sandbox.configDir}`);
      // doctor reports; it does not repair behind the user's back.
      expect(fileMode(sandbox.configDir)).toBe(0o755);
      chmodSync(sandbox.configDir, 0o700);

      chmodSync(file, 0o644);
      const config = await doctorJson(sandbox);
      expect(config.result.code, describeRun(config.result)).toBe(1);
      const fileCheck = checkNamed(config.report, 'config file');
      expect(fileCheck?.status).toBe('fail');
      expect(fileCheck?.message).toContain('0644');
      expect(fileCheck?.fix).toBe(`chmod 600 ${file}`);
      expect(checkNamed(config.report, 'config folder')?.status).toBe('ok');

      // The fix, run as printed, clears the check.
      execFileSync('sh', ['-c', fileCheck?.fix ?? 'false']);
      const after = await doctorJson(sandbox);
      expect(checkNamed(after.report, 'config file')).toBeUndefined();
      expect(fileMode(file)).toBe(0o600);
    } finally {
      chmodSync(sandbox.configDir, 0o700);
      chmodSync(file, 0o600);
    }
  }, LONG);

  it('environment overrides are listed by name only: the token value is never printed', async () => {
    const name = uniqueName('envov');
    await addUntested(sandbox, fake.addToken(), name);
    const key = envKey(name);
    const envToken = fake.addToken();
    const loneName = uniqueName('envlone');
    const loneKey = envKey(loneName);
    const loneToken = fake.addToken();
    const sdkToken = fake.addToken();
    const env = {
      [`OKTA_CONNECT_${key}_TOKEN`]: envToken,
      [`OKTA_CONNECT_${key}_ORG_URL`]: fake.url,
      [`OKTA_CONNECT_${loneKey}_TOKEN`]: loneToken,
      OKTA_CLIENT_TOKEN: sdkToken,
    };
    const { result, report } = await doctorJson(sandbox, env);
    const text = await sandbox.run(['doctor'], { env });

    const override = checkNamed(report, `environment ${name}`);
    expect(override, result.stdout).toMatchObject({ status: 'info' });
    expect(override?.message).toContain(`OKTA_CONNECT_${key}_TOKEN`);
    expect(override?.message).toContain(`OKTA_CONNECT_${key}_ORG_URL`);
    expect(override?.message).toMatch(/overrides the saved connection/);
    // A token with no address and nothing saved cannot work: a failure that names the variable. (The variable cannot
    // tell "-" from "_", so the check is found by its variable, not by the name.)
    const lone = report.checks.find((check) => check.message.includes(`OKTA_CONNECT_${loneKey}_TOKEN`));
    expect(lone, result.stdout).toMatchObject({ status: 'fail' });
    expect(lone?.message).toContain(`OKTA_CONNECT_${loneKey}_ORG_URL`);
    expect(checkNamed(report, 'Okta SDK variables')?.message).toContain('OKTA_CLIENT_TOKEN');
    expect(text.stdout).toContain(`OKTA_CONNECT_${key}_TOKEN`);

    for (const secret of [envToken, loneToken, sdkToken]) {
      expect(findLeaks(secret, sandbox, [result, text])).toEqual([]);
    }
  }, LONG);

  it('HTTPS_PROXY with user:password is shown without the password', async () => {
    const password = `pw${randomBytes(8).toString('hex')}`;
    const env = { HTTPS_PROXY: `http://proxyuser:${password}@127.0.0.1:3128` };
    const { result, report } = await doctorJson(sandbox, env);
    const text = await sandbox.run(['doctor'], { env });
    const proxy = checkNamed(report, 'proxy');
    expect(proxy?.message, result.stdout).toContain('127.0.0.1:3128');
    for (const output of [result.stdout, result.stderr, text.stdout, text.stderr]) {
      expect(output).not.toContain(password);
      expect(output).not.toContain('proxyuser');
    }
  }, LONG);

  it('keychain unreachable (no D-Bus): the keychain check fails with guidance, exit 1, and no false orphans', async () => {
    const name = uniqueName('nobus');
    await addUntested(sandbox, fake.addToken(), name);
    const env = { DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS };
    const { result, report } = await doctorJson(sandbox, env);
    expect(result.code, describeRun(result)).toBe(1);
    expect(report.ok).toBe(false);
    const keychain = checkNamed(report, 'keychain');
    expect(keychain?.status, result.stdout).toBe('fail');
    expect(keychain?.message).not.toBe('');
    expect(keychain?.fix).toMatch(/Secret Service|gnome-keyring|KeePassXC/);
    expect(keychain?.fix).toMatch(/OKTA_CONNECT_<NAME>_TOKEN/);
    // The metadata is still readable, and a keychain that cannot be read is not "every token is missing".
    expect(checkNamed(report, 'metadata')?.status).toBe('ok');
    expect(checkNamed(report, `connection ${name}`)?.status).not.toBe('fail');

    const text = await sandbox.run(['doctor'], { env });
    expect(text.code, describeRun(text)).toBe(1);
    expect(text.stdout).toMatch(/^✗ keychain: /m);
    expect(stackFrames(text.stderr)).toEqual([]);
  }, LONG);
});

// ---- doctor, isolated -----------------------------------------------------------------------------------------------

describe('doctor, isolated in a private keyring: global health and exit codes', () => {
  const keyring = usePrivateKeyring();
  const sandbox = useSandbox(UNDER_LOAD);
  /** Runs against the private keyring; NODE_EXTRA_CA_CERTS dropped so that no "info" check shows up. */
  let env: Record<string, string | undefined>;
  beforeAll(() => {
    env = { DBUS_SESSION_BUS_ADDRESS: keyring.address, NODE_EXTRA_CA_CERTS: undefined };
  });

  async function doctor(): Promise<{ result: RunResult; report: DoctorReport }> {
    return doctorJson(sandbox, env);
  }

  function expectHealthy(outcome: { result: RunResult; report: DoctorReport }): void {
    expect(outcome.result.code, describeRun(outcome.result)).toBe(0);
    expect(outcome.report.ok).toBe(true);
    expect(outcome.report.checks.filter((check) => check.status !== 'ok'), outcome.result.stdout).toEqual([]);
  }

  it('a healthy setup: exit 0 and every check ok; the text form says all checks passed', async () => {
    const first = uniqueName('iso');
    const second = uniqueName('iso');
    const token = fake.addToken();
    await addUntested(sandbox, token, first, { env });
    await addUntested(sandbox, fake.addToken(), second, { env });
    expect(keyring.lookup(first)).toBe(token);
    // The private keyring is not the file's one.
    expect(secretToolLookup(first)).toBeUndefined();

    const outcome = await doctor();
    expectHealthy(outcome);
    expect(checkNamed(outcome.report, `connection ${first}`)?.status).toBe('ok');
    expect(checkNamed(outcome.report, `connection ${second}`)?.status).toBe('ok');
    // The probe entry doctor writes is gone again: the keyring holds the two connections only.
    expect(keyring.accounts().sort()).toEqual([first, second].sort());

    const text = await sandbox.run(['doctor'], { env });
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stderr).toContain('all checks passed');
    expect(text.stdout).not.toMatch(/^✗/m);
    expect(text.stdout).not.toMatch(/fix:/);
  }, LONG);

  it('three doctors, three adds and three removes at once: each doctor healthy (no add or remove taken for an orphan), each add and remove done, no probe left', async () => {
    const doomed = [uniqueName('par-r'), uniqueName('par-r'), uniqueName('par-r')];
    for (const name of doomed) await addUntested(sandbox, fake.addToken(), name, { env });
    const before = keyring.accounts();
    const names = [uniqueName('par'), uniqueName('par'), uniqueName('par')];
    const [adds, removes, doctors] = await Promise.all([
      Promise.all(names.map((name) => sandbox.run(addArgs(name, fake.url, '--no-test'), { env, input: fake.addToken() }))),
      Promise.all(doomed.map((name) => sandbox.run(['remove', '--name', name, '--yes'], { env }))),
      Promise.all(names.map(() => doctorJson(sandbox, env))),
    ]);
    for (const run of [...adds, ...removes]) expect(run.code, describeRun(run)).toBe(0);
    // doctor compares the keychain with connections.json under the lock every add and remove takes: never half of one.
    for (const outcome of doctors) expectHealthy(outcome);
    expect(keyring.accounts().sort()).toEqual([...before.filter((name) => !doomed.includes(name)), ...names].sort());
    for (const name of names) expect((await sandbox.run(['remove', '--name', name, '--yes'], { env })).code).toBe(0);
  }, LONG);

  it('an orphan either way is exit 1 with exactly one failed check; the printed fix makes doctor healthy again', async () => {
    const lost = uniqueName('iso-k');
    const lostToken = fake.addToken();
    await addUntested(sandbox, lostToken, lost, { env });
    keyring.clear(lost);
    let outcome = await doctor();
    expect(outcome.result.code, describeRun(outcome.result)).toBe(1);
    expect(outcome.report.checks.filter((check) => check.status === 'fail')).toEqual([
      expect.objectContaining({ name: `connection ${lost}` }),
    ]);
    // Fix one: save the token again (the fix is for a terminal; here the token comes on stdin).
    const fix = checkNamed(outcome.report, `connection ${lost}`)?.fix ?? '';
    const readd = await sandbox.run([...fixArgs(fix), '--token-stdin', '--no-test'], { env, input: lostToken });
    expect(readd.code, describeRun(readd)).toBe(0);
    expectHealthy(await doctor());

    const dropped = uniqueName('iso-m');
    await addUntested(sandbox, fake.addToken(), dropped, { env });
    editConnection(sandbox, dropped, () => undefined);
    outcome = await doctor();
    expect(outcome.result.code, describeRun(outcome.result)).toBe(1);
    const failed = outcome.report.checks.filter((check) => check.status === 'fail');
    expect(failed).toEqual([{ name: `keychain entry ${dropped}`, status: 'fail', message: expect.any(String) as string, fix: `okta-connect remove --name ${dropped} --yes` }]);
    const removed = await sandbox.run(fixArgs(failed[0]?.fix ?? ''), { env });
    expect(removed.code, describeRun(removed)).toBe(0);
    expect(keyring.lookup(dropped)).toBeUndefined();
    expectHealthy(await doctor());
  }, LONG);

  it('a loosened config folder is the one failure (exit 1); chmod 700 as printed makes it healthy', async () => {
    const name = uniqueName('iso-mode');
    await addUntested(sandbox, fake.addToken(), name, { env });
    try {
      chmodSync(sandbox.configDir, 0o755);
      const outcome = await doctor();
      expect(outcome.result.code, describeRun(outcome.result)).toBe(1);
      const failed = outcome.report.checks.filter((check) => check.status === 'fail');
      expect(failed.map((check) => check.name)).toEqual(['config folder']);
      execFileSync('sh', ['-c', failed[0]?.fix ?? 'false']);
      expect(fileMode(sandbox.configDir)).toBe(0o700);
      expectHealthy(await doctor());
    } finally {
      chmodSync(sandbox.configDir, 0o700);
    }
  }, LONG);

  it('connections.json readable by others is the one failure (exit 1)', async () => {
    const file = connectionsPath(sandbox);
    expect(readFileSync(file, 'utf8')).toContain('"version"');
    try {
      chmodSync(file, 0o644);
      const outcome = await doctor();
      expect(outcome.result.code, describeRun(outcome.result)).toBe(1);
      expect(outcome.report.checks.filter((check) => check.status === 'fail').map((check) => check.name)).toEqual(['config file']);
    } finally {
      chmodSync(file, 0o600);
    }
    expectHealthy(await doctor());
  }, LONG);
});
