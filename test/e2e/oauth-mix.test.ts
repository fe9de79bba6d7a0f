import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import type { NewApp } from '../fixtures/fake-okta-oauth.js';
import {
  describeRun,
  expectCleanFailure,
  linesStarting,
  nonEmptyLines,
  requireKeyring,
  saveConnection,
  TEST_RESULT_KEYS,
  uniqueName,
  useFakeOkta,
  useSandbox,
  type RunResult,
} from './harness.js';
import { keyLeaks } from './oauth-leaks.js';

/**
 * test --all, doctor --test and list over a mix of API-token and OAuth connections, saved in the real keychain and
 * from the CI variables only, against the fake Okta's verifying token endpoint: each OAuth line says what its test
 * found (granted scopes, token lifetime, DPoP) or why it failed, with the exit code of the first failure in name order.
 */
beforeAll(requireKeyring);
const fake = useFakeOkta();

const envKey = (name: string): string => name.toUpperCase().replace(/-/g, '_');

/** The CI variables of an environment-only OAuth connection (written here, not imported: a wrong name must fail). */
function oauthEnv(name: string, made: NewApp, options: { scopes?: string; key?: string } = {}): Record<string, string> {
  const key = envKey(name);
  return {
    [`OKTA_CONNECT_${key}_ORG_URL`]: fake.url,
    [`OKTA_CONNECT_${key}_CLIENT_ID`]: made.app.clientId,
    [`OKTA_CONNECT_${key}_PRIVATE_KEY`]: options.key ?? made.privatePem,
    [`OKTA_CONNECT_${key}_SCOPES`]: options.scopes ?? made.app.grantedScopes.join(' '),
    [`OKTA_CONNECT_${key}_KEY_ID`]: made.kid,
  };
}

describe('a mix of token and OAuth connections, saved and from the environment', () => {
  const sandbox = useSandbox();
  const suffix = uniqueName('mx');
  // An environment-only connection's name is its variables' <NAME> lower-cased: "_", not "-".
  const envName = (prefix: string): string => `${prefix}_${suffix.replace(/-/g, '_')}`;
  // Name order: a < b < c < d < e. d fails with invalid_scope (5) before e's revoked token (4): the exit is 5.
  const names = { token: `a-tok-${suffix}`, savedOAuth: `b-oa-${suffix}`, envDpop: envName('c_dp'), envScope: envName('d_sc'), revoked: `e-rv-${suffix}` };
  const apps: { savedOAuth?: NewApp; envDpop?: NewApp; envScope?: NewApp } = {};
  let env: Record<string, string> = {};
  const tokens: string[] = [];
  const runs: RunResult[] = [];

  beforeAll(async () => {
    const good = fake.addToken({ user: { login: 'mix@example.com' } });
    const revoked = fake.addToken();
    tokens.push(good, revoked);
    for (const [name, token] of [[names.token, good], [names.revoked, revoked]] as const) {
      await saveConnection(sandbox, name, fake.url, token);
    }
    fake.revoke(revoked);
    apps.savedOAuth = fake.oauth.addApp({ scopes: ['okta.users.read', 'okta.groups.read'] });
    const added = await sandbox.run(
      ['add', '--oauth', '--name', names.savedOAuth, '--org-url', fake.url, '--client-id', apps.savedOAuth.app.clientId, '--scopes', 'okta.groups.read', '--token-stdin', '--key-id', apps.savedOAuth.kid],
      { input: apps.savedOAuth.privatePem },
    );
    expect(added.code, describeRun(added)).toBe(0);
    apps.envDpop = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read'], requireDpop: true });
    apps.envScope = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    env = {
      ...oauthEnv(names.envDpop, apps.envDpop, { key: JSON.stringify(apps.envDpop.privateJwk) }),
      ...oauthEnv(names.envScope, apps.envScope, { scopes: 'okta.users.read okta.apps.manage' }),
    };
  });

  afterAll(() => {
    for (const made of [apps.savedOAuth, apps.envDpop, apps.envScope]) if (made) expect(keyLeaks(made, sandbox, runs)).toEqual([]);
  });

  it('test --all: one line each, the OAuth ones with scopes, lifetime and DPoP or their failure; exit 5 (the first failure in name order)', async () => {
    const result = await sandbox.run(['test', '--all', '--timeout', '60'], { env });
    runs.push(result);
    expect(result.code, describeRun(result)).toBe(5);
    const lines = nonEmptyLines(result.stdout);
    expect(lines).toHaveLength(5);
    const line = (name: string): string => lines.find((candidate) => candidate.slice(2).startsWith(`${name} `)) ?? `(no line for ${name})`;
    expect(line(names.token)).toMatch(/^✓ .* as mix@example\.com/);
    expect(line(names.savedOAuth)).toMatch(new RegExp(`^✓ .*as client ${apps.savedOAuth?.app.clientId ?? ''}  scopes okta\\.groups\\.read  token 1h  no DPoP  GET /api/v1/groups\\?limit=1  \\d+ ms$`));
    expect(line(names.envDpop)).toMatch(new RegExp(`^✓ .*as client ${apps.envDpop?.app.clientId ?? ''}  scopes okta\\.users\\.read  token 1h  DPoP required  GET /api/v1/users\\?limit=1`));
    expect(line(names.envScope)).toMatch(/^✗ .*Okta did not grant the scope okta\.apps\.manage to the app 0oa/);
    expect(line(names.revoked)).toMatch(/^✗ .*Okta rejected the token \(401/);
    expect(result.stderr).toMatch(/hint: grant okta\.apps\.manage on the app's "Okta API Scopes" tab/);
    expect(result.stderr).toMatch(new RegExp(`3 of 5 connections OK; failed: ${names.envScope}, ${names.revoked}`));
  });

  it('test --all --json: name order, the OAuth fields on every OAuth item (null when its test failed), exit 5', async () => {
    const result = await sandbox.run(['test', '--all', '--json', '--timeout', '60'], { env });
    runs.push(result);
    expect(result.code, describeRun(result)).toBe(5);
    const items = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(items.map((item) => [item.name, item.ok])).toEqual([
      [names.token, true],
      [names.savedOAuth, true],
      [names.envDpop, true],
      [names.envScope, false],
      [names.revoked, false],
    ]);
    const byName: Record<string, Record<string, unknown> | undefined> = Object.fromEntries(items.map((item) => [String(item.name), item]));
    for (const name of [names.token, names.revoked]) expect(Object.keys(byName[name] ?? {}).sort()).toEqual(TEST_RESULT_KEYS);
    for (const name of [names.savedOAuth, names.envDpop, names.envScope]) expect(Object.keys(byName[name] ?? {}).sort()).toEqual([...TEST_RESULT_KEYS, 'oauth'].sort());
    expect(byName[names.savedOAuth]).toMatchObject({
      owner: { id: apps.savedOAuth?.app.clientId },
      oauth: { scopes: ['okta.groups.read'], expiresInS: 3600, isDPoP: false, checked: 'GET /api/v1/groups?limit=1' },
      error: null,
    });
    expect(byName[names.envDpop]).toMatchObject({ oauth: { scopes: ['okta.users.read'], expiresInS: 3600, isDPoP: true, checked: 'GET /api/v1/users?limit=1' } });
    expect(byName[names.envScope]).toMatchObject({ ok: false, oauth: null, error: { code: 5, httpStatus: 400, oktaErrorCode: 'invalid_scope' } });
    expect((byName[names.envScope]?.error as { message: string }).message).toMatch(new RegExp(`^${names.envScope}: Okta did not grant the scope okta\\.apps\\.manage`));
  });

  it('doctor --test: a line per test, the OAuth ones with what they found, the failed ones with their fix; exit 1', async () => {
    const result = await sandbox.run(['doctor', '--test', '--timeout', '60'], { env });
    runs.push(result);
    expect(result.code, describeRun(result)).toBe(1);
    const line = (name: string): string => linesStarting(result.stdout, '').find((candidate) => candidate.includes(` test ${name}:`)) ?? `(no line for ${name})`;
    expect(line(names.savedOAuth)).toMatch(new RegExp(`^✓ test ${names.savedOAuth}: .*as client 0oa\\S+ {2}scopes okta\\.groups\\.read {2}token 1h {2}no DPoP`));
    expect(line(names.envDpop)).toMatch(/^✓ .*scopes okta\.users\.read {2}token 1h {2}DPoP required/);
    expect(line(names.envScope)).toMatch(/^✗ .*Okta did not grant the scope okta\.apps\.manage/);
    expect(line(names.revoked)).toMatch(/^✗ .*rejected the token/);
    const fixes = result.stdout.split('\n');
    const fixAfter = (name: string): string => fixes[fixes.findIndex((candidate) => candidate.includes(` test ${name}:`)) + 1] ?? '';
    expect(fixAfter(names.envScope)).toMatch(/fix: grant okta\.apps\.manage on the app's "Okta API Scopes" tab/);
    expect(fixAfter(names.revoked)).toMatch(new RegExp(`fix: okta-connect rotate ${names.revoked}`));
    // The environment-only OAuth connections are named in the environment checks, with their variables.
    const k = `OKTA_CONNECT_${envKey(names.envDpop)}`;
    expect(result.stdout).toContain(`- environment ${names.envDpop}: ${k}_CLIENT_ID, ${k}_PRIVATE_KEY, ${k}_SCOPES, ${k}_KEY_ID and ${k}_ORG_URL in effect\n`);
  });

  it('list: an environment-only OAuth connection is KIND oauth, OWNER its client id, SOURCE env; --json has clientId and scopes', async () => {
    const result = await sandbox.run(['list'], { env });
    runs.push(result);
    expect(result.code, describeRun(result)).toBe(0);
    const row = result.stdout.split('\n').find((line) => line.startsWith(`${names.envDpop} `));
    expect(row).toMatch(new RegExp(`^${names.envDpop} +oauth +\\S+ +${apps.envDpop?.app.clientId ?? ''} +.* +- +env$`));
    const json = await sandbox.run(['list', '--json'], { env });
    runs.push(json);
    const item = (JSON.parse(json.stdout) as Record<string, unknown>[]).find((entry) => entry.name === names.envDpop);
    expect(item).toMatchObject({ kind: 'oauth', source: 'env', orgUrl: fake.url, clientId: apps.envDpop?.app.clientId, scopes: ['okta.users.read'], keyId: apps.envDpop?.kid, idleExpiresAt: null });
  });

  it('list does not show a saved token connection that a lone _CLIENT_ID makes an incomplete OAuth one as working: SOURCE env (incomplete), as test refuses it', async () => {
    const partial = { [`OKTA_CONNECT_${envKey(names.token)}_CLIENT_ID`]: '0oa1abcdefGHIJKLmn0x7' };
    const result = await sandbox.run(['list'], { env: partial });
    expect(result.code, describeRun(result)).toBe(0);
    const row = result.stdout.split('\n').find((line) => line.startsWith(`${names.token} `));
    expect(row).toMatch(/env \(incomplete\)$/);
    expect(result.stderr).toContain(`${names.token}: OKTA_CONNECT_${envKey(names.token)}_CLIENT_ID is set but OKTA_CONNECT_${envKey(names.token)}_PRIVATE_KEY and OKTA_CONNECT_${envKey(names.token)}_SCOPES are not`);
    const tested = await sandbox.run(['test', names.token], { env: partial });
    expect(expectCleanFailure(tested, 2)).toMatch(/_CLIENT_ID is set but/);
  });

  it('an OAuth test that Okta refuses (a key not registered): exit 4, and the hint names the variable the key came from', async () => {
    const stranger = fake.oauth.addApp();
    const bad = envName('f_bad');
    const result = await sandbox.run(['test', bad], { env: oauthEnv(bad, { ...apps.envScope, privatePem: stranger.privatePem } as NewApp) });
    runs.push(result);
    expectCleanFailure(result, 4);
    expect(result.stderr).toMatch(new RegExp(`hint: .*the key came from OKTA_CONNECT_${envKey(bad)}_PRIVATE_KEY: update that secret`));
    expect(result.stderr).not.toMatch(/_TOKEN/);
  });
});

describe('the OAuth CI variables, set wrongly', () => {
  const sandbox = useSandbox();

  it('doctor fails each partial or invalid set, naming the variable, never the key; each command using it exits 2 with a hint naming it', async () => {
    const made = fake.oauth.addApp();
    const publicPem = createPublicKey(made.privatePem).export({ format: 'pem', type: 'spki' }).toString();
    const suffix = uniqueName('ci').replace(/-/g, '_');
    const cases: { name: string; env: (key: string) => Record<string, string>; message: (key: string) => string; hint: (key: string) => RegExp }[] = [
      {
        name: `nokey_${suffix}`,
        env: (k) => ({ [`${k}_CLIENT_ID`]: made.app.clientId }),
        message: (k) => `${k}_CLIENT_ID is set but ${k}_PRIVATE_KEY and ${k}_SCOPES are not`,
        hint: (k) => new RegExp(`set ${k}_PRIVATE_KEY \\(the private key, PEM or JWK\\) and ${k}_SCOPES \\(the Okta API scopes\\) too, or unset ${k}_CLIENT_ID`),
      },
      {
        name: `noclient_${suffix}`,
        env: (k) => ({ [`${k}_PRIVATE_KEY`]: made.privatePem, [`${k}_SCOPES`]: 'okta.users.read' }),
        message: (k) => `${k}_PRIVATE_KEY is set but ${k}_CLIENT_ID is not`,
        hint: (k) => new RegExp(`set ${k}_CLIENT_ID to the app's client id .*or unset ${k}_PRIVATE_KEY`),
      },
      {
        name: `badpem_${suffix}`,
        env: (k) => ({ [`${k}_CLIENT_ID`]: made.app.clientId, [`${k}_SCOPES`]: 'okta.users.read', [`${k}_PRIVATE_KEY`]: made.privatePem.replace(/^(.{40}).{20}/s, '$1AAAAAAAAAAAAAAAAAAAA') }),
        message: (k) => `${k}_PRIVATE_KEY: the PEM private key does not parse`,
        hint: (k) => new RegExp(`or unset ${k}_PRIVATE_KEY`),
      },
      {
        name: `public_${suffix}`,
        env: (k) => ({ [`${k}_CLIENT_ID`]: made.app.clientId, [`${k}_SCOPES`]: 'okta.users.read', [`${k}_PRIVATE_KEY`]: publicPem }),
        message: (k) => `${k}_PRIVATE_KEY: this is a public key or certificate`,
        hint: (k) => new RegExp(`or unset ${k}_PRIVATE_KEY`),
      },
      {
        name: `scope_${suffix}`,
        env: (k) => ({ [`${k}_CLIENT_ID`]: made.app.clientId, [`${k}_SCOPES`]: 'okta.users.read users.manage', [`${k}_PRIVATE_KEY`]: made.privatePem }),
        message: (k) => `${k}_SCOPES: "users.manage" is not an Okta API scope`,
        hint: (k) => new RegExp(`scopes are Okta API scope names .*; or unset ${k}_SCOPES`),
      },
      {
        name: `both_${suffix}`,
        env: (k) => ({ [`${k}_CLIENT_ID`]: made.app.clientId, [`${k}_SCOPES`]: 'okta.users.read', [`${k}_PRIVATE_KEY`]: made.privatePem, [`${k}_TOKEN`]: generateToken() }),
        message: (k) => `${k}_TOKEN and ${k}_CLIENT_ID are both set`,
        hint: () => /unset one of them/,
      },
    ];
    const envOf = (entry: (typeof cases)[number]): Record<string, string> => {
      const k = `OKTA_CONNECT_${envKey(entry.name)}`;
      return { [`${k}_ORG_URL`]: fake.url, ...entry.env(k) };
    };
    const all = Object.assign({}, ...cases.map(envOf)) as Record<string, string>;
    const before = fake.requests.length;
    const runs: RunResult[] = [];
    const doctor = await sandbox.run(['doctor', '--json'], { env: all });
    runs.push(doctor);
    expect(doctor.code, describeRun(doctor)).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; message: string; fix: string | null }[] }).checks;
    for (const entry of cases) {
      const k = `OKTA_CONNECT_${envKey(entry.name)}`;
      const check = checks.find((candidate) => candidate.name === `environment ${entry.name}`);
      expect(check, doctor.stdout).toMatchObject({ status: 'fail' });
      expect(check?.message).toContain(entry.message(k));
      expect(check?.fix).toMatch(entry.hint(k));
    }
    for (const entry of cases) {
      const k = `OKTA_CONNECT_${envKey(entry.name)}`;
      const result = await sandbox.run(['test', entry.name], { env: envOf(entry) });
      runs.push(result);
      expect(expectCleanFailure(result, 2)).toContain(entry.message(k));
      expect(linesStarting(result.stderr, 'hint: ')[0]).toMatch(entry.hint(k));
    }
    // The other commands that use the connection refuse it the same way, before running anything.
    const [first] = cases;
    if (first === undefined) throw new Error('no cases');
    const k = `OKTA_CONNECT_${envKey(first.name)}`;
    for (const args of [['token', first.name], ['exec', first.name, '--', process.execPath, '-e', 'process.stdout.write("ran")']]) {
      const result = await sandbox.run(args, { env: envOf(first) });
      runs.push(result);
      expect(expectCleanFailure(result, 2)).toContain(first.message(k));
    }
    // test --all lists them all as failed (exit 2), not silently skipped.
    const every = await sandbox.run(['test', '--all'], { env: all });
    runs.push(every);
    expect(every.code, describeRun(every)).toBe(2);
    expect(nonEmptyLines(every.stdout).filter((line) => line.startsWith('✗'))).toHaveLength(cases.length);
    expect(fake.requests.length).toBe(before);
    expect(keyLeaks(made, sandbox, runs)).toEqual([]);
  });
});
