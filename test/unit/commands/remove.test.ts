import { fingerprintOf } from '../../../src/domain/credential.js';
import { parseOptions } from '../../../src/domain/options.js';
import { describe, expect, it } from 'vitest';
import { removeOptionsSchema, removeRun, type RemoveOptions } from '../../../src/commands/remove.js';
import { BadResponseError, NetworkError, PermissionError, type CliError } from '../../../src/domain/errors.js';
import {
  auth401,
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

/** Raw options, as commander hands them over, through the command's schema. */
function opts(partial: RawOptions = {}): RemoveOptions {
  return parseOptions(removeOptionsSchema, partial);
}

/** `prod` saved at ORG (metadata and keychain) with a working token, and `keep` next to it. */
function withProd(extra: FakeContextOptions = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({
    connections: [makeRecord('prod', ORG), makeRecord('keep', 'https://keep.okta.com')],
    secrets: { prod: token, keep: makeToken() },
    ...extra,
  });
  ctx.gateway.token(ORG, token);
  return { ctx, token };
}

function expectKept(ctx: FakeContext, token: string): void {
  expect(ctx.secrets.entries.get('prod')).toBe(token);
  expect(ctx.metadata.get('prod')).toBeDefined();
}

function expectRemoved(ctx: FakeContext): void {
  expect(ctx.secrets.entries.has('prod')).toBe(false);
  expect(ctx.metadata.get('prod')).toBeUndefined();
  // Nothing else goes with it.
  expect(ctx.secrets.entries.has('keep')).toBe(true);
  expect(ctx.metadata.get('keep')).toBeDefined();
}

describe('remove', () => {
  it('with --yes deletes the metadata and the secret', async () => {
    const { ctx, token } = withProd();
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', yes: true })));
    expect(code).toBe(0);
    expectRemoved(ctx);
    expect(ctx.out.plain()).toMatch(/removed prod/);
    expect(ctx.prompter.questions).toEqual([]);
    expect(ctx.oktaLoads).toBe(0);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('without a terminal, --yes is required (exit 2) and nothing is removed', async () => {
    const { ctx, token } = withProd();
    const { code, error } = await exitOf(removeRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/--yes/);
    expect(ctx.prompter.questions).toEqual([]);
    expectKept(ctx, token);
  });

  it('without a terminal, --revoke without --yes: the hint keeps --revoke (without it the token would stay valid at Okta), nothing is read', async () => {
    const { ctx, token } = withProd();
    const { code, error } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true })));
    expect(code).toBe(2);
    expect(error?.hint).toBe('okta-connect remove --name prod --revoke --yes');
    expect(ctx.events.filter((event) => event.startsWith('secrets.get'))).toEqual([]);
    expect(ctx.gateway.calls).toEqual([]);
    expectKept(ctx, token);
  });

  it('without --name is exit 2', async () => {
    const { ctx } = withProd({ tty: true });
    expect((await exitOf(removeRun(ctx, opts({ yes: true })))).code).toBe(2);
  });

  it('in a terminal asks for confirmation, and removes when confirmed', async () => {
    const { ctx } = withProd({ tty: true, answers: [true] });
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions).toHaveLength(1);
    expect(ctx.prompter.questions[0]).toMatchObject({ kind: 'confirm', default: false });
    expect(ctx.prompter.questions[0]?.message).toMatch(/prod/);
    expectRemoved(ctx);
  });

  it.each<{ case: string; answer: Answer }>([
    { case: 'declined', answer: false },
    { case: 'the default (no)', answer: '' },
  ])('in a terminal, $case removes nothing', async ({ answer }) => {
    const { ctx, token } = withProd({ tty: true, answers: [answer] });
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod' })));
    expect(code).not.toBe(0);
    expectKept(ctx, token);
    expect(ctx.events.filter((event) => event === 'metadata.update' || event.startsWith('secrets.delete'))).toEqual([]);
  });

  it('a name that does not exist is exit 3', async () => {
    const { ctx } = withProd();
    const { code, error } = await exitOf(removeRun(ctx, opts({ name: 'staging', yes: true })));
    expect(code).toBe(3);
    expect(error?.message).toMatch(/staging/);
    expect(ctx.metadata.all()).toHaveLength(2);
    expect(ctx.secrets.entries.size).toBe(2);
  });

  it.each([
    { case: 'metadata only (token missing)', secrets: {} },
    { case: 'token only (metadata missing)', connections: [] },
  ])('removes a half-saved connection: $case', async (half) => {
    const ctx = fakeContext({
      connections: half.connections ?? [makeRecord('prod', ORG)],
      secrets: half.secrets ?? { prod: makeToken() },
    });
    expect((await exitOf(removeRun(ctx, opts({ name: 'prod', yes: true })))).code).toBe(0);
    expect(ctx.metadata.get('prod')).toBeUndefined();
    expect(ctx.secrets.entries.has('prod')).toBe(false);
  });
});

describe('remove --revoke', () => {
  it('revokes the token at Okta before deleting anything', async () => {
    const { ctx, token } = withProd();
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(code).toBe(0);
    expectRemoved(ctx);
    const revoke = ctx.gateway.calls.find((call) => call.op === 'revokeCurrentToken');
    expect(revoke).toMatchObject({ orgUrl: ORG, token, ok: true });
    const order = ctx.events.filter((event) => ['okta.revokeCurrentToken', 'metadata.update', 'secrets.delete prod'].includes(event));
    expect(order[0]).toBe('okta.revokeCurrentToken');
    expect(order).toHaveLength(3);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('asks for confirmation in a terminal, naming the revocation', async () => {
    const { ctx } = withProd({ tty: true, answers: [true] });
    expect((await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true })))).code).toBe(0);
    expect(ctx.prompter.questions[0]?.message).toMatch(/[Rr]evoke/);
    // The question comes before any call to Okta.
    expect(ctx.events.indexOf('prompt.confirm')).toBeGreaterThan(-1);
    expect(ctx.events.indexOf('prompt.confirm')).toBeLessThan(ctx.events.findIndex((event) => event.startsWith('okta.')));
    expectRemoved(ctx);
  });

  it('declined in a terminal: Okta is not called', async () => {
    const { ctx, token } = withProd({ tty: true, answers: [false] });
    await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true })));
    expect(ctx.gateway.calls).toEqual([]);
    expectKept(ctx, token);
  });

  const failures: { case: string; error: () => CliError; at: 'revoke' | 'checkOrg'; exit: number }[] = [
    { case: '403', error: () => new PermissionError('the token is not allowed to call DELETE /api/v1/api-tokens/current (403)', { httpStatus: 403 }), at: 'revoke', exit: 5 },
    { case: 'network', error: () => new NetworkError('acme.okta.com refused the connection'), at: 'revoke', exit: 6 },
    { case: '500', error: () => new BadResponseError('Okta answered HTTP 500', { httpStatus: 500 }), at: 'revoke', exit: 7 },
    { case: 'not an Okta org', error: () => new BadResponseError(`${ORG} is not an Okta org: it redirects`, { httpStatus: 302 }), at: 'checkOrg', exit: 7 },
  ];
  it.each(failures)('revoke failing with $case keeps the local entry and exits $exit', async ({ error, at, exit }) => {
    const { ctx, token } = withProd();
    if (at === 'revoke') ctx.gateway.token(ORG, token, { revokeError: error() });
    else ctx.gateway.org(ORG, { checkOrgError: error() });
    const result = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(result.code).toBe(exit);
    expect(result.error?.message).toMatch(/nothing was removed/);
    expectKept(ctx, token);
    expect(ctx.events.filter((event) => event === 'metadata.update' || event.startsWith('secrets.delete'))).toEqual([]);
    expect(visibleText(ctx, result.error)).not.toContain(token);
    if (at === 'checkOrg') expect(ctx.gateway.tokensSent()).toEqual([]);
  });

  it('a 401 (already invalid) removes the local entry', async () => {
    const { ctx } = withProd();
    ctx.gateway.token(ORG, ctx.secrets.entries.get('prod') ?? '', { revokeError: auth401() });
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(code).toBe(0);
    expectRemoved(ctx);
    expect(ctx.err.plain()).toMatch(/401/);
  });

  it('without a saved token it cannot revoke: exit 2 and nothing removed', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)] });
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(code).toBe(2);
    expect(ctx.metadata.get('prod')).toBeDefined();
    expect(ctx.gateway.calls).toEqual([]);
  });
});

describe('remove: declining and shared tokens', () => {
  it('answering No prints "not removed", no error line, and exits 130 (through the one printer)', async () => {
    const { ctx, token } = withProd({ tty: true, answers: [false] });
    const { run } = await import('../../../src/main.js');
    expect(await run(['remove', 'prod'], () => ctx, ctx.version)).toBe(130);
    expect(ctx.err.plain()).toMatch(/^not removed$/m);
    expect(ctx.err.plain()).not.toMatch(/error:/);
    expectKept(ctx, token);
  });

  it('--revoke warns when another saved connection has the same org and owner, and asks in a terminal', async () => {
    const owner = { id: '00uSAME', login: 'ada@acme.com', status: 'ACTIVE' };
    const token = makeToken();
    const ctx = fakeContext({
      tty: true,
      answers: [true, false],
      connections: [makeRecord('prod', ORG, { owner }), makeRecord('prod-copy', ORG, { owner }), makeRecord('keep', 'https://keep.okta.com', { owner })],
      secrets: { prod: token, 'prod-copy': token, keep: makeToken() },
    });
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true })));
    expect(code).toBe(130);
    expect(ctx.err.plain()).toMatch(/! prod-copy uses the same org and owner as "prod", maybe the same token: revoking it would break prod-copy too/);
    expect(ctx.prompter.questions.map((question) => question.message)).toEqual([expect.stringMatching(/Revoke the token/), 'Revoke it anyway?']);
    expect(ctx.gateway.calls.filter((call) => call.op === 'revokeCurrentToken')).toEqual([]);
    expectKept(ctx, token);
  });

  it('--revoke --yes without a terminal warns about a connection with the same token (fingerprint) and goes on', async () => {
    const token = makeToken();
    const fingerprint = fingerprintOf({ kind: 'api-token', token });
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG, { secretFingerprint: fingerprint }), makeRecord('twin', 'https://twin.okta.com', { secretFingerprint: fingerprint })],
      secrets: { prod: token, twin: token },
    });
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(ctx.err.plain()).toMatch(/! twin has the same token as "prod": revoking it breaks twin too/);
    expect(code).toBe(0);
  });

  it('--revoke never sends a keychain secret that is not the one saved for the address: exit 2, nothing removed', async () => {
    const token = makeToken();
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG, { secretFingerprint: fingerprintOf({ kind: 'api-token', token: makeToken() }) })],
      secrets: { prod: token },
    });
    ctx.gateway.token(ORG, token);
    const { code, error } = await exitOf(removeRun(ctx, opts({ name: 'prod', revoke: true, yes: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/cannot revoke "prod"/);
    expect(ctx.gateway.tokensSent()).toEqual([]);
    expectKept(ctx, token);
  });
});
