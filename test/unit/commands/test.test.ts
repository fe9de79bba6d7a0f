import { parseOptions, withPositionalName } from '../../../src/domain/options.js';
import { describe, expect, it } from 'vitest';
import { testOptionsSchema, testRun, type TestOptions } from '../../../src/commands/test.js';
import { BadResponseError, CliError, NetworkError, PermissionError } from '../../../src/domain/errors.js';
import {
  DEFAULT_OWNER,
  NOW,
  daysAgo,
  exitOf,
  fakeContext,
  makeRecord,
  makeToken,
  visibleText,
  type FakeContext,
  type FakeContextOptions,
  type FakeTokenBehaviour,
} from '../../fakes/context.js';

type RawOptions = Record<string, string | boolean | undefined>;

const ORG = 'https://acme.okta.com';
const OTHER_ORG = 'https://globex.okta.com';
const RESULT_KEYS = ['name', 'orgUrl', 'ok', 'latencyMs', 'owner', 'roles', 'rateLimit', 'error'].sort();
const ERROR_KEYS = ['code', 'message', 'httpStatus', 'oktaErrorCode', 'oktaErrorId'].sort();

/** Raw options, as commander hands them over, through the command's schema. */
function opts(partial: RawOptions = {}): TestOptions {
  return parseOptions(testOptionsSchema, partial);
}

/** A context with one saved connection `prod` at ORG whose keychain token works (unless told otherwise). */
function withProd(behaviour: FakeTokenBehaviour = {}, extra: FakeContextOptions = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({
    connections: [makeRecord('prod', ORG, { createdAt: daysAgo(40), lastUsedAt: daysAgo(10) })],
    secrets: { prod: token },
    ...extra,
  });
  ctx.gateway.token(ORG, token, { roles: ['Super Administrator'], ...behaviour });
  return { ctx, token };
}

type JsonObject = Record<string, unknown>;

describe('test --name', () => {
  it('prints the result line on stdout with the owner and the roles', async () => {
    const { ctx, token } = withProd({ roles: ['Org Administrator', 'Read-only Administrator'] });
    const { code } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.out.plain()).toMatch(/^✓ prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com \(Org Administrator \+1\) {2}\d+ ms\n$/);
    expect(visibleText(ctx)).not.toContain(token);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
  });

  it('accepts the name in any case', async () => {
    const { ctx } = withProd();
    expect((await exitOf(testRun(ctx, opts({ name: 'PROD' })))).code).toBe(0);
  });

  it('records lastTest, owner and lastUsedAt on success', async () => {
    const { ctx } = withProd();
    await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(ctx.metadata.get('prod')).toEqual({
      name: 'prod',
      kind: 'token',
      orgUrl: ORG,
      secretFingerprint: null,
      secretCommand: null,
      createdAt: daysAgo(40),
      owner: { id: DEFAULT_OWNER.id, login: DEFAULT_OWNER.login, status: 'ACTIVE' },
      lastTest: { at: NOW.toISOString(), ok: true, code: 0, latencyMs: expect.any(Number) as number, httpStatus: null },
      lastUsedAt: NOW.toISOString(),
    });
  });

  it('records a failed test without touching lastUsedAt or the known owner', async () => {
    const token = makeToken();
    const owner = { id: '00uOWNER', login: 'grace@acme.com', status: 'ACTIVE' };
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG, { owner, lastUsedAt: daysAgo(10) })],
      secrets: { prod: token },
    });
    ctx.gateway.org(ORG); // the token is not known there: 401
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(4);
    expect(error?.message).toMatch(/prod/);
    expect(ctx.metadata.get('prod')).toMatchObject({
      owner,
      lastTest: { at: NOW.toISOString(), ok: false, code: 4 },
      lastUsedAt: daysAgo(10),
    });
    expect(ctx.out.text()).toBe('');
    expect(visibleText(ctx, error)).not.toContain(token);
  });

  it('--json prints {name, orgUrl, ok, latencyMs, owner, roles, rateLimit, error}', async () => {
    const rateLimit = { limit: 600, remaining: 42, resetAt: '2025-06-01T12:01:00.000Z' };
    const { ctx, token } = withProd({ rateLimit });
    const { code } = await exitOf(testRun(ctx, opts({ name: 'prod', json: true })));
    expect(code).toBe(0);
    const result = JSON.parse(ctx.out.text()) as JsonObject;
    expect(Object.keys(result).sort()).toEqual(RESULT_KEYS);
    expect(result).toEqual({
      name: 'prod',
      orgUrl: ORG,
      ok: true,
      latencyMs: expect.any(Number) as number,
      owner: { id: DEFAULT_OWNER.id, login: DEFAULT_OWNER.login, status: 'ACTIVE' },
      roles: ['Super Administrator'],
      rateLimit,
      error: null,
    });
    expect(visibleText(ctx)).not.toContain(token);
  });

  const failures: { case: string; behaviour: (ctx: FakeContext, token: string) => void; exit: number; httpStatus: number | null; tokenSent: boolean }[] = [
    { case: '401', behaviour: (ctx) => ctx.gateway.org(ORG), exit: 4, httpStatus: 401, tokenSent: true },
    {
      case: '403',
      behaviour: (ctx, token) =>
        ctx.gateway.token(ORG, token, {
          whoAmIError: new PermissionError('the token is not allowed to call GET /api/v1/users/me (403)', { httpStatus: 403, oktaErrorCode: 'E0000006' }),
        }),
      exit: 5,
      httpStatus: 403,
      tokenSent: true,
    },
    { case: 'DNS', behaviour: () => undefined, exit: 6, httpStatus: null, tokenSent: false },
    {
      case: 'not an Okta org',
      behaviour: (ctx) => ctx.gateway.org(ORG, { checkOrgError: new BadResponseError(`${ORG} is not an Okta org: it redirects`, { httpStatus: 302 }) }),
      exit: 7,
      httpStatus: 302,
      tokenSent: false,
    },
    {
      case: 'HTML instead of a user',
      behaviour: (ctx, token) =>
        ctx.gateway.token(ORG, token, { whoAmIError: new BadResponseError(`${ORG} answered /api/v1/users/me without a user (not Okta's JSON)`, { httpStatus: 200 }) }),
      exit: 7,
      httpStatus: 200,
      tokenSent: true,
    },
  ];
  it.each(failures)('--json on failure ($case) prints the error object and keeps exit $exit', async ({ behaviour, exit, httpStatus, tokenSent }) => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token } });
    behaviour(ctx, token);
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'prod', json: true })));
    expect(code).toBe(exit);
    const result = JSON.parse(ctx.out.text()) as JsonObject;
    expect(Object.keys(result).sort()).toEqual(RESULT_KEYS);
    expect(result).toMatchObject({ name: 'prod', orgUrl: ORG, ok: false, owner: null, roles: null, rateLimit: null });
    const printed = result.error as JsonObject;
    expect(Object.keys(printed).sort()).toEqual(ERROR_KEYS);
    expect(printed.code).toBe(exit);
    expect(printed.httpStatus).toBe(httpStatus);
    expect(typeof printed.message).toBe('string');
    expect(ctx.gateway.tokensSent().includes(token)).toBe(tokenSent);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(visibleText(ctx, error)).not.toContain(token);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: false, code: exit });
  });

  it('--json on a 401 carries Okta\'s error code and id', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token } });
    ctx.gateway.org(ORG);
    await exitOf(testRun(ctx, opts({ name: 'prod', json: true })));
    const printed = (JSON.parse(ctx.out.text()) as JsonObject).error;
    expect(printed).toEqual({
      code: 4,
      message: expect.stringContaining('401') as string,
      httpStatus: 401,
      oktaErrorCode: 'E0000011',
      oktaErrorId: 'oaeFakeErrorId123',
    });
  });

  it('roles that cannot be read do not fail the test', async () => {
    const { ctx } = withProd({ rolesError: new PermissionError('the token is not allowed to call GET /api/v1/users/x/roles (403)', { httpStatus: 403 }) });
    const { code } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.out.plain()).toMatch(/^✓ prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com {2}\d+ ms\n$/);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: true, code: 0 });

    const json = withProd({ rolesError: new PermissionError('403', { httpStatus: 403 }) }).ctx;
    expect((await exitOf(testRun(json, opts({ name: 'prod', json: true })))).code).toBe(0);
    expect(JSON.parse(json.out.text())).toMatchObject({ ok: true, roles: null, error: null });
  });

  it('a connection that does not exist is exit 3', async () => {
    const { ctx } = withProd();
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'staging' })));
    expect(code).toBe(3);
    expect(error?.message).toMatch(/staging/);
    expect(error?.hint).toBeTruthy();
    expect(ctx.gateway.calls).toEqual([]);
  });

  it('a keychain that fails is exit 8', async () => {
    const { ctx } = withProd();
    ctx.secrets.breakAll();
    const { code } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(8);
    expect(ctx.gateway.calls).toEqual([]);
  });

  it.each(['0', '-1', 'abc', '', '601'])('--timeout "%s" is exit 2', async (timeout) => {
    const { ctx } = withProd();
    expect((await exitOf(() => testRun(ctx, opts({ name: 'prod', timeout })))).code).toBe(2);
  });

  it('in a terminal, stdout still carries only the result line (progress goes to stderr)', async () => {
    const { ctx, token } = withProd({}, { tty: true });
    const { code } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.out.text()).toMatch(/^✓ prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com \(Super Administrator\) {2}\d+ ms\n$/);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('warns when the token was close to its idle expiry', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG, { lastUsedAt: daysAgo(27) })], secrets: { prod: token } });
    ctx.gateway.token(ORG, token, { roles: ['Org Administrator'] });
    expect((await exitOf(testRun(ctx, opts({ name: 'prod' })))).code).toBe(0);
    expect(ctx.err.plain()).toMatch(/idle expiry/);
    expect(ctx.out.plain()).not.toMatch(/idle expiry/);
  });
});

describe('test: a token inside an error message never reaches the output', () => {
  // The adapter redacts SDK messages; these outputs must not depend on it alone (the contract: never in JSON, stdout, stderr).
  const leaky = (token: string): FakeTokenBehaviour => ({
    whoAmIError: new TypeError(`Invalid character in header content ["authorization"]: SSWS ${token}`),
  });

  it.each([
    { case: '--name --json', partial: { name: 'prod', json: true } },
    { case: '--all', partial: { all: true } },
    { case: '--all --json', partial: { all: true, json: true } },
  ])('$case', async ({ partial }) => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token } });
    ctx.gateway.token(ORG, token, leaky(token));
    const { code } = await exitOf(testRun(ctx, opts(partial)));
    expect(code).toBe(1);
    expect(ctx.out.text()).not.toBe('');
    expect(ctx.out.text()).not.toContain(token);
    expect(ctx.err.text()).not.toContain(token);
  });
});

describe('test without --name', () => {
  it('with exactly one connection, tests that one', async () => {
    const { ctx } = withProd();
    expect((await exitOf(testRun(ctx, opts()))).code).toBe(0);
    expect(ctx.out.plain()).toMatch(/^✓ prod /);
  });

  it('OKTA_CONNECT_NAME names the connection when none is given', async () => {
    const { ctx } = withProd({}, { env: { OKTA_CONNECT_NAME: 'Prod' } });
    ctx.metadata.put(makeRecord('other', ORG));
    expect((await exitOf(testRun(ctx, opts()))).code).toBe(0);
    expect(ctx.out.plain()).toMatch(/^✓ prod /);
  });

  it('an invalid OKTA_CONNECT_NAME is exit 2 naming the variable', async () => {
    const { ctx } = withProd({}, { env: { OKTA_CONNECT_NAME: 'no way!' } });
    const { code, error } = await exitOf(testRun(ctx, opts()));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/^OKTA_CONNECT_NAME: invalid name/);
  });

  it('a positional name works as --name does, and two different names are exit 2', async () => {
    const { ctx } = withProd();
    ctx.metadata.put(makeRecord('other', ORG));
    expect((await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, withPositionalName('prod', {}))))).code).toBe(0);
    expect((await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, withPositionalName('prod', { name: 'other' }))))).code).toBe(2);
  });

  it('a token-shaped name is refused without echoing it', async () => {
    const { ctx } = withProd();
    const token = makeToken();
    const { code, error } = await exitOf(() => testRun(ctx, opts({ name: token })));
    expect(code).toBe(2);
    expect(`${error?.message ?? ''} ${error?.hint ?? ''}`).not.toContain(token);
    expect(error?.message).toMatch(/looks like an API token/);
  });

  it('with several connections and no terminal, is exit 2 and asks nothing', async () => {
    const { ctx } = withProd();
    ctx.metadata.put(makeRecord('other', ORG));
    const { code, error } = await exitOf(testRun(ctx, opts()));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/--name/);
    expect(ctx.prompter.questions).toEqual([]);
    expect(ctx.gateway.calls).toEqual([]);
  });

  it('offers a select of the saved names in a terminal', async () => {
    const token = makeToken();
    const ctx = fakeContext({
      tty: true,
      answers: ['prod'],
      connections: [makeRecord('zeta', OTHER_ORG), makeRecord('prod', ORG), makeRecord('alpha', OTHER_ORG)],
      secrets: { prod: token },
    });
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(testRun(ctx, opts()));
    expect(code).toBe(0);
    expect(ctx.prompter.questions).toHaveLength(1);
    expect(ctx.prompter.questions[0]).toMatchObject({ kind: 'select', choices: ['alpha', 'prod', 'zeta'] });
    expect(ctx.out.plain()).toMatch(/^✓ prod /);
  });
});

describe('test --all', () => {
  function three(): { ctx: FakeContext; tokens: Record<string, string> } {
    const tokens = { alpha: makeToken(), beta: makeToken(), gamma: makeToken() };
    const ctx = fakeContext({
      connections: [
        makeRecord('gamma', 'https://gamma.okta.com'),
        makeRecord('beta', 'https://beta.okta.com'),
        makeRecord('alpha', 'https://alpha.okta.com'),
      ],
      secrets: tokens,
    });
    // alpha: DNS fails (6), slowly; beta: 401 (4), at once; gamma works.
    ctx.gateway.delays.set('https://alpha.okta.com', 30);
    ctx.gateway.org('https://beta.okta.com');
    ctx.gateway.token('https://gamma.okta.com', tokens.gamma);
    return { ctx, tokens };
  }

  it('in a terminal, aligns the name and address columns', async () => {
    const tokens = { a: makeToken(), 'long-name': makeToken() };
    const ctx = fakeContext({ tty: true, connections: [makeRecord('a', 'https://a.okta.com'), makeRecord('long-name', 'https://long.oktapreview.com')], secrets: tokens });
    ctx.gateway.token('https://a.okta.com', tokens.a).token('https://long.oktapreview.com', tokens['long-name']);
    expect((await exitOf(testRun(ctx, opts({ all: true })))).code).toBe(0);
    const lines = ctx.out.plain().trimEnd().split('\n');
    expect(lines.map((line) => line.indexOf('https://'))).toEqual([lines[0]?.indexOf('https://'), lines[0]?.indexOf('https://')]);
    expect(lines.map((line) => line.indexOf(' as '))).toEqual([lines[0]?.indexOf(' as '), lines[0]?.indexOf(' as ')]);
  });

  it('prints each line as soon as its connection is done (slow alpha last), and exits with the first failure in name order', async () => {
    const { ctx, tokens } = three();
    const { code } = await exitOf(testRun(ctx, opts({ all: true })));
    expect(code).toBe(6);
    const lines = ctx.out.plain().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^✗ beta {2}https:\/\/beta\.okta\.com {2}Okta rejected the token/);
    expect(lines[1]).toMatch(/^✓ gamma /);
    expect(lines[2]).toMatch(/^✗ alpha {2}https:\/\/alpha\.okta\.com {2}cannot resolve/);
    // The name once per line; each failure's hint on its own line, naming what to run.
    for (const line of lines) expect(line.split(/\s+/).filter((word) => /^(alpha|beta|gamma):?$/.test(word))).toHaveLength(1);
    expect(ctx.err.plain()).toMatch(/^ {2}hint: .*then save it with: okta-connect rotate beta$/m);
    expect(ctx.err.plain()).toMatch(/^1 of 3 connections OK; failed: alpha, beta$/m);
    for (const token of Object.values(tokens)) expect(visibleText(ctx)).not.toContain(token);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
  });

  it('--json prints an array in name order and keeps the exit code', async () => {
    const { ctx } = three();
    const { code } = await exitOf(testRun(ctx, opts({ all: true, json: true })));
    expect(code).toBe(6);
    const results = JSON.parse(ctx.out.text()) as JsonObject[];
    expect(results.map((result) => result.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(results.map((result) => result.ok)).toEqual([false, false, true]);
    for (const result of results) expect(Object.keys(result).sort()).toEqual(RESULT_KEYS);
    expect(results.map((result) => (result.error as JsonObject | null)?.code ?? null)).toEqual([6, 4, null]);
  });

  it('records every result in the metadata', async () => {
    const { ctx } = three();
    await exitOf(testRun(ctx, opts({ all: true })));
    expect(ctx.metadata.all().map((record) => [record.name, record.lastTest?.code, record.lastUsedAt])).toEqual([
      ['alpha', 6, null],
      ['beta', 4, null],
      ['gamma', 0, NOW.toISOString()],
    ]);
  });

  it('exits 0 when every test passes', async () => {
    const tokens = { one: makeToken(), two: makeToken() };
    const ctx = fakeContext({ connections: [makeRecord('one', ORG), makeRecord('two', OTHER_ORG)], secrets: tokens });
    ctx.gateway.token(ORG, tokens.one).token(OTHER_ORG, tokens.two);
    expect((await exitOf(testRun(ctx, opts({ all: true })))).code).toBe(0);
    expect(ctx.out.plain().trimEnd().split('\n')).toHaveLength(2);
  });

  it('tests concurrently, at most 8 at a time', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const tokens = Object.fromEntries(names.map((name) => [name, makeToken()]));
    const ctx = fakeContext({ connections: names.map((name) => makeRecord(name, `https://${name}.okta.com`)), secrets: tokens });
    for (const name of names) {
      ctx.gateway.token(`https://${name}.okta.com`, tokens[name] ?? '');
      ctx.gateway.delays.set(`https://${name}.okta.com`, 5);
    }
    expect((await exitOf(testRun(ctx, opts({ all: true })))).code).toBe(0);
    expect(ctx.gateway.maxInFlight).toBeGreaterThan(1);
    expect(ctx.gateway.maxInFlight).toBeLessThanOrEqual(8);
  });

  it('--all with --name is exit 2', async () => {
    const { ctx } = withProd();
    expect((await exitOf(testRun(ctx, opts({ all: true, name: 'prod' })))).code).toBe(2);
  });

  it('includes connections that exist only in the environment', async () => {
    const token = makeToken();
    const envToken = makeToken();
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG)],
      secrets: { prod: token },
      env: { OKTA_CONNECT_CI_ORG_TOKEN: envToken, OKTA_CONNECT_CI_ORG_ORG_URL: OTHER_ORG },
    });
    ctx.gateway.token(ORG, token).token(OTHER_ORG, envToken);
    expect((await exitOf(testRun(ctx, opts({ all: true, json: true })))).code).toBe(0);
    const results = JSON.parse(ctx.out.text()) as JsonObject[];
    expect(results.map((result) => [result.name, result.orgUrl, result.ok])).toEqual([
      ['ci_org', OTHER_ORG, true],
      ['prod', ORG, true],
    ]);
  });
});

describe('test with environment overrides', () => {
  it('OKTA_CONNECT_<NAME>_TOKEN beats the keychain ("-" → "_") and writes no metadata', async () => {
    const keychainToken = makeToken();
    const envToken = makeToken();
    const before = makeRecord('my-org', ORG);
    const ctx = fakeContext({
      connections: [before],
      secrets: { 'my-org': keychainToken },
      env: { OKTA_CONNECT_MY_ORG_TOKEN: envToken },
    });
    ctx.gateway.token(ORG, envToken).token(ORG, keychainToken, { whoAmIError: new CliError(1, 'the keychain token must not be used') });
    const { code } = await exitOf(testRun(ctx, opts({ name: 'my-org' })));
    expect(code).toBe(0);
    expect(ctx.gateway.tokensSent()).not.toContain(keychainToken);
    expect(ctx.gateway.tokensSent()).toContain(envToken);
    expect(ctx.metadata.all()).toEqual([before]);
    expect(ctx.metadata.updates).toBe(0);
    expect(visibleText(ctx)).not.toContain(envToken);
  });

  it('both variables make a connection work where it was never saved', async () => {
    const envToken = makeToken();
    const ctx = fakeContext({ env: { OKTA_CONNECT_CI_TOKEN: envToken, OKTA_CONNECT_CI_ORG_URL: 'acme.okta.com' } });
    ctx.secrets.breakAll(); // not even a keychain on this machine
    ctx.gateway.token(ORG, envToken);
    const { code } = await exitOf(testRun(ctx, opts({ name: 'ci', json: true })));
    expect(code).toBe(0);
    expect(JSON.parse(ctx.out.text())).toMatchObject({ name: 'ci', orgUrl: ORG, ok: true });
    expect(ctx.metadata.updates).toBe(0);
  });

  it('OKTA_CONNECT_<NAME>_ORG_URL alone never sends the saved token to another address: exit 2, nothing sent', async () => {
    const token = makeToken();
    const ctx = fakeContext({
      connections: [makeRecord('prod', OTHER_ORG)],
      secrets: { prod: token },
      env: { OKTA_CONNECT_PROD_ORG_URL: ORG },
    });
    ctx.gateway.token(ORG, token);
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/OKTA_CONNECT_PROD_ORG_URL points the saved token of "prod" at https:\/\/acme\.okta\.com/);
    expect(error?.hint).toMatch(/set OKTA_CONNECT_PROD_TOKEN too/);
    expect(ctx.gateway.calls).toEqual([]);
  });

  it('OKTA_CONNECT_<NAME>_ORG_URL with the token variable beats the saved address', async () => {
    const envToken = makeToken();
    const ctx = fakeContext({
      connections: [makeRecord('prod', OTHER_ORG)],
      secrets: { prod: makeToken() },
      env: { OKTA_CONNECT_PROD_ORG_URL: ORG, OKTA_CONNECT_PROD_TOKEN: envToken },
    });
    ctx.gateway.token(ORG, envToken);
    expect((await exitOf(testRun(ctx, opts({ name: 'prod' })))).code).toBe(0);
    expect(new Set(ctx.gateway.calls.map((call) => call.orgUrl))).toEqual(new Set([ORG]));
  });

  it('the same address in OKTA_CONNECT_<NAME>_ORG_URL as saved uses the keychain token', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token }, env: { OKTA_CONNECT_PROD_ORG_URL: `${ORG}/` } });
    ctx.gateway.token(ORG, token);
    expect((await exitOf(testRun(ctx, opts({ name: 'prod' })))).code).toBe(0);
  });

  it('a token variable without an address, for an unsaved name, is exit 3 naming the missing variable', async () => {
    const ctx = fakeContext({ env: { OKTA_CONNECT_CI_TOKEN: makeToken() } });
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'ci' })));
    expect(code).toBe(3);
    expect(`${error?.message ?? ''} ${error?.hint ?? ''}`).toMatch(/OKTA_CONNECT_CI_ORG_URL/);
  });

  it('an invalid token variable is exit 2 naming the variable, without its value', async () => {
    const bad = `${makeToken()}!`;
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], env: { OKTA_CONNECT_PROD_TOKEN: bad } });
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/OKTA_CONNECT_PROD_TOKEN/);
    expect(visibleText(ctx, error)).not.toContain(bad);
  });

  it('a 401 with an environment token says to update that secret', async () => {
    const ctx = fakeContext({ env: { OKTA_CONNECT_CI_TOKEN: makeToken(), OKTA_CONNECT_CI_ORG_URL: ORG } });
    ctx.gateway.org(ORG);
    const { code, error } = await exitOf(testRun(ctx, opts({ name: 'ci' })));
    expect(code).toBe(4);
    expect(error?.hint).toMatch(/OKTA_CONNECT_/);
  });
});

describe('test, errors of the network layer', () => {
  it('a network error during users/me is exit 6 and a failed lastTest', async () => {
    const { ctx } = withProd({ whoAmIError: new NetworkError('no answer from acme.okta.com within 15 s') });
    expect((await exitOf(testRun(ctx, opts({ name: 'prod' })))).code).toBe(6);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: false, code: 6 });
  });
});
