import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addArgs, BASE_ENV, connectionsPath, escapeRegExp, expectCleanFailure, expectRejectedTokenHint, fileMode, findLeaks, readConnections, requireKeyring, ROOT, secretToolClear, secretToolLookup, storedConnection, TEST_RESULT_KEYS, UNREACHABLE_DBUS, uniqueName, useFakeOkta, useSandbox, describeRun } from './harness.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const DAY_MS = 86_400_000;
const LIST_ITEM_KEYS = ['createdAt', 'idleExpiresAt', 'kind', 'lastTest', 'lastUsedAt', 'name', 'orgUrl', 'owner', 'source'];

beforeAll(requireKeyring);
const fake = useFakeOkta();


describe('add', () => {
  const sandbox = useSandbox();

  it('saves with --token-stdin: the token in the Secret Service only, the metadata 0600 in a 0700 folder', async () => {
    const token = fake.addToken();
    const name = uniqueName('prod');
    const before = fake.requests.length;
    // Surrounding whitespace (a copy-paste, a trailing newline) is trimmed; a trailing slash is dropped.
    const result = await sandbox.run(addArgs(name, `${fake.url}/`), { input: `  ${token} \n` });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain(`saved ${name}`);
    expect(secretToolLookup(name)).toBe(token);

    expect(fileMode(connectionsPath(sandbox))).toBe(0o600);
    expect(fileMode(sandbox.configDir)).toBe(0o700);
    const text = readFileSync(connectionsPath(sandbox), 'utf8');
    expect(text.trimStart().startsWith('{')).toBe(true);
    const file = JSON.parse(text) as { version: unknown; connections: unknown };
    expect(file.version).toBe(2);
    expect(storedConnection(sandbox, name)).toMatchObject({ name, orgUrl: fake.url });

    // The test ran before saving: the org check went without the token, users/me with it.
    const requests = fake.requests.slice(before);
    expect(requests[0]).toMatchObject({ path: '/.well-known/okta-organization', authorization: undefined });
    expect(requests.some((request) => request.path === '/api/v1/users/me' && request.authorization === `SSWS ${token}`)).toBe(true);

    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });

  it('--json prints the saved connection in the list --json shape, without the token', async () => {
    const token = fake.addToken();
    const name = uniqueName('json');
    const result = await sandbox.run(addArgs(name, fake.url, '--json'), { input: token });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).not.toContain(token);
    expect(result.stderr).not.toContain(token);
    const item = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(item).sort()).toEqual(LIST_ITEM_KEYS);
    const user = fake.tokens.get(token)?.user;
    expect(item).toMatchObject({
      name,
      orgUrl: fake.url,
      source: 'keychain',
      owner: { id: user?.id, login: user?.profile.login },
      lastTest: { ok: true, code: 0 },
    });
    const createdAt = String(item.createdAt);
    expect(createdAt).toMatch(ISO);
    expect(String(item.lastUsedAt)).toMatch(ISO);
    expect(Date.parse(String(item.idleExpiresAt)) - Date.parse(String(item.lastUsedAt))).toBe(30 * DAY_MS);
    expect(Math.abs(Date.parse(createdAt) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a name that exists (exit 2), and --force replaces address and token', async () => {
    const first = fake.addToken();
    const second = fake.addToken();
    const name = uniqueName('dup');
    expect((await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: first })).code).toBe(0);

    const again = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: second });
    const error = expectCleanFailure(again, 2);
    expect(error).toContain(name);
    expect(again.stderr).toMatch(/--force/);
    expect(secretToolLookup(name)).toBe(first);

    const forced = await sandbox.run(addArgs(name, fake.url, '--force'), { input: second });
    expect(forced.code, describeRun(forced)).toBe(0);
    expect(secretToolLookup(name)).toBe(second);
    const entries = readConnections(sandbox)?.connections.filter((connection) => connection.name === name);
    expect(entries).toHaveLength(1);
    expect(entries?.[0]?.owner?.login).toBe(fake.loginOf(second));
    expect(findLeaks(first, sandbox, [again, forced])).toEqual([]);
    expect(findLeaks(second, sandbox, [again, forced])).toEqual([]);
  });

  it('--no-test saves without a single request to Okta', async () => {
    const token = fake.addToken();
    const name = uniqueName('notest');
    const before = fake.requests.length;
    const result = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token });
    expect(result.code, describeRun(result)).toBe(0);
    expect(fake.requests.length).toBe(before);
    expect(secretToolLookup(name)).toBe(token);
    expect(storedConnection(sandbox, name)).toMatchObject({ name, orgUrl: fake.url, lastTest: null, owner: null, lastUsedAt: null });
  });

  it('a failed test (revoked token, 401) exits 4 and saves nothing', async () => {
    const token = fake.addToken();
    fake.revoke(token);
    const name = uniqueName('revoked');
    const result = await sandbox.run(addArgs(name, fake.url), { input: token });
    const error = expectCleanFailure(result, 4);
    expect(error).toMatch(/401/);
    expect(error).toMatch(/nothing was saved/);
    expect(storedConnection(sandbox, name)).toBeUndefined();
    expect(secretToolLookup(name)).toBeUndefined();
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });

  it('accepts names with dashes and upper case (stored lower-cased)', async () => {
    const token = fake.addToken();
    const name = uniqueName('my-org-eu');
    const result = await sandbox.run(addArgs(name.toUpperCase(), fake.url, '--no-test'), { input: token });
    expect(result.code, describeRun(result)).toBe(0);
    expect(secretToolLookup(name)).toBe(token);
    expect(storedConnection(sandbox, name)?.name).toBe(name);
    const tested = await sandbox.run(['test', '--name', name]);
    expect(tested.code, describeRun(tested)).toBe(0);
    expect(tested.stdout).toContain(name);
  });

  it('without a terminal, a missing value is exit 2 naming the flag, at once', async () => {
    const name = uniqueName('missing');
    const result = await sandbox.run(['add', '--name', name, '--org-url', fake.url], { timeoutMs: 10_000 });
    const error = expectCleanFailure(result, 2);
    expect(error).toContain('--token-stdin');
    expect(result.ms).toBeLessThan(5_000);
    expect(storedConnection(sandbox, name)).toBeUndefined();
  });

  it('explains that there is no --token flag (argv leaks)', async () => {
    const token = fake.addToken();
    const result = await sandbox.run(['add', '--name', uniqueName('argv'), '--org-url', fake.url, '--token', token]);
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(/no --token flag/);
    expect(result.stderr).not.toContain(token);
  });
});

describe('test', () => {
  const sandbox = useSandbox();
  let token: string;
  let name: string;
  beforeAll(async () => {
    token = fake.addToken();
    name = uniqueName('ci');
    const added = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token });
    expect(added.code, describeRun(added)).toBe(0);
  });

  it('prints one result line on stdout, exit 0, and records lastTest, owner and lastUsedAt', async () => {
    const startedAt = Date.now();
    const result = await sandbox.run(['test', '--name', name]);
    expect(result.code, describeRun(result)).toBe(0);
    const login = fake.loginOf(token);
    expect(result.stdout).toMatch(
      new RegExp(`^✓ ${escapeRegExp(name)} {2}${escapeRegExp(fake.url)} {2}as ${escapeRegExp(login)} \\(Super Administrator\\) {2}\\d+ ms\\n$`),
    );
    const saved = storedConnection(sandbox, name);
    expect(saved?.lastTest).toMatchObject({ ok: true, code: 0 });
    expect(saved?.lastTest?.at).toMatch(ISO);
    expect(Date.parse(saved?.lastTest?.at ?? '')).toBeGreaterThanOrEqual(startedAt - 1_000);
    expect(saved?.lastTest?.latencyMs).toEqual(expect.any(Number));
    expect(saved?.owner).toMatchObject({ id: fake.tokens.get(token)?.user.id, login });
    expect(saved?.lastUsedAt).toBe(saved?.lastTest?.at);
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });

  it('--json prints {name, orgUrl, ok, latencyMs, owner, roles, rateLimit, error}', async () => {
    const result = await sandbox.run(['test', '--name', name, '--json']);
    expect(result.code, describeRun(result)).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(TEST_RESULT_KEYS);
    expect(json).toMatchObject({
      name,
      orgUrl: fake.url,
      ok: true,
      owner: { id: fake.tokens.get(token)?.user.id, login: fake.loginOf(token) },
      roles: ['Super Administrator'],
      rateLimit: { limit: 600, remaining: expect.any(Number) as number },
      error: null,
    });
    expect(json.latencyMs).toEqual(expect.any(Number));
    expect(String((json.rateLimit as { resetAt: unknown }).resetAt)).toMatch(ISO);
    expect(result.stdout).not.toContain(token);
  });

  it('an unknown name is exit 3', async () => {
    const result = await sandbox.run(['test', '--name', uniqueName('nosuch')]);
    const error = expectCleanFailure(result, 3);
    expect(error).toMatch(/no connection named/);
  });

  it('without a name: the only connection is tested; with two and no terminal, exit 2', async () => {
    const only = await sandbox.run(['test']);
    expect(only.code, describeRun(only)).toBe(0);
    const two = await sandbox.run(['test'], { env: { OKTA_CONNECT_OTHER_TOKEN: fake.addToken(), OKTA_CONNECT_OTHER_ORG_URL: fake.url } });
    expect(expectCleanFailure(two, 2)).toMatch(/missing --name \(or --all\)/);
  });

  it('a rejected token (401) is exit 4; the hint lists the causes and the token page; lastUsedAt is kept', async () => {
    const doomed = fake.addToken();
    const doomedName = uniqueName('doomed');
    expect((await sandbox.run(addArgs(doomedName, fake.url), { input: doomed })).code).toBe(0);
    const usedAt = storedConnection(sandbox, doomedName)?.lastUsedAt;
    expect(usedAt).toMatch(ISO);
    fake.revoke(doomed);

    const result = await sandbox.run(['test', '--name', doomedName]);
    const error = expectCleanFailure(result, 4);
    expect(error).toContain(doomedName);
    expect(error).toMatch(/401/);
    expectRejectedTokenHint(result, fake.url);

    const saved = storedConnection(sandbox, doomedName);
    expect(saved?.lastTest).toMatchObject({ ok: false, code: 4 });
    expect(saved?.lastUsedAt).toBe(usedAt);

    const json = await sandbox.run(['test', '--name', doomedName, '--json']);
    expect(json.code).toBe(4);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(TEST_RESULT_KEYS);
    expect(parsed).toMatchObject({ name: doomedName, ok: false });
    expect(parsed.error).toMatchObject({ code: 4, httpStatus: 401, oktaErrorCode: 'E0000011', message: expect.any(String) as string });
    expect(String((parsed.error as { oktaErrorId: unknown }).oktaErrorId)).toMatch(/^oae/);
    expect(findLeaks(doomed, sandbox, [result, json])).toEqual([]);
  });
});

describe('list', () => {
  const sandbox = useSandbox();

  it('with nothing saved: a one-line hint on stderr, exit 0; --json is []', async () => {
    const result = await sandbox.run(['list']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('okta-connect add');
    const json = await sandbox.run(['list', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  describe('with connections', () => {
    let tested: string;
    let untested: string;
    let token: string;
    beforeAll(async () => {
      token = fake.addToken();
      // Names chosen so that name order differs from creation order.
      tested = `zz-${uniqueName('tested')}`;
      untested = `aa-${uniqueName('untested')}`;
      expect((await sandbox.run(addArgs(tested, fake.url), { input: token })).code).toBe(0);
      expect((await sandbox.run(addArgs(untested, fake.url, '--no-test'), { input: fake.addToken() })).code).toBe(0);
    });

    it('prints a table NAME, KIND, ORG URL, OWNER, LAST TEST, EXPIRES, SOURCE, sorted by name', async () => {
      const result = await sandbox.run(['list']);
      expect(result.code, describeRun(result)).toBe(0);
      const [header, ...rows] = result.stdout.trimEnd().split('\n');
      expect(header?.split(/ {2,}/)).toEqual(['NAME', 'KIND', 'ORG URL', 'OWNER', 'LAST TEST', 'EXPIRES', 'SOURCE']);
      expect(rows.map((row) => row.split(/ {2,}/)[0])).toEqual([untested, tested]);
      expect(rows[1]?.split(/ {2,}/)).toEqual([tested, 'token', fake.url, fake.loginOf(token), 'ok 0m ago', 'in 30d', 'keychain']);
      expect(rows[0]?.split(/ {2,}/)).toEqual([untested, 'token', fake.url, '-', 'never', 'in 30d', 'keychain']);
      expect(result.stdout).not.toContain(token);
    });

    it('--json is an array of {name, kind, orgUrl, source, createdAt, owner, lastTest, lastUsedAt, idleExpiresAt}', async () => {
      const result = await sandbox.run(['list', '--json']);
      expect(result.code, describeRun(result)).toBe(0);
      const items = JSON.parse(result.stdout) as Record<string, unknown>[];
      expect(items.map((item) => item.name)).toEqual([untested, tested]);
      for (const item of items) {
        expect(Object.keys(item).sort()).toEqual(LIST_ITEM_KEYS);
        expect(item.source).toBe('keychain');
        expect(String(item.createdAt)).toMatch(ISO);
        expect(String(item.idleExpiresAt)).toMatch(ISO);
      }
      expect(items[1]).toMatchObject({ owner: { login: fake.loginOf(token) }, lastTest: { ok: true, code: 0 } });
      expect(items[0]).toMatchObject({ owner: null, lastTest: null, lastUsedAt: null });
      expect(result.stdout).not.toContain(token);
    });

    it('works, fast, with the keychain unreachable', async () => {
      // With a 60 s keychain timeout, only a list that does not wait on the keychain stays under the bound.
      const env = { DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS, ...BASE_ENV };
      const result = await sandbox.run(['list'], { env });
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.ms).toBeLessThan(6_000);
      expect(result.stdout).toContain(tested);
      expect(result.stdout).toContain(untested);
      const json = await sandbox.run(['list', '--json'], { env });
      expect(json.code).toBe(0);
      expect((JSON.parse(json.stdout) as { name: string }[]).map((item) => item.name)).toEqual([untested, tested]);
    });

    it('says so when a saved connection has lost its token from the keychain', async () => {
      const orphan = `mm-${uniqueName('orphan')}`;
      expect((await sandbox.run(addArgs(orphan, fake.url, '--no-test'), { input: fake.addToken() })).code).toBe(0);
      secretToolClear(orphan);
      try {
        const result = await sandbox.run(['list']);
        expect(result.code, describeRun(result)).toBe(0);
        // Contract: list never shows a connection whose secret is missing without saying so.
        const row = result.stdout.split('\n').find((line) => line.startsWith(`${orphan} `));
        expect(row, result.stdout).toBeDefined();
        expect(row?.split(/ {2,}/).at(-1), 'the SOURCE column of a connection without its token').not.toBe('keychain');
        const json = await sandbox.run(['list', '--json']);
        const item = (JSON.parse(json.stdout) as { name: string; source: string }[]).find((candidate) => candidate.name === orphan);
        expect(item?.source, 'list --json source of a connection without its token').not.toBe('keychain');
      } finally {
        await sandbox.run(['remove', '--name', orphan, '--yes']);
      }
    });
  });
});

describe('remove', () => {
  const sandbox = useSandbox();

  async function saved(): Promise<{ name: string; token: string }> {
    const token = fake.addToken();
    const name = uniqueName('gone-soon');
    const result = await sandbox.run(addArgs(name, fake.url, '--no-test'), { input: token });
    expect(result.code, describeRun(result)).toBe(0);
    return { name, token };
  }

  it('--yes deletes the secret and the metadata', async () => {
    const { name, token } = await saved();
    expect(secretToolLookup(name)).toBe(token);
    const result = await sandbox.run(['remove', '--name', name, '--yes']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain(`removed ${name}`);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(storedConnection(sandbox, name)).toBeUndefined();
    const list = await sandbox.run(['list', '--json']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((item) => item.name)).not.toContain(name);
  });

  it('without --yes and without a terminal: exit 2, nothing deleted', async () => {
    const { name, token } = await saved();
    const result = await sandbox.run(['remove', '--name', name]);
    const error = expectCleanFailure(result, 2);
    expect(error).toContain('--yes');
    expect(secretToolLookup(name)).toBe(token);
    expect(storedConnection(sandbox, name)).toBeDefined();
  });

  it('an unknown name is exit 3', async () => {
    const result = await sandbox.run(['remove', '--name', uniqueName('nosuch'), '--yes']);
    expectCleanFailure(result, 3);
  });
});

describe('help and version', () => {
  const sandbox = useSandbox();

  it('--version prints the package version', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const result = await sandbox.run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('--help of the program and of every command shows at least one example', async () => {
    const top = await sandbox.run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples?:\n\s+okta-connect /);
    const section = top.stdout.split(/^Commands:$/m)[1]?.split(/\n\n/)[0] ?? '';
    const commands = section
      .split('\n')
      .map((line) => /^ {2}([a-z-]+)/.exec(line)?.[1])
      .filter((command): command is string => command !== undefined && command !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['add', 'test', 'list', 'remove']));
    const results = await Promise.all(commands.map(async (command) => ({ command, result: await sandbox.run([command, '--help']) })));
    for (const { command, result } of results) {
      expect(result.code, `${command} --help`).toBe(0);
      const examples = result.stdout.split(/Examples?:/)[1] ?? '';
      expect(examples, `${command} --help has an example`).toMatch(new RegExp(`okta-connect ${command}\\b`));
    }
  });
});
