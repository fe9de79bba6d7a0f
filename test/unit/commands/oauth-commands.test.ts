import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { doctorOptionsSchema, doctorRun } from '../../../src/commands/doctor.js';
import { removeOptionsSchema, removeRun } from '../../../src/commands/remove.js';
import { tokenCommand, tokenOptionsSchema, tokenRun } from '../../../src/commands/token.js';
import { fingerprintOf, oauthCredential, secretOf, type OAuthCredential } from '../../../src/domain/credential.js';
import { BadResponseError } from '../../../src/domain/errors.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, makeRecord, visibleText, type FakeContext } from '../../fakes/context.js';
import type { FakeTokenBehaviour } from '../../fakes/okta-gateway.js';

const ORG = 'https://acme.okta.com';
const CLIENT = '0oa1abcdefGHIJKLmn0x7';

/** `svc`, an OAuth connection saved at ORG (metadata and keychain), known to the fake Okta. */
function withSvc(behaviour: FakeTokenBehaviour = {}): { ctx: FakeContext; credential: OAuthCredential } {
  const key = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  const credential = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read', privateKey: key, keyId: 'kid-1' }).value;
  const ctx = fakeContext({
    connections: [makeRecord('svc', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', secretFingerprint: fingerprintOf(credential) })],
    secrets: { svc: secretOf(credential) },
  });
  ctx.gateway.token(ORG, secretOf(credential), behaviour);
  return { ctx, credential };
}

describe('token of an OAuth connection', () => {
  it('prints a fresh access token, after the org check, and never the key', async () => {
    const { ctx, credential } = withSvc();
    const { code } = await exitOf(() => tokenRun(ctx, parseOptions(tokenOptionsSchema, { name: 'svc' })));
    expect(code).toBe(0);
    expect(ctx.out.text()).toBe('eyJfake.access.token\n');
    expect(ctx.gateway.calls.map((call) => call.op)).toEqual(['checkOrg', 'accessToken']);
    expect(visibleText(ctx)).not.toContain(credential.privateKey.d);
  });

  it('a DPoP-bound app: exit 2, nothing on stdout, saying why and suggesting exec', async () => {
    const { ctx } = withSvc({ grant: { tokenType: 'DPoP', isDPoP: true } });
    const { code, error } = await exitOf(() => tokenRun(ctx, parseOptions(tokenOptionsSchema, { name: 'svc' })));
    expect(code).toBe(2);
    expect(ctx.out.text()).toBe('');
    expect(error?.message).toMatch(/requires DPoP: .*bound to the private key.*a bare token is not usable/);
    expect(error?.hint).toMatch(/okta-connect exec svc -- <command>/);
  });

  it('--timeout is accepted (as test takes it) and is the whole time of the org check and the token request', async () => {
    const { ctx } = withSvc();
    const parsed: unknown[] = [];
    await tokenCommand((options) => {
      parsed.push(options);
      return Promise.resolve();
    }).parseAsync(['svc', '--timeout', '3'], { from: 'user' });
    expect(parsed).toEqual([expect.objectContaining({ name: 'svc', timeout: 3000 })]);
    const asked: number[] = [];
    const gateway = await ctx.okta();
    const checkOrg = gateway.checkOrg.bind(gateway);
    const accessToken = gateway.accessToken.bind(gateway);
    gateway.checkOrg = (orgUrl, timeoutMs) => (asked.push(timeoutMs), checkOrg(orgUrl, timeoutMs));
    gateway.accessToken = (request) => (asked.push(request.timeoutMs), accessToken(request));
    const { code } = await exitOf(() => tokenRun(ctx, parseOptions(tokenOptionsSchema, { name: 'svc', timeout: '3' })));
    expect(code).toBe(0);
    expect(asked[0]).toBe(3000);
    expect(asked[1]).toBeGreaterThan(2000);
    expect(asked[1]).toBeLessThanOrEqual(3000);
    expect(parseOptions(tokenOptionsSchema, { name: 'svc' }).timeout).toBe(15_000);
    expect(() => parseOptions(tokenOptionsSchema, { name: 'svc', timeout: '0' })).toThrow(/--timeout/);
  });

  it('an org that does not answer as Okta gets no client assertion', async () => {
    const { ctx } = withSvc();
    ctx.gateway.org(ORG, { checkOrgError: new BadResponseError('not an Okta org', { hint: 'check the address' }) });
    const { code } = await exitOf(() => tokenRun(ctx, parseOptions(tokenOptionsSchema, { name: 'svc' })));
    expect(code).toBe(7);
    expect(ctx.gateway.calls.map((call) => call.op)).toEqual(['checkOrg']);
  });
});

describe('remove --revoke of an OAuth connection', () => {
  it('revokes nothing at Okta, deletes the local key, and says how the key is revoked', async () => {
    const { ctx } = withSvc();
    const { code } = await exitOf(() => removeRun(ctx, parseOptions(removeOptionsSchema, { name: 'svc', revoke: true, yes: true })));
    expect(code).toBe(0);
    expect(ctx.gateway.calls).toEqual([]);
    expect(ctx.secrets.entries.has('svc')).toBe(false);
    expect(ctx.metadata.get('svc')).toBeUndefined();
    expect(ctx.out.plain()).toBe('✓ removed svc and its private key (nothing was revoked at Okta)\n');
    expect(ctx.err.plain()).toContain(`delete the public key with kid kid-1 from the app's General > Public keys (https://acme-admin.okta.com/admin/app/oidc_client/instance/${CLIENT}#tab-general)`);
  });

  it('in a terminal the question says nothing is revoked at Okta', async () => {
    const { ctx } = withSvc();
    const tty = fakeContext({ tty: true, answers: [false], context: { connections: ctx.connections } });
    const { code } = await exitOf(() => removeRun(tty, parseOptions(removeOptionsSchema, { name: 'svc', revoke: true })));
    expect(code).toBe(130);
    expect(tty.prompter.questions.map((question) => question.message).join('\n')).toMatch(/Nothing is revoked at Okta/);
    expect(ctx.secrets.entries.has('svc')).toBe(true);
  });
});

describe('doctor and OAuth keys', () => {
  it('each stored key parses and matches its metadata, and is never printed', async () => {
    const { ctx, credential } = withSvc();
    const { code } = await exitOf(doctorRun(ctx, parseOptions(doctorOptionsSchema, {})));
    expect(code).toBe(0);
    expect(ctx.out.plain()).toMatch(new RegExp(`^✓ oauth key svc: the private key parses \\(EC P-256, kid kid-1\\) and matches client ${CLIENT}$`, 'm'));
    expect(ctx.out.plain()).toMatch(/^✓ connection svc: https:\/\/acme\.okta\.com, private key in the keychain; /m);
    expect(visibleText(ctx)).not.toContain(credential.privateKey.d);
  });

  it('a stored key that does not parse fails, saying so without the key', async () => {
    const { ctx, credential } = withSvc();
    const broken = JSON.stringify({ ...JSON.parse(secretOf(credential)), privateKey: { kty: 'EC', crv: 'P-256', d: 'AAAA' } });
    ctx.secrets.entries.set('svc', broken);
    const { code } = await exitOf(doctorRun(ctx, parseOptions(doctorOptionsSchema, {})));
    expect(code).toBe(1);
    expect(ctx.out.plain()).toMatch(/^✗ oauth key svc: the secret saved for "svc" in the OS keychain is not valid: .*\n {4}fix: okta-connect add --oauth --name svc --force \(with --client-id, --scopes and the key\)$/m);
    expect(visibleText(ctx)).not.toContain(credential.privateKey.d);
  });

  it('a key for another kid than the metadata says fails', async () => {
    const { ctx } = withSvc();
    const other = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read', privateKey: JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), keyId: 'kid-2' }).value;
    ctx.secrets.entries.set('svc', secretOf(other));
    const { code } = await exitOf(doctorRun(ctx, parseOptions(doctorOptionsSchema, {})));
    expect(code).toBe(1);
    expect(ctx.out.plain()).toMatch(/^✗ oauth key svc: the key in the keychain is not the one saved for this connection \(another client, kid or key\): it is not used$/m);
  });
});
