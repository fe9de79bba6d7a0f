import { parseOptions } from '../../../src/domain/options.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listOptionsSchema, listRun, type ListOptions } from '../../../src/commands/list.js';
import { NOW, daysAgo, exitOf, fakeContext, makeRecord, makeToken, visibleText, type FakeContext, type FakeContextOptions } from '../../fakes/context.js';

type RawOptions = Record<string, string | boolean | undefined>;

const ORG = 'https://acme.okta.com';
const HEADER = ['NAME', 'KIND', 'ORG URL', 'OWNER', 'LAST TEST', 'EXPIRES', 'SOURCE'];
const ITEM_KEYS = ['name', 'kind', 'orgUrl', 'source', 'createdAt', 'owner', 'lastTest', 'lastUsedAt', 'idleExpiresAt'].sort();
const DAY_MS = 86_400_000;

/** Raw options, as commander hands them over, through the command's schema. */
function opts(partial: RawOptions = {}): ListOptions {
  return parseOptions(listOptionsSchema, partial);
}

/** The table on stdout as rows of cells, cut at the header's column starts. */
function table(text: string): Record<string, string>[] {
  const [header = '', ...rows] = text.trimEnd().split('\n');
  const starts = HEADER.map((title) => header.indexOf(title));
  return rows.map((row) =>
    Object.fromEntries(HEADER.map((title, i) => [title, row.slice(starts[i], starts[i + 1] ?? row.length).trim()])),
  );
}

function byName(rows: Record<string, string>[]): Record<string, Record<string, string> | undefined> {
  return Object.fromEntries(rows.map((row): [string, Record<string, string>] => [row.NAME ?? '', row]));
}

const tokens = { prod: makeToken(), old: makeToken(), soon: makeToken() };

function fourConnections(extra: FakeContextOptions = {}): FakeContext {
  return fakeContext({
    connections: [
      makeRecord('prod', ORG, {
        createdAt: daysAgo(60),
        owner: { id: '00uADA', login: 'ada@acme.com', status: 'ACTIVE' },
        lastTest: { at: daysAgo(7), ok: true, code: 0, latencyMs: 120, httpStatus: null },
        lastUsedAt: daysAgo(7),
      }),
      makeRecord('old', 'https://old.okta.com', {
        createdAt: daysAgo(45),
        lastTest: { at: daysAgo(31), ok: false, code: 4, latencyMs: 80, httpStatus: 401 },
      }),
      makeRecord('soon', 'https://soon.oktapreview.com', { createdAt: daysAgo(40), lastUsedAt: daysAgo(26) }),
      makeRecord('gone', 'https://gone.okta.com', { createdAt: daysAgo(2) }),
    ],
    secrets: tokens,
    ...extra,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('list', () => {
  it('prints the table NAME, KIND, ORG URL, OWNER, LAST TEST, EXPIRES, SOURCE, by name', async () => {
    const ctx = fourConnections();
    const { code } = await exitOf(listRun(ctx, opts()));
    expect(code).toBe(0);
    const [header] = ctx.out.plain().split('\n');
    expect(header?.split(/ {2,}/)).toEqual(HEADER);
    const rows = table(ctx.out.plain());
    expect(rows.map((row) => row.NAME)).toEqual(['gone', 'old', 'prod', 'soon']);
    const named = byName(rows);
    expect(named.prod).toMatchObject({ 'ORG URL': ORG, OWNER: 'ada@acme.com', EXPIRES: 'in 23d', SOURCE: 'keychain' });
    expect(named.prod?.['LAST TEST']).toMatch(/ok/);
    // old's last test was a 401: the token is dead, whatever the idle count says; LAST TEST says it in words.
    expect(named.old).toMatchObject({ KIND: 'token', OWNER: '-', EXPIRES: 'dead', SOURCE: 'keychain', 'LAST TEST': 'revoked (401) 31d ago' });
    expect(named.prod?.['LAST TEST']).toBe('ok 7d ago');
    expect(named.soon).toMatchObject({ EXPIRES: 'in 4d', SOURCE: 'keychain' });
    expect(named.gone?.['LAST TEST']).toBe('never');
    for (const token of Object.values(tokens)) expect(visibleText(ctx)).not.toContain(token);
  });

  it('--json prints an array of {name, kind, orgUrl, source, createdAt, owner, lastTest, lastUsedAt, idleExpiresAt}', async () => {
    const ctx = fourConnections();
    const { code } = await exitOf(listRun(ctx, opts({ json: true })));
    expect(code).toBe(0);
    const items = JSON.parse(ctx.out.text()) as Record<string, unknown>[];
    expect(items.map((item) => item.name)).toEqual(['gone', 'old', 'prod', 'soon']);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
    expect(items[2]).toEqual({
      name: 'prod',
      kind: 'token',
      orgUrl: ORG,
      source: 'keychain',
      createdAt: daysAgo(60),
      owner: { id: '00uADA', login: 'ada@acme.com', status: 'ACTIVE' },
      lastTest: { at: daysAgo(7), ok: true, code: 0, latencyMs: 120, httpStatus: null },
      lastUsedAt: daysAgo(7),
      idleExpiresAt: new Date(NOW.getTime() + 23 * DAY_MS).toISOString(),
    });
    // Without lastUsedAt, the idle expiry counts from createdAt.
    expect(items[1]).toMatchObject({ name: 'old', lastUsedAt: null, idleExpiresAt: new Date(NOW.getTime() - 15 * DAY_MS).toISOString() });
    for (const token of Object.values(tokens)) expect(ctx.out.text()).not.toContain(token);
  });

  it('with no connections prints a one-line hint and exits 0', async () => {
    const ctx = fakeContext();
    const { code } = await exitOf(listRun(ctx, opts()));
    expect(code).toBe(0);
    expect(ctx.out.text()).toBe('');
    expect(ctx.err.plain()).toMatch(/^[^\n]*okta-connect add[^\n]*\n$/);
  });

  it('--json with no connections prints []', async () => {
    const ctx = fakeContext();
    expect((await exitOf(listRun(ctx, opts({ json: true })))).code).toBe(0);
    expect(JSON.parse(ctx.out.text())).toEqual([]);
  });

  it('reads metadata only: no token read, no Okta, no prompt', async () => {
    const ctx = fourConnections({ tty: true });
    expect((await exitOf(listRun(ctx, opts()))).code).toBe(0);
    expect(ctx.events.filter((event) => event.startsWith('secrets.get'))).toEqual([]);
    expect(ctx.oktaLoads).toBe(0);
    expect(ctx.prompter.questions).toEqual([]);
  });

  it('works when the keychain fails', async () => {
    const ctx = fourConnections();
    ctx.secrets.breakAll();
    const { code } = await exitOf(listRun(ctx, opts()));
    expect(code).toBe(0);
    const rows = table(ctx.out.plain());
    expect(rows.map((row) => row.NAME)).toEqual(['gone', 'old', 'prod', 'soon']);
    // Unknown is not missing: without an answer nothing is shown as missing.
    expect(rows.map((row) => row.SOURCE)).not.toContain('missing');
  });

  // CONTRACT (Storage): "`list` never shows a connection whose secret is missing without saying so".
  it('says so when a saved connection has no token in a keychain that answers', async () => {
    const ctx = fourConnections(); // "gone" has metadata but no secret
    expect((await exitOf(listRun(ctx, opts()))).code).toBe(0);
    const gone = table(ctx.out.plain()).find((row) => row.NAME === 'gone');
    const json = fourConnections();
    await exitOf(listRun(json, opts({ json: true })));
    const item = (JSON.parse(json.out.text()) as { name: string; source: string }[]).find((candidate) => candidate.name === 'gone');
    expect({ table: gone?.SOURCE, json: item?.source }).toEqual({ table: 'missing', json: 'missing' });
    // It only lists names: no token is read.
    expect(ctx.events.filter((event) => event.startsWith('secrets.get'))).toEqual([]);
  });

  it('works, quickly, when the keychain hangs', async () => {
    vi.useFakeTimers();
    const ctx = fourConnections();
    ctx.secrets.hangAll();
    let settled = false;
    const pending = exitOf(listRun(ctx, opts({ json: true }))).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(settled).toBe(true);
    expect((await pending).code).toBe(0);
    const items = JSON.parse(ctx.out.text()) as { name: string; source: string }[];
    expect(items.map((item) => item.name)).toEqual(['gone', 'old', 'prod', 'soon']);
    expect(items.map((item) => item.source)).not.toContain('missing');
  });

  it('shows SOURCE env for connections the environment overrides or defines', async () => {
    const ctx = fourConnections({
      env: {
        OKTA_CONNECT_PROD_TOKEN: makeToken(),
        OKTA_CONNECT_CI_ORG_TOKEN: makeToken(),
        OKTA_CONNECT_CI_ORG_ORG_URL: 'https://ci.okta.com',
      },
    });
    expect((await exitOf(listRun(ctx, opts()))).code).toBe(0);
    const named = byName(table(ctx.out.plain()));
    expect(named.prod?.SOURCE).toBe('env');
    expect(named.ci_org).toMatchObject({ 'ORG URL': 'https://ci.okta.com', SOURCE: 'env', EXPIRES: '-' });
    expect(Object.keys(named)).toEqual(['ci_org', 'gone', 'old', 'prod', 'soon']);
    for (const value of Object.values(ctx.env)) {
      if (value?.startsWith('00')) expect(visibleText(ctx)).not.toContain(value);
    }
  });

  it('prints no colour codes when colour is off, even in a terminal', async () => {
    const ctx = fourConnections({ tty: true });
    await exitOf(listRun(ctx, opts()));
    expect(ctx.out.text()).toBe(ctx.out.plain());
  });
});

describe('list: the words and the width', () => {
  it.each([
    [{ code: 7, httpStatus: 200 }, 'not an Okta org'],
    [{ code: 7, httpStatus: 503 }, 'Okta error (503)'],
    [{ code: 7, httpStatus: 429 }, 'rate limited (429)'],
    [{ code: 6, httpStatus: null }, 'unreachable'],
    [{ code: 5, httpStatus: 403 }, 'no permission (403)'],
    [{ code: 8, httpStatus: null }, 'keychain error'],
  ])('LAST TEST for %o reads "%s 3h ago"', async (test, words) => {
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG, { lastTest: { at: new Date(NOW.getTime() - 3 * 3_600_000).toISOString(), ok: false, latencyMs: 1, ...test } })],
      secrets: { prod: makeToken() },
    });
    await exitOf(listRun(ctx, opts()));
    expect(byName(table(ctx.out.plain())).prod?.['LAST TEST']).toBe(`${words} 3h ago`);
  });

  it('fits 60 columns: the address cut with "…", OWNER dropped before any line wraps', async () => {
    const ctx = fakeContext({
      tty: true,
      env: { COLUMNS: '60' },
      connections: [
        makeRecord('production-eu', 'https://a-very-long-subdomain-name.okta-emea.com', { owner: { id: '00uX', login: 'someone.with.a.long.login@example.com' } }),
        makeRecord('dev', 'https://dev.okta.com'),
      ],
      secrets: { 'production-eu': makeToken(), dev: makeToken() },
    });
    await exitOf(listRun(ctx, opts()));
    const lines = ctx.out.plain().trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[0]).not.toContain('OWNER');
    expect(ctx.out.plain()).toMatch(/https:\/\/a-very[^ ]*…/);
  });

  it('at 100 columns keeps OWNER and the whole address', async () => {
    const ctx = fakeContext({
      tty: true,
      env: { COLUMNS: '100' },
      connections: [makeRecord('dev', 'https://dev.okta.com', { owner: { id: '00uX', login: 'ada@acme.com' } })],
      secrets: { dev: makeToken() },
    });
    await exitOf(listRun(ctx, opts()));
    expect(ctx.out.plain()).toContain('OWNER');
    expect(ctx.out.plain()).toContain('https://dev.okta.com ');
  });
});

describe('list of OAuth connections', () => {
  const CLIENT = '0oa1abcdefGHIJKLmn0x7';
  const oauthRecord = (name: string) =>
    makeRecord(name, ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', createdAt: daysAgo(60), lastUsedAt: daysAgo(45) });

  it('KIND oauth, OWNER the client id (tested or not), EXPIRES "-" (no idle expiry)', async () => {
    const ctx = fakeContext({ connections: [oauthRecord('svc')], secrets: { svc: '{}' } });
    const { code } = await exitOf(() => listRun(ctx, opts()));
    expect(code).toBe(0);
    expect(byName(table(ctx.out.plain())).svc).toMatchObject({ KIND: 'oauth', OWNER: CLIENT, 'LAST TEST': 'never', EXPIRES: '-', SOURCE: 'keychain' });
  });

  it('--json adds clientId, scopes and keyId, and idleExpiresAt is null; token connections are unchanged', async () => {
    const ctx = fakeContext({ connections: [oauthRecord('svc'), makeRecord('prod', ORG)], secrets: { svc: '{}', prod: makeToken() } });
    await exitOf(() => listRun(ctx, opts({ json: true })));
    const items = JSON.parse(ctx.out.text()) as Record<string, unknown>[];
    const svc = items.find((item) => item.name === 'svc');
    expect(svc).toMatchObject({ kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', idleExpiresAt: null });
    expect(Object.keys(items.find((item) => item.name === 'prod') ?? {}).sort()).toEqual(ITEM_KEYS);
  });

  it("shows what the CI variables make of a saved connection: their client id, scopes and kid win, as they do when it is used", async () => {
    const other = '0oa9zyxwvUTSRQponm0x7';
    const env = {
      OKTA_CONNECT_SVC_CLIENT_ID: other,
      OKTA_CONNECT_SVC_PRIVATE_KEY: 'not read by list',
      OKTA_CONNECT_SVC_SCOPES: 'okta.groups.read,okta.apps.read',
      OKTA_CONNECT_PROD_CLIENT_ID: other,
      OKTA_CONNECT_PROD_PRIVATE_KEY: 'not read by list',
      OKTA_CONNECT_PROD_SCOPES: 'okta.users.read',
      OKTA_CONNECT_PROD_KEY_ID: 'kid-env',
    };
    const ctx = fakeContext({ connections: [oauthRecord('svc'), makeRecord('prod', ORG)], secrets: { svc: '{}', prod: makeToken() }, env });
    await exitOf(() => listRun(ctx, opts({ json: true })));
    const items = JSON.parse(ctx.out.text()) as Record<string, unknown>[];
    expect(items.find((item) => item.name === 'svc')).toMatchObject({ kind: 'oauth', source: 'env', clientId: other, scopes: ['okta.groups.read', 'okta.apps.read'] });
    expect(items.find((item) => item.name === 'svc')).not.toHaveProperty('keyId');
    expect(items.find((item) => item.name === 'prod')).toMatchObject({ kind: 'oauth', source: 'env', clientId: other, keyId: 'kid-env', idleExpiresAt: null });
    expect(ctx.events.filter((event) => event.startsWith('secrets.get'))).toEqual([]);
  });

  it('a partial CI set (a client id alone) is not shown as a working connection: SOURCE "env (incomplete)" and a notice naming the variables', async () => {
    const env = { OKTA_CONNECT_TOKC_CLIENT_ID: '0oa9zyxwvUTSRQponm0x7', OKTA_CONNECT_BOTH_TOKEN: makeToken(), OKTA_CONNECT_BOTH_CLIENT_ID: '0oa9zyxwvUTSRQponm0x7', OKTA_CONNECT_BOTH_PRIVATE_KEY: 'x', OKTA_CONNECT_BOTH_SCOPES: 'okta.users.read' };
    const lastTest = { at: daysAgo(0), ok: true, code: 0, latencyMs: 10, httpStatus: null };
    const ctx = fakeContext({ connections: [makeRecord('tokc', ORG, { lastTest }), makeRecord('both', ORG)], secrets: { tokc: makeToken(), both: makeToken() }, env });
    await exitOf(() => listRun(ctx, opts()));
    const rows = byName(table(ctx.out.plain()));
    expect(rows.tokc?.SOURCE).toBe('env (incomplete)');
    expect(rows.both?.SOURCE).toBe('env (conflict)');
    expect(ctx.err.plain()).toContain('tokc: OKTA_CONNECT_TOKC_CLIENT_ID is set but OKTA_CONNECT_TOKC_PRIVATE_KEY and OKTA_CONNECT_TOKC_SCOPES are not: test, token and exec refuse it');
    expect(ctx.err.plain()).toContain('both: OKTA_CONNECT_BOTH_TOKEN and OKTA_CONNECT_BOTH_CLIENT_ID are both set');
    const json = fakeContext({ connections: [makeRecord('tokc', ORG)], secrets: { tokc: makeToken() }, env });
    await exitOf(() => listRun(json, opts({ json: true })));
    const [item] = JSON.parse(json.out.text()) as Record<string, unknown>[];
    expect(item).toMatchObject({ name: 'tokc', source: 'env' });
    expect(item?.envProblem).toContain('_PRIVATE_KEY and OKTA_CONNECT_TOKC_SCOPES are not');
    expect(ctx.events.filter((event) => event.startsWith('secrets.get'))).toEqual([]);
  });
});
