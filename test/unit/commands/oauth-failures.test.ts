import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenEndpointFailure } from '../../../src/adapters/okta-oauth.js';
import { TokenEndpointError } from '../../../src/adapters/okta-sdk.js';
import { doctorOptionsSchema, doctorRun } from '../../../src/commands/doctor.js';
import { listOptionsSchema, listRun } from '../../../src/commands/list.js';
import { testOptionsSchema, testRun } from '../../../src/commands/test.js';
import { connectionRecordSchema } from '../../../src/domain/connection.js';
import { fingerprintOf, oauthCredential, secretOf, type OAuthCredential } from '../../../src/domain/credential.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, makeRecord, type FakeContext } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const CLIENT = '0oa1abcdefGHIJKLmn0x7';

/** The token endpoint's answer as the real adapter words it (src/adapters/okta-oauth.ts), for `credential`. */
function refusal(credential: OAuthCredential, status: number, error: string, description: string): Error {
  return tokenEndpointFailure(new TokenEndpointError(status, error, description), ORG, credential, (text) => text);
}

const ANSWERS = {
  signature: [401, 'invalid_client', 'The client_assertion signature is invalid.'],
  kid: [401, 'invalid_client', 'The client_assertion JWT kid is invalid.'],
  clock: [401, 'invalid_client', 'The client_assertion token is expired.'],
  dpop: [400, 'invalid_dpop_proof', 'The DPoP proof JWT is invalid.'],
  scope: [400, 'invalid_scope', 'The following scopes are not allowed: okta.users.read'],
} as const;

/** `svc`, an OAuth connection in the keychain, whose token request Okta refuses with `answer`. */
function refused(answer: keyof typeof ANSWERS): FakeContext {
  const key = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  const credential = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read', privateKey: key, keyId: 'kid-1' }).value;
  const ctx = fakeContext({
    connections: [makeRecord('svc', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', secretFingerprint: fingerprintOf(credential) })],
    secrets: { svc: secretOf(credential) },
  });
  const [status, error, description] = ANSWERS[answer];
  ctx.gateway.token(ORG, secretOf(credential), { whoAmIError: refusal(credential, status, error, description) });
  return ctx;
}

async function testSvc(ctx: FakeContext): Promise<{ code: number; hint: string }> {
  const { code, error } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { name: 'svc' })));
  return { code, hint: error?.hint ?? '' };
}

async function listed(ctx: FakeContext): Promise<string> {
  const before = ctx.out.plain().length;
  await exitOf(() => listRun(ctx, parseOptions(listOptionsSchema, {})));
  return ctx.out.plain().slice(before).split('\n').find((line) => line.startsWith('svc')) ?? '';
}

async function doctorLine(ctx: FakeContext): Promise<string> {
  const before = ctx.out.plain().length;
  await exitOf(() => doctorRun(ctx, parseOptions(doctorOptionsSchema, {})));
  const lines = ctx.out.plain().slice(before).split('\n');
  const at = lines.findIndex((line) => line.includes('connection svc:'));
  return `${lines[at] ?? ''}\n${lines[at + 1] ?? ''}`;
}

describe('an OAuth test failure says the next step that can help', () => {
  it('a signature Okta does not verify: the key is replaced (rotate)', async () => {
    const { code, hint } = await testSvc(refused('signature'));
    expect(code).toBe(4);
    expect(hint).toMatch(/then save it with: okta-connect rotate svc$/);
  });

  it('a kid the app does not list: add the public key, then test; never rotate (that makes yet another key)', async () => {
    const { code, hint } = await testSvc(refused('kid'));
    expect(code).toBe(4);
    expect(hint).toMatch(/^add the public key \(kid kid-1\) to the app's Public keys \(https:\/\/acme-admin\.okta\.com\/.*\), then: okta-connect test svc/);
    expect(hint).toContain('under another KID');
    expect(hint).not.toMatch(/then save it with/);
  });

  it.each(['clock', 'dpop'] as const)('a %s refusal: no rotate step (a new key does not fix a clock)', async (answer) => {
    const { code, hint } = await testSvc(refused(answer));
    expect(code).toBe(4);
    expect(hint).toMatch(/clock/);
    expect(hint).not.toMatch(/rotate/);
  });
});

describe('list and doctor say what Okta refused, in OAuth words', () => {
  it.each([
    ['kid', 'kid not in app (401)', /add the public key \(kid kid-1\) to the app's Public keys .*then: okta-connect test svc/],
    ['signature', 'key refused (401)', /^ {4}fix: okta-connect rotate svc$/m],
    ['clock', 'clock off (401)', /check this machine's clock .*then: okta-connect test svc/],
    ['dpop', 'DPoP refused (400)', /check this machine's clock/],
    ['scope', 'scope not granted (400)', /grant okta\.users\.read on the app's "Okta API Scopes" tab .*#tab-okta-api-scopes/],
  ] as const)('%s: LAST TEST "%s", EXPIRES "-", and a fix that fits', async (answer, words, fix) => {
    const ctx = refused(answer);
    await testSvc(ctx);
    const line = await listed(ctx);
    expect(line).toContain(`${words} 0m ago`);
    expect(line).not.toMatch(/revoked|no permission|dead/);
    expect(line).toMatch(/ago\s+-\s+keychain$/);
    const doctor = await doctorLine(ctx);
    expect(doctor).toContain(`last test ${words} 0m ago`);
    expect(doctor).toMatch(fix);
    if (answer !== 'signature') expect(doctor).not.toMatch(/rotate/);
  });

  it('a record from before `reason` (code and status only) is not called revoked or "no permission"', async () => {
    const at = new Date().toISOString();
    const ctx = fakeContext({
      connections: [
        makeRecord('svc', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', lastTest: { at, ok: false, code: 4, latencyMs: 9, httpStatus: 401 } }),
        makeRecord('svd', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: 'kid-1', lastTest: { at, ok: false, code: 5, latencyMs: 9, httpStatus: 400 } }),
      ],
    });
    await exitOf(() => listRun(ctx, parseOptions(listOptionsSchema, {})));
    expect(ctx.out.plain()).toMatch(/^svc .*refused \(401\) \d+m ago/m);
    expect(ctx.out.plain()).toMatch(/^svd .*scope not granted \(400\) \d+m ago/m);
    expect(ctx.out.plain()).not.toMatch(/revoked|no permission|dead/);
  });

  it('the stored reason is optional: v2 records read without it, and with one', () => {
    const base = { name: 'svc', kind: 'oauth', orgUrl: ORG, createdAt: '2026-01-01T00:00:00.000Z' };
    const lastTest = { at: '2026-01-01T00:00:00.000Z', ok: false, code: 4, latencyMs: 9, httpStatus: 401 };
    expect(connectionRecordSchema.parse({ ...base, lastTest }).lastTest).toEqual(lastTest);
    expect(connectionRecordSchema.parse({ ...base, lastTest: { ...lastTest, reason: 'kid' } }).lastTest?.reason).toBe('kid');
  });
});
