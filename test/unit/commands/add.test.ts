import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf, oauthCredential, secretOf } from '../../../src/domain/credential.js';
import { parseOptions } from '../../../src/domain/options.js';
import { describe, expect, it } from 'vitest';
import { addOptionsSchema, addRun, type AddOptions } from '../../../src/commands/add.js';
import {
  AuthError,
  BadResponseError,
  CliError,
  KeychainError,
  NetworkError,
  PermissionError,
} from '../../../src/domain/errors.js';
import {
  CTRL_C,
  NEVER_ENDING,
  NOW,
  exitOf,
  fakeContext,
  makeRecord,
  makeToken,
  visibleText,
  type Answer,
  type FakeContext,
  type FakeContextOptions,
} from '../../fakes/context.js';

type RawOptions = Record<string, string | boolean | undefined>;

const ORG = 'https://acme.okta.com';
const OTHER_ORG = 'https://globex.okta.com';
const TOKEN_PAGE = 'https://acme-admin.okta.com/admin/access/api/tokens';
const URL_QUESTION = /API address/;
const TOKEN_QUESTION = /token/i;
const NAME_QUESTION = /Name/;
const WHERE_QUESTION = /Where is the token kept/;

/** Raw options, as commander hands them over, through the command's schema. */
function opts(partial: RawOptions = {}): AddOptions {
  return parseOptions(addOptionsSchema, partial);
}

/** A non-interactive context with a working token for ORG, fed on stdin. */
function piped(extra: FakeContextOptions = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({ stdin: `${token}\n`, ...extra });
  ctx.gateway.token(ORG, token, { roles: ['Super Administrator'] });
  return { ctx, token };
}

function expectNothingSaved(ctx: FakeContext, before: { secrets: [string, string][]; records: string }): void {
  expect([...ctx.secrets.entries]).toEqual(before.secrets);
  expect(JSON.stringify(ctx.metadata.all())).toBe(before.records);
}

function snapshot(ctx: FakeContext): { secrets: [string, string][]; records: string } {
  return { secrets: [...ctx.secrets.entries], records: JSON.stringify(ctx.metadata.all()) };
}

describe('add, non-interactive (no terminal)', () => {
  it('saves with --name, --org-url and the token on stdin, after testing it', async () => {
    const token = makeToken();
    // Surrounding whitespace is trimmed.
    const padded = fakeContext({ stdin: `  \t${token}\r\n\n` });
    padded.gateway.token(ORG, token, { roles: ['Super Administrator'] });
    const { code } = await exitOf(() => addRun(padded, opts({ name: 'Prod', orgUrl: 'acme.okta.com/', tokenStdin: true })));
    expect(code).toBe(0);
    expect(padded.secrets.entries.get('prod')).toBe(token);
    const saved = padded.metadata.get('prod');
    expect(saved).toEqual({
      name: 'prod',
      kind: 'token',
      orgUrl: ORG,
      secretFingerprint: fingerprintOf({ kind: 'api-token', token }),
      secretCommand: null,
      createdAt: NOW.toISOString(),
      owner: { id: '00u1abcdefGHIJKLmn0x7', login: 'ada@acme.com', status: 'ACTIVE' },
      lastTest: { at: NOW.toISOString(), ok: true, code: 0, latencyMs: expect.any(Number) as number, httpStatus: null },
      lastUsedAt: NOW.toISOString(),
    });
    expect(padded.out.plain()).toMatch(/^✓ saved prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com \(Super Administrator\)\n$/);
    expect(padded.prompter.questions).toEqual([]);
    expect(visibleText(padded)).not.toContain(token);
    // The token went to the org only after it identified itself.
    expect(padded.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(padded.gateway.calls.map((call) => call.op).slice(0, 2)).toEqual(['checkOrg', 'whoAmI']);
    // Secret first, then metadata.
    const order = padded.events.filter((event) => event === 'secrets.set prod' || event === 'metadata.update');
    expect(order).toEqual(['secrets.set prod', 'metadata.update']);
  });

  const missing: { case: string; partial: RawOptions; flag: string }[] = [
    { case: 'no --org-url', partial: { name: 'prod', tokenStdin: true }, flag: '--org-url' },
    { case: 'no --token-stdin', partial: { name: 'prod', orgUrl: ORG }, flag: '--token-stdin' },
    { case: 'no --name', partial: { orgUrl: ORG, tokenStdin: true }, flag: '--name' },
  ];
  it.each(missing)('$case: exit 2 naming $flag, no prompt, no wait on stdin', async ({ partial, flag }) => {
    const ctx = fakeContext({ stdin: NEVER_ENDING });
    ctx.gateway.token(ORG, makeToken());
    const { code, error } = await exitOf(() => addRun(ctx, opts(partial)));
    expect(code).toBe(2);
    expect(error?.message).toContain(flag);
    expect(ctx.prompter.questions).toEqual([]);
    expect(ctx.stdin.wasRead).toBe(false);
    expect(ctx.oktaLoads).toBe(0);
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it('names every missing flag at once', async () => {
    const ctx = fakeContext({ stdin: NEVER_ENDING });
    const { code, error } = await exitOf(() => addRun(ctx, opts()));
    expect(code).toBe(2);
    for (const flag of ['--org-url', '--token-stdin', '--name']) expect(error?.message).toContain(flag);
  });

  it('does not prompt with terminals when CI is set', async () => {
    const ctx = fakeContext({ tty: true, env: { CI: 'true' }, stdin: NEVER_ENDING });
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(code).toBe(2);
    expect(error?.message).toContain('--token-stdin');
    expect(ctx.prompter.questions).toEqual([]);
  });

  it.each([
    { case: 'empty', stdin: '' },
    { case: 'whitespace only', stdin: ' \n\t\n' },
  ])('stdin $case: exit 2, nothing saved', async ({ stdin }) => {
    const ctx = fakeContext({ stdin });
    ctx.gateway.org(ORG);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/stdin/);
    expect(error?.message).toMatch(/empty/);
    expect(ctx.oktaLoads).toBe(0);
    expect(ctx.secrets.entries.size).toBe(0);
  });

  const invalid: { case: string; partial: RawOptions; stdin?: () => string; what: RegExp }[] = [
    { case: 'name with "!"', partial: { name: 'prod!' }, what: /name/ },
    { case: 'name starting with "-"', partial: { name: '-prod' }, what: /name/ },
    { case: 'name of 65 characters', partial: { name: 'a'.repeat(65) }, what: /name/ },
    { case: 'http: URL', partial: { orgUrl: 'http://acme.okta.com' }, what: /http/ },
    { case: 'placeholder URL', partial: { orgUrl: 'https://{yourOktaDomain}' }, what: /yourOktaDomain/ },
    { case: '.com.com host', partial: { orgUrl: 'acme.okta.com.com' }, what: /\.com\.com/ },
    { case: 'user-info in URL', partial: { orgUrl: 'https://ada:pw@acme.okta.com' }, what: /user name or password/ },
    { case: 'ftp: URL', partial: { orgUrl: 'ftp://acme.okta.com' }, what: /scheme/ },
    { case: 'short token', partial: {}, stdin: () => makeToken().slice(0, 12), what: /too short/ },
    { case: 'token with a space inside', partial: {}, stdin: () => `${makeToken().slice(0, 20)} ${makeToken().slice(2, 22)}`, what: /spaces/ },
    { case: 'placeholder token', partial: {}, stdin: () => '{apiToken}', what: /apiToken/ },
    { case: 'token id (00T…)', partial: {}, stdin: () => `00T${makeToken().slice(2, 19)}`, what: /token id/ },
    { case: 'token with "+"', partial: {}, stdin: () => `${makeToken().slice(0, 30)}+${makeToken().slice(2, 12)}`, what: /characters/ },
    { case: 'token of 201 characters', partial: {}, stdin: () => 'A'.repeat(201), what: /too long/ },
  ];
  it.each(invalid)('$case: exit 2 with a one-line message, nothing tested or saved', async ({ partial, stdin, what }) => {
    const token = stdin ? stdin() : makeToken();
    const ctx = fakeContext({ stdin: token });
    ctx.gateway.token(ORG, token);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true, ...partial })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(what);
    expect(error?.message).not.toContain('\n');
    // A value long enough to be a real token is never repeated back.
    if (token.length >= 20) expect(error?.message).not.toContain(token);
    expect(ctx.oktaLoads).toBe(0);
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it('an existing name is exit 2 with the rename hint, and nothing changes', async () => {
    const old = makeToken();
    const { ctx, token } = piped({ connections: [makeRecord('prod', OTHER_ORG)], secrets: { prod: old } });
    const before = snapshot(ctx);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/"prod" exists already/);
    expect(error?.hint).toMatch(/--force/);
    expect(error?.hint).toMatch(/add under the new name/);
    expect(error?.hint).toMatch(/okta-connect remove --name prod/);
    expectNothingSaved(ctx, before);
    expect(ctx.gateway.tokensSent()).not.toContain(token);
  });

  it('--force replaces the address and the token of an existing connection', async () => {
    const old = makeToken();
    const { ctx, token } = piped({ connections: [makeRecord('prod', OTHER_ORG)], secrets: { prod: old } });
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true, force: true })));
    expect(code).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.metadata.all()).toHaveLength(1);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
    expect(visibleText(ctx)).not.toContain(old);
  });

  it('--no-test saves without calling Okta', async () => {
    const { ctx, token } = piped();
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true, test: false })));
    expect(code).toBe(0);
    expect(ctx.oktaLoads).toBe(0);
    expect(ctx.gateway.calls).toEqual([]);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.metadata.get('prod')).toMatchObject({ name: 'prod', orgUrl: ORG, owner: null, lastTest: null, lastUsedAt: null });
    expect(ctx.out.plain()).toContain('not tested');
  });

  const failures: { case: string; setup: (ctx: FakeContext, token: string) => void; exit: number; tokenSent: boolean }[] = [
    {
      case: '401 (token rejected)',
      setup: (ctx) => ctx.gateway.org(ORG), // the token is not known there
      exit: 4,
      tokenSent: true,
    },
    {
      case: '403 on users/me',
      setup: (ctx, token) =>
        ctx.gateway.token(ORG, token, { whoAmIError: new PermissionError('the token is not allowed (403)', { httpStatus: 403 }) }),
      exit: 5,
      tokenSent: true,
    },
    { case: 'DNS failure', setup: () => undefined, exit: 6, tokenSent: false },
    {
      case: 'timeout on users/me',
      setup: (ctx, token) => ctx.gateway.token(ORG, token, { whoAmIError: new NetworkError('no answer from acme.okta.com within 15 s') }),
      exit: 6,
      tokenSent: true,
    },
    {
      case: 'not an Okta org',
      setup: (ctx) => ctx.gateway.org(ORG, { checkOrgError: new BadResponseError(`${ORG} is not an Okta org: it did not answer with an Okta org id`, { httpStatus: 200 }) }),
      exit: 7,
      tokenSent: false,
    },
    {
      case: '5xx on users/me',
      setup: (ctx, token) => ctx.gateway.token(ORG, token, { whoAmIError: new BadResponseError('Okta answered HTTP 503', { httpStatus: 503 }) }),
      exit: 7,
      tokenSent: true,
    },
  ];
  it.each(failures.flatMap((failure) => [false, true].map((force) => ({ ...failure, force }))))(
    'a failed test ($case, force $force) saves nothing and exits $exit',
    async ({ setup, exit, tokenSent, force }) => {
      const token = makeToken();
      const old = makeToken();
      const ctx = fakeContext({ stdin: token, connections: [makeRecord('prod', OTHER_ORG)], secrets: { prod: old } });
      setup(ctx, token);
      const before = snapshot(ctx);
      const { code, error } = await exitOf(() => addRun(ctx, opts({ name: force ? 'prod' : 'staging', orgUrl: ORG, tokenStdin: true, force })));
      expect(code).toBe(exit);
      expect(error?.message).toMatch(/nothing was saved/);
      expectNothingSaved(ctx, before);
      expect(visibleText(ctx, error)).not.toContain(token);
      expect(visibleText(ctx, error)).not.toContain(old);
      expect(ctx.gateway.tokensSent().includes(token)).toBe(tokenSent);
      expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    },
  );

  it('a metadata write failure removes the new secret again', async () => {
    const { ctx } = piped();
    ctx.metadata.failUpdate = new CliError(2, `cannot write ${ctx.metadata.path}: the disk is full`);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/disk is full/);
    expect(ctx.secrets.entries.has('prod')).toBe(false);
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.events).toContain('secrets.delete prod');
  });

  it('a metadata write failure with --force puts the previous secret back', async () => {
    const old = makeToken();
    const previous = makeRecord('prod', OTHER_ORG);
    const { ctx } = piped({ connections: [previous], secrets: { prod: old } });
    ctx.metadata.failUpdate = new CliError(2, `cannot write ${ctx.metadata.path}: permission denied`);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true, force: true })));
    expect(code).toBe(2);
    expect(ctx.secrets.entries.get('prod')).toBe(old);
    expect(ctx.metadata.all()).toEqual([previous]);
    expect(visibleText(ctx)).not.toContain(old);
  });

  it('a name created by another okta-connect meanwhile: exit 2, and the other connection keeps its token', async () => {
    const { ctx, token } = piped();
    const theirs = makeToken();
    // While this add tests its token, another process saves "prod" completely (secret, then metadata).
    ctx.gateway.token(ORG, token, {
      duringWhoAmI: () => {
        ctx.secrets.entries.set('prod', theirs);
        ctx.metadata.put(makeRecord('prod', OTHER_ORG));
      },
    });
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/another okta-connect/);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(OTHER_ORG);
    // Their connection must still work: its token is still in the keychain.
    expect(ctx.secrets.entries.get('prod')).toBe(theirs);
  });

  it('a keychain that refuses the secret is exit 8 and writes no metadata', async () => {
    const { ctx } = piped();
    ctx.secrets.failures.set = new KeychainError('cannot save the token in the OS keychain: no Secret Service', { hint: 'install one' });
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(8);
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.events).not.toContain('metadata.update');
  });

  it('--json prints the list element shape, and never the token', async () => {
    const { ctx, token } = piped();
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true, json: true })));
    expect(code).toBe(0);
    const printed = JSON.parse(ctx.out.text()) as Record<string, unknown>;
    expect(Object.keys(printed).sort()).toEqual(
      ['name', 'kind', 'orgUrl', 'source', 'createdAt', 'owner', 'lastTest', 'lastUsedAt', 'idleExpiresAt'].sort(),
    );
    expect(printed).toMatchObject({
      name: 'prod',
      orgUrl: ORG,
      source: 'keychain',
      createdAt: NOW.toISOString(),
      owner: { id: '00u1abcdefGHIJKLmn0x7', login: 'ada@acme.com' },
      lastTest: { at: NOW.toISOString(), ok: true, code: 0 },
      lastUsedAt: NOW.toISOString(),
      idleExpiresAt: new Date(NOW.getTime() + 30 * 86_400_000).toISOString(),
    });
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('explains on stderr what it changed in the address and the token', async () => {
    const token = `ab${makeToken().slice(2, 30)}`; // valid, but not "00" + 40 characters
    const ctx = fakeContext({ stdin: token });
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: 'https://acme-admin.okta.com/admin/dashboard', tokenStdin: true })));
    expect(code).toBe(0);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
    expect(ctx.err.plain()).toMatch(/-admin/);
    expect(ctx.err.plain()).toMatch(/\/admin\/dashboard/);
    expect(ctx.err.plain()).toMatch(/does not look like an Okta API token/);
    expect(ctx.out.plain()).not.toMatch(/does not look like/);
    expect(visibleText(ctx)).not.toContain(token);
  });
});

describe('add, interactive (terminal)', () => {
  function terminal(answers: Answer[], extra: FakeContextOptions = {}): FakeContext {
    return fakeContext({ tty: true, answers, stdin: NEVER_ENDING, ...extra });
  }

  it('asks the address, shows the token page, asks the token, then the name (default: the subdomain)', async () => {
    const token = makeToken();
    const ctx = terminal(['acme.okta.com/', 'keychain', token, '']);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts()));
    expect(code).toBe(0);
    const [url, where, secret, name] = ctx.prompter.questions;
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['input', 'select', 'password', 'input']);
    expect(url?.message).toMatch(URL_QUESTION);
    expect(where?.message).toMatch(WHERE_QUESTION);
    expect(where?.choices).toEqual(['keychain', 'command']);
    expect(secret?.message).toMatch(TOKEN_QUESTION);
    expect(name?.message).toMatch(NAME_QUESTION);
    expect(name?.default).toBe('acme');
    // The normalised address is echoed, then the token page link, before the token prompt.
    expect(secret?.stderrBefore).toContain(ORG);
    expect(secret?.stderrBefore).toContain(TOKEN_PAGE);
    expect(url?.stderrBefore).not.toContain(TOKEN_PAGE);
    expect(ctx.secrets.entries.get('acme')).toBe(token);
    expect(ctx.metadata.get('acme')?.orgUrl).toBe(ORG);
    expect(ctx.stdin.wasRead).toBe(false);
    expect(visibleText(ctx)).not.toContain(token);
    expect(ctx.prompter.remaining).toBe(0);
  });

  it('asks only for what the flags did not give', async () => {
    const token = makeToken();
    const ctx = terminal(['keychain', token]);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['select', 'password']);
    expect(ctx.prompter.questions[0]?.stderrBefore).toContain(TOKEN_PAGE);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
  });

  it('rejects invalid answers with a reason and asks again', async () => {
    const token = makeToken();
    const ctx = terminal(
      ['http://acme.okta.com', '{yourOktaDomain}', 'acme.okta.com', 'keychain', 'short', `${token} x`, token, 'Bad Name!', 'taken', 'prod'],
      { connections: [makeRecord('taken', OTHER_ORG)], secrets: { taken: makeToken() } },
    );
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts()));
    expect(code).toBe(0);
    expect(ctx.prompter.questions).toHaveLength(4);
    const reasons = ctx.prompter.rejections.map((rejection) => [rejection.answer, rejection.reason] as const);
    expect(reasons.map(([answer]) => answer)).toEqual(['http://acme.okta.com', '{yourOktaDomain}', 'short', `${token} x`, 'Bad Name!', 'taken']);
    expect(reasons[0]?.[1]).toMatch(/https/);
    expect(reasons[1]?.[1]).toMatch(/yourOktaDomain/);
    expect(reasons[2]?.[1]).toMatch(/too short/);
    expect(reasons[3]?.[1]).toMatch(/spaces/);
    expect(reasons[4]?.[1]).toMatch(/letter or digit/);
    expect(reasons[5]?.[1]).toMatch(/exists already/);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
  });

  it('a bad flag is still exit 2 in a terminal, before any question', async () => {
    const ctx = terminal([]);
    const { code } = await exitOf(() => addRun(ctx, opts({ orgUrl: 'http://acme.okta.com' })));
    expect(code).toBe(2);
    expect(ctx.prompter.questions).toEqual([]);
  });

  it('after a failed test, "enter the token again" retries with the new token', async () => {
    const bad = makeToken();
    const good = makeToken();
    const ctx = terminal(['keychain', bad, 'token', good]);
    ctx.gateway.token(ORG, good);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(code).toBe(0);
    const menu = ctx.prompter.questions.find((question) => question.kind === 'select' && question.message.includes('failed'));
    expect(menu?.choices).toEqual(['token', 'url', 'save', 'cancel']);
    expect(menu?.stderrBefore).toMatch(/401/);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['select', 'password', 'select', 'password']);
    expect(ctx.secrets.entries.get('prod')).toBe(good);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: true, code: 0 });
    expect(visibleText(ctx)).not.toContain(bad);
    expect(visibleText(ctx)).not.toContain(good);
  });

  it('a host that is not an Okta org is caught at the address question, before any token is asked', async () => {
    const token = makeToken();
    const ctx = terminal(['https://acme.okta.com.example', 'acme.okta.com', 'keychain', token]);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['input', 'input', 'select', 'password']);
    expect(ctx.prompter.questions[1]?.stderrBefore).toMatch(/✗ cannot resolve acme\.okta\.com\.example/);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
    expect(ctx.gateway.calls.filter((call) => call.orgUrl !== ORG).map((call) => call.op)).toEqual(['checkOrg']);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
  });

  it('a bare subdomain at the address question is refused with the address it probably stands for', async () => {
    const token = makeToken();
    const ctx = terminal(['acme', 'acme.okta.com', 'keychain', token]);
    ctx.gateway.token(ORG, token);
    expect((await exitOf(() => addRun(ctx, opts({ name: 'prod' })))).code).toBe(0);
    expect(ctx.prompter.rejections[0]?.reason).toBe('"acme" is not a whole address: did you mean https://acme.okta.com?');
  });

  it('a typo that DNS cannot find suggests the address (acme.okta → https://acme.okta.com)', async () => {
    const token = makeToken();
    const ctx = terminal(['acme.okta', 'acme.okta.com', 'keychain', token]);
    ctx.gateway.token(ORG, token);
    expect((await exitOf(() => addRun(ctx, opts({ name: 'prod' })))).code).toBe(0);
    expect(ctx.prompter.questions[1]?.stderrBefore).toMatch(/did you mean https:\/\/acme\.okta\.com\?/);
  });

  it('after a failed test, "enter the address again" keeps the token; a 401 preselects "enter the token again"', async () => {
    const token = makeToken();
    const ctx = terminal(['globex.okta.com', 'keychain', token, 'url', 'acme.okta.com']);
    ctx.gateway.org(OTHER_ORG);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['input', 'select', 'password', 'select', 'input']);
    expect(ctx.prompter.questions[3]?.default).toBe('token');
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
  });

  it('after a failure of the host (5xx), Enter at the menu takes the preselected "enter the address again"', async () => {
    const token = makeToken();
    const ctx = terminal(['keychain', token, '', 'acme.okta.com']);
    ctx.gateway.token(OTHER_ORG, token, { whoAmIError: new BadResponseError('Okta answered HTTP 503', { httpStatus: 503 }) });
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: OTHER_ORG })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions[2]).toMatchObject({ kind: 'select', default: 'url' });
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG);
  });

  it('after a failed test, "save anyway" saves and records the failed test', async () => {
    const token = makeToken();
    const ctx = terminal(['keychain', token, 'save']);
    ctx.gateway.org(ORG);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(code).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.metadata.get('prod')).toMatchObject({ lastTest: { ok: false, code: 4 }, lastUsedAt: null, owner: null });
    expect(ctx.out.plain()).toMatch(/saved despite the failed test/);
  });

  it.each([
    { case: 'cancel', answers: (token: string): Answer[] => ['keychain', token, 'cancel'], exit: 130 },
    { case: 'Ctrl-C at the menu', answers: (token: string): Answer[] => ['keychain', token, CTRL_C], exit: 130 },
  ])('after a failed test, $case saves nothing (exit $exit)', async ({ answers, exit }) => {
    const token = makeToken();
    const ctx = terminal(answers(token));
    ctx.gateway.org(ORG);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(code).toBe(exit);
    expect(error?.message).toMatch(/cancelled/);
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it.each([
    { at: 'the address', answers: (): Answer[] => [CTRL_C] },
    { at: 'the token', answers: (): Answer[] => ['acme.okta.com', 'keychain', CTRL_C] },
    { at: 'where the token is kept', answers: (): Answer[] => ['acme.okta.com', CTRL_C] },
    { at: 'the name', answers: (token: string): Answer[] => ['acme.okta.com', 'keychain', token, CTRL_C] },
  ])('Ctrl-C at $at: exit 130, nothing saved, no token sent anywhere', async ({ answers }) => {
    const token = makeToken();
    const ctx = terminal(answers(token));
    ctx.gateway.token(ORG, token);
    const { code, error } = await exitOf(() => addRun(ctx, opts()));
    expect(code).toBe(130);
    expect(error?.name).toBe('CancelledError');
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
    // Only the unauthenticated org check of the address, once it was typed.
    expect(ctx.gateway.tokensSent()).toEqual([]);
    expect(ctx.gateway.calls.every((call) => call.op === 'checkOrg')).toBe(true);
  });

  it('a failed test of a token from stdin offers the menu too, and a new token replaces it', async () => {
    const bad = makeToken();
    const good = makeToken();
    const ctx = fakeContext({ tty: true, stdin: bad, answers: ['token', good] });
    ctx.gateway.token(ORG, good);
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })));
    expect(code).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(good);
  });

  it('the failed-test line shows what failed and the hint', async () => {
    const token = makeToken();
    const ctx = terminal(['keychain', token, 'cancel']);
    ctx.gateway.token(ORG, token, {
      whoAmIError: new AuthError('Okta rejected the token (401)', { httpStatus: 401, hint: 'make a new one' }),
    });
    await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    // A token pasted a minute ago: the causes are another org's token or an incomplete copy, not 30 idle days.
    expect(ctx.err.plain()).toMatch(
      /✗ Okta rejected the token \(401\)\n {2}check that the token was created in https:\/\/acme\.okta\.com's Admin Console and copied whole \(Okta shows it once\); create one at https:\/\/acme-admin\.okta\.com\/admin\/access\/api\/tokens\n/,
    );
    expect(ctx.err.plain()).not.toMatch(/30 days/);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('the failed-test line never shows the token, even when an error message carries it (SDK TypeError)', async () => {
    const token = makeToken();
    const ctx = terminal(['keychain', token, 'cancel']);
    ctx.gateway.token(ORG, token, { whoAmIError: new TypeError(`Invalid character in header content ["authorization"]: SSWS ${token}`) });
    const { error } = await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })));
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['select', 'password', 'select']);
    expect(ctx.err.text()).not.toContain(token);
    expect(ctx.out.text()).not.toContain(token);
    expect(error?.hint ?? '').not.toContain(token);
  });
});

describe('add: the journey through mistakes', () => {
  function tty(answers: Answer[], extra: FakeContextOptions = {}): FakeContext {
    return fakeContext({ tty: true, answers, ...extra });
  }

  it('--force in a terminal asks before replacing, showing the old address and owner; No keeps it (exit 130)', async () => {
    const old = makeToken();
    const ctx = tty([false], { connections: [makeRecord('acme', ORG, { owner: { id: '00u1', login: 'ada@acme.com' } })], secrets: { acme: old } });
    const { code } = await exitOf(() => addRun(ctx, opts({ name: 'acme', force: true })));
    expect(code).toBe(130);
    expect(ctx.prompter.questions[0]).toMatchObject({ kind: 'confirm', message: 'Replace acme (https://acme.okta.com, owner ada@acme.com)?', default: false });
    expect(ctx.err.plain()).toMatch(/^not replaced$/m);
    expect(ctx.secrets.entries.get('acme')).toBe(old);
  });

  it('with no keychain, says so (exit 8, "save", the CI way) before any secret is asked or read', async () => {
    const ctx = tty(['acme.okta.com']);
    ctx.secrets.breakAll(new KeychainError('cannot read the token in the OS keychain: no Secret Service', { hint: 'in CI, set OKTA_CONNECT_<NAME>_TOKEN' }));
    const { code, error } = await exitOf(() => addRun(ctx, opts()));
    expect(code).toBe(8);
    expect(error?.message).toBe('the OS keychain cannot save a token here: no Secret Service');
    expect(error?.hint).toMatch(/OKTA_CONNECT_<NAME>_TOKEN/);
    expect(ctx.prompter.questions).toEqual([]);
  });

  it('the name prompt never defaults to a name that exists', async () => {
    const token = makeToken();
    const ctx = tty(['acme.okta.com', 'keychain', token, ''], { connections: [makeRecord('acme', ORG), makeRecord('acme-2', ORG)], secrets: { acme: makeToken(), 'acme-2': makeToken() } });
    ctx.gateway.token(ORG, token);
    expect((await exitOf(() => addRun(ctx, opts()))).code).toBe(0);
    expect(ctx.prompter.questions[3]).toMatchObject({ kind: 'input', default: 'acme-3' });
    expect(ctx.secrets.entries.get('acme-3')).toBe(token);
  });

  it('warns about a Super Administrator token, as test does', async () => {
    const { ctx } = piped();
    expect((await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })))).code).toBe(0);
    expect(ctx.err.plain()).toMatch(/! prod: this is a Super Administrator token/);
  });

  it('a custom domain gets the token page of the org\'s Okta domain, as /.well-known/okta-organization names it', async () => {
    const token = makeToken();
    const ctx = tty(['login.acme.example', 'keychain', token, 'prod']);
    ctx.gateway.org('https://login.acme.example', { oktaUrl: 'https://acme.okta.com' });
    ctx.gateway.token('https://login.acme.example', token);
    expect((await exitOf(() => addRun(ctx, opts()))).code).toBe(0);
    expect(ctx.prompter.questions[1]?.stderrBefore).toContain('Create a token at https://acme-admin.okta.com/admin/access/api/tokens');
    expect(ctx.prompter.questions[1]?.stderrBefore).not.toContain('login-admin');
  });

  it('--token-stdin with stdin a terminal asks the token, masked, instead of waiting silently', async () => {
    const token = makeToken();
    const ctx = tty([token]);
    ctx.gateway.token(ORG, token);
    expect((await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG, tokenStdin: true })))).code).toBe(0);
    expect(ctx.prompter.questions[0]).toMatchObject({ kind: 'password', message: 'API token (input masked):' });
    expect(ctx.stdin.wasRead).toBe(false);
  });

  it('a pasted "SSWS <token>" is taken with a notice', async () => {
    const token = makeToken();
    const ctx = tty(['keychain', `SSWS ${token}`]);
    ctx.gateway.token(ORG, token);
    expect((await exitOf(() => addRun(ctx, opts({ name: 'prod', orgUrl: ORG })))).code).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.err.plain()).toMatch(/removed "SSWS "/);
  });
});

describe('add --oauth, non-interactive', () => {
  const CLIENT = '0oa1abcdefGHIJKLmn0x7';
  const rsaJwk = (): string => JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }));

  it('the key on stdin: validated, tested with the credential, saved as one JSON secret; the metadata holds kind, clientId, scopes, keyId', async () => {
    const key = rsaJwk();
    const ctx = fakeContext({ stdin: `${key}\n` });
    const credential = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read', privateKey: key }).value;
    ctx.gateway.token(ORG, secretOf(credential));
    const { code } = await exitOf(() => addRun(ctx, opts({ oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', tokenStdin: true })));
    expect(code).toBe(0);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(credential));
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: credential.keyId });
    // An app has no owner whose roles could be read.
    expect(ctx.gateway.calls.map((call) => call.op)).toEqual(['checkOrg', 'whoAmI']);
    expect(ctx.out.plain()).toMatch(new RegExp(`^✓ saved svc  ${ORG}  as client ${CLIENT}  scopes okta\\.users\\.read`));
    expect(visibleText(ctx)).not.toContain(credential.privateKey.d);
  });

  it('--generate-key: the public JWK (no private member) and the app link on stdout; saved untested; --json adds publicJwk', async () => {
    const ctx = fakeContext();
    const { code } = await exitOf(() => addRun(ctx, opts({ oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read okta.groups.read', generateKey: true, keyType: 'ec', json: true })));
    expect(code).toBe(0);
    const stored = JSON.parse(ctx.secrets.entries.get('svc') ?? '{}') as { privateKey: { d: string; kid: string; kty: string } };
    expect(stored.privateKey.kty).toBe('EC');
    // stdout is the one JSON document; the instructions and the one-line JWK went to stderr.
    const printed = JSON.parse(ctx.out.text()) as Record<string, unknown>;
    expect(ctx.err.plain()).toMatch(/Public key \(kid .*, ES256\): add it to the app under General > Public keys > Add key:\n\{"/);
    expect(printed).toMatchObject({ kind: 'oauth', clientId: CLIENT, keyId: stored.privateKey.kid, lastTest: null, idleExpiresAt: null, publicJwk: { kty: 'EC', crv: 'P-256', kid: stored.privateKey.kid, alg: 'ES256' } });
    expect(printed.addKeyUrl).toBe(`https://acme-admin.okta.com/admin/app/oidc_client/instance/${CLIENT}#tab-general`);
    expect(ctx.gateway.calls).toEqual([]);
    expect(visibleText(ctx)).not.toContain(stored.privateKey.d);
    expect(ctx.err.plain()).toMatch(/once the public key is added to the app, run: okta-connect test svc/);
  });

  it('names every missing flag at once, and reads nothing (exit 2)', async () => {
    const ctx = fakeContext({ stdin: NEVER_ENDING });
    const { code, error } = await exitOf(() => addRun(ctx, opts({ oauth: true, orgUrl: ORG })));
    expect(code).toBe(2);
    expect(error?.message).toBe('missing --client-id <id>, --scopes <list>, --private-key-file <file>, --token-stdin (the key on stdin), --generate-key or --secret-command -- <command…>, --name <name>: no terminal to ask in');
  });

  it('a keychain that cannot save is exit 8 before the key is read or made', async () => {
    const ctx = fakeContext({ stdin: NEVER_ENDING });
    ctx.secrets.failures.get = new KeychainError('cannot read the token in the OS keychain: no Secret Service', { hint: 'install one' });
    const { code } = await exitOf(() => addRun(ctx, opts({ oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', tokenStdin: true })));
    expect(code).toBe(8);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it('a failed test saves nothing and keeps its exit code', async () => {
    const key = rsaJwk();
    const ctx = fakeContext({ stdin: key });
    ctx.gateway.org(ORG);
    const { code, error } = await exitOf(() => addRun(ctx, opts({ oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', tokenStdin: true })));
    expect(code).toBe(4);
    expect(error?.message).toMatch(/nothing was saved$/);
    expect([...ctx.secrets.entries]).toEqual([]);
  });

  it('OAuth flags without --oauth, and --key-type without --generate-key, are usage errors', async () => {
    for (const [raw, message] of [
      [{ name: 'p', orgUrl: ORG, clientId: CLIENT, tokenStdin: true }, /--client-id is for OAuth connections: add --oauth/],
      [{ oauth: true, name: 'p', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', keyType: 'ec', tokenStdin: true }, /--key-type is for --generate-key/],
      [{ oauth: true, name: 'p', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', privateKeyFile: '{"kty":"RSA","d":"x"}' }, /leaks into ps/],
    ] as const) {
      const ctx = fakeContext();
      const { code, error } = await exitOf(() => addRun(ctx, opts(raw)));
      expect(code).toBe(2);
      expect(error?.message).toMatch(message);
    }
  });
});

describe('add --oauth in a terminal', () => {
  const CLIENT = '0oa1abcdefGHIJKLmn0x7';

  it('asks the address (checked), the client id and the scopes (asked again when invalid), the key source and the name; a generated key may be left untested', async () => {
    const ctx = fakeContext({ tty: true, answers: [ORG, 'not a client id', CLIENT, 'users.read', 'okta.users.read okta.groups.read', 'ec', 'svc', false] });
    ctx.gateway.org(ORG);
    const { code } = await exitOf(() => addRun(ctx, opts({ oauth: true })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['input', 'input', 'input', 'select', 'input', 'confirm']);
    expect(ctx.prompter.rejections.map((rejection) => rejection.reason)).toEqual([
      'the client id has characters an Okta client id never has',
      '"users.read" is not an Okta API scope (okta.<resource>.read or .manage)',
    ]);
    expect(ctx.gateway.calls.map((call) => call.op)).toEqual(['checkOrg']);
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read', 'okta.groups.read'], lastTest: null });
    expect(ctx.out.plain()).toMatch(/Public key \(kid \S+, ES256\): add it to the app under General > Public keys > Add key:\n\{"kty":"EC"/);
    expect(ctx.out.plain()).toMatch(/✓ saved svc {2}https:\/\/acme\.okta\.com {2}as client 0oa1abcdefGHIJKLmn0x7 {2}\(not tested\)\n$/);
    const stored = JSON.parse(ctx.secrets.entries.get('svc') ?? '{}') as { privateKey: { d: string } };
    expect(visibleText(ctx)).not.toContain(stored.privateKey.d);
  });

  it("a generated key's link for a custom domain is the app's page on the org's Okta admin domain (from the address check)", async () => {
    const custom = 'https://login.acme.example';
    const ctx = fakeContext({ tty: true, answers: ['login.acme.example', CLIENT, 'okta.users.read', 'rsa', 'svc', false] });
    ctx.gateway.org(custom, { oktaUrl: 'https://acme.okta.com' });
    expect((await exitOf(() => addRun(ctx, opts({ oauth: true })))).code).toBe(0);
    expect(ctx.out.plain()).toContain(`  https://acme-admin.okta.com/admin/app/oidc_client/instance/${CLIENT}#tab-general\n`);
    expect(ctx.out.plain()).not.toContain('login-admin');
  });

  it('a key from a file that fails its test offers test again / each part again / save anyway / cancel; cancel saves nothing (exit 130)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okta-connect-unit-key-'));
    try {
      const file = join(dir, 'key.pem');
      writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
      // A PEM carries no kid: the one the app lists is asked for first (Enter keeps the thumbprint).
      const ctx = fakeContext({ tty: true, answers: ['', 'cancel'] });
      ctx.gateway.org(ORG);
      const { code } = await exitOf(() => addRun(ctx, opts({ oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read', privateKeyFile: file })));
      expect(code).toBe(130);
      expect(ctx.prompter.questions.map((question) => question.message)).toEqual([
        "Key ID (KID) of this key, as the app's Public keys list shows it (Enter: its JWK thumbprint):",
        'The test failed. What now?',
      ]);
      expect(ctx.prompter.questions.at(-1)?.choices).toEqual(['again', 'kid', 'client', 'scopes', 'key', 'save', 'cancel']);
      expect(ctx.metadata.all()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
