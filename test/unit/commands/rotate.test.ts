import { describe, expect, it } from 'vitest';
import { rotateOptionsSchema, rotateRun } from '../../../src/commands/rotate.js';
import { fingerprintOf } from '../../../src/domain/credential.js';
import { KeychainError, NetworkError } from '../../../src/domain/errors.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, makeRecord, makeToken, visibleText, type FakeContextOptions } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const OTHER_ORG = 'https://globex.okta.com';

const opts = (raw: Record<string, string | boolean | undefined> = {}) => parseOptions(rotateOptionsSchema, { name: 'c2', ...raw });

/** c2 saved at ORG with an old token; a new, working token on stdin. */
function setup(extra: FakeContextOptions = {}): { ctx: ReturnType<typeof fakeContext>; oldToken: string; newToken: string } {
  const oldToken = makeToken();
  const newToken = makeToken();
  const ctx = fakeContext({
    connections: [makeRecord('c2', ORG, { secretFingerprint: fingerprintOf({ kind: 'api-token', token: oldToken }) }), makeRecord('acme', ORG)],
    secrets: { c2: oldToken, acme: makeToken() },
    stdin: `${newToken}\n`,
    ...extra,
  });
  ctx.gateway.token(ORG, newToken);
  ctx.gateway.token(ORG, oldToken);
  return { ctx, oldToken, newToken };
}

describe('rotate', () => {
  it('tests the new token at the saved address, then swaps it and its fingerprint; the other connections stay', async () => {
    const { ctx, newToken } = setup();
    const acmeBefore = ctx.secrets.entries.get('acme');
    const { code } = await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true })));
    expect(code).toBe(0);
    expect(ctx.secrets.entries.get('c2')).toBe(newToken);
    expect(ctx.metadata.get('c2')).toMatchObject({ orgUrl: ORG, secretFingerprint: fingerprintOf({ kind: 'api-token', token: newToken }), lastTest: { ok: true } });
    expect(ctx.secrets.entries.get('acme')).toBe(acmeBefore);
    expect(ctx.out.plain()).toMatch(/^✓ rotated c2 {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com/);
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(visibleText(ctx)).not.toContain(newToken);
  });

  it('a new token that fails its test changes nothing and exits with the test code', async () => {
    const { ctx, oldToken } = setup({ stdin: `${makeToken()}\n` });
    const metadataBefore = JSON.stringify(ctx.metadata.all());
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true })));
    expect(code).toBe(4);
    expect(error?.message).toMatch(/^c2: the new token failed its test, so nothing was changed/);
    expect(ctx.secrets.entries.get('c2')).toBe(oldToken);
    expect(JSON.stringify(ctx.metadata.all())).toBe(metadataBefore);
  });

  it('--revoke-old revokes the old token at Okta once the new one is saved', async () => {
    const { ctx, oldToken, newToken } = setup();
    expect((await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true, revokeOld: true })))).code).toBe(0);
    const revoked = ctx.gateway.calls.filter((call) => call.op === 'revokeCurrentToken');
    expect(revoked.map((call) => call.token)).toEqual([oldToken]);
    expect(ctx.secrets.entries.get('c2')).toBe(newToken);
  });

  it('a failed revocation keeps the new token saved and says the old one still works', async () => {
    const { ctx, oldToken, newToken } = setup();
    ctx.gateway.token(ORG, oldToken, { revokeError: new NetworkError('no answer from acme.okta.com within 15 s') });
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true, revokeOld: true })));
    expect(code).toBe(6);
    expect(error?.message).toMatch(/c2 now uses the new token, but the old one could not be revoked/);
    expect(ctx.secrets.entries.get('c2')).toBe(newToken);
  });

  it('a keychain that refuses the new secret leaves the old one and the metadata as they were (exit 8)', async () => {
    const { ctx, oldToken } = setup();
    ctx.secrets.failures.set = new KeychainError('cannot save the token in the OS keychain: locked', { hint: 'unlock it' });
    const metadataBefore = JSON.stringify(ctx.metadata.all());
    expect((await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true })))).code).toBe(8);
    expect(ctx.secrets.entries.get('c2')).toBe(oldToken);
    expect(JSON.stringify(ctx.metadata.all())).toBe(metadataBefore);
  });

  it('metadata that cannot be written puts the old secret back (the keychain was written first)', async () => {
    const { ctx, oldToken } = setup();
    ctx.metadata.failUpdate = new Error('disk full');
    await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true }))).catch(() => undefined);
    expect(ctx.events).toContain('secrets.set c2');
    expect(ctx.secrets.entries.get('c2')).toBe(oldToken);
  });

  it('a connection moved to another address while the new token was tested is not changed (exit 2)', async () => {
    const { ctx, oldToken, newToken } = setup();
    ctx.gateway.token(ORG, newToken, { duringWhoAmI: () => { ctx.metadata.put(makeRecord('c2', OTHER_ORG)); } });
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/changed by another okta-connect while it was rotated/);
    expect(ctx.secrets.entries.get('c2')).toBe(oldToken);
  });

  it('an unknown name is exit 3; no terminal and no --token-stdin is exit 2 before anything is read', async () => {
    const { ctx } = setup();
    expect((await exitOf(() => rotateRun(ctx, opts({ name: 'nope', tokenStdin: true })))).code).toBe(3);
    const { code, error } = await exitOf(() => rotateRun(ctx, opts()));
    expect(code).toBe(2);
    expect(error?.hint).toMatch(/okta-connect rotate c2 --token-stdin/);
    expect(ctx.stdin.wasRead).toBe(false);
  });

  it('in a terminal, asks the new token masked, showing the token page of the saved org', async () => {
    const newToken = makeToken();
    const ctx = fakeContext({ tty: true, connections: [makeRecord('c2', ORG)], secrets: { c2: makeToken() }, answers: [newToken] });
    ctx.gateway.token(ORG, newToken);
    expect((await exitOf(() => rotateRun(ctx, opts()))).code).toBe(0);
    expect(ctx.prompter.questions[0]).toMatchObject({ kind: 'password', message: 'New API token (input masked):' });
    expect(ctx.prompter.questions[0]?.stderrBefore).toContain('https://acme-admin.okta.com/admin/access/api/tokens');
    expect(ctx.secrets.entries.get('c2')).toBe(newToken);
  });
});
