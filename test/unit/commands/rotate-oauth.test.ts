import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rotateOptionsSchema, rotateRun } from '../../../src/commands/rotate.js';
import { credentialFromSecret, fingerprintOf, oauthCredential, secretOf, type OAuthCredential } from '../../../src/domain/credential.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, makeRecord, makeToken, visibleText, type FakeContext, type FakeContextOptions } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const CLIENT = '0oa1abcdefGHIJKLmn0x7';
const APP_LINK = `/admin/app/oidc_client/instance/${CLIENT}#tab-general`;
// Key files are made at test time, outside the repository, and removed after.
const keyDir = mkdtempSync(join(tmpdir(), 'okta-connect-rotate-keys-'));
afterAll(() => {
  rmSync(keyDir, { recursive: true, force: true });
});

const opts = (raw: Record<string, string | boolean | undefined> = {}) => parseOptions(rotateOptionsSchema, { name: 'svc', ...raw });

function newPem(keyType: 'rsa' | 'ec' = 'ec'): string {
  const { privateKey } = keyType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** `svc`, an OAuth connection saved at ORG with key kid-1, known to the fake Okta; and `c2`, a token connection. */
function withSvc(extra: FakeContextOptions = {}): { ctx: FakeContext; old: OAuthCredential; made: () => OAuthCredential | undefined } {
  const key = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  const old = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read okta.groups.read', privateKey: key, keyId: 'kid-1' }).value;
  const token = makeToken();
  const ctx = fakeContext({
    connections: [
      makeRecord('svc', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read', 'okta.groups.read'], keyId: 'kid-1', secretFingerprint: fingerprintOf(old) }),
      makeRecord('c2', ORG, { secretFingerprint: fingerprintOf({ kind: 'api-token', token }) }),
    ],
    secrets: { svc: secretOf(old), c2: token },
    ...extra,
  });
  ctx.gateway.token(ORG, secretOf(old));
  // The new key as the command made it (intake sees every secret before it is used).
  let made: OAuthCredential | undefined;
  const store = ctx.connections;
  ctx.connections = {
    ...store,
    intake: (kind, raw) => {
      const normalised = store.intake(kind, raw);
      if (normalised.value.kind === 'oauth') made = normalised.value;
      return normalised;
    },
  };
  return { ctx, old, made: () => made };
}

/** The public half is "added to the app" when the user is asked to test: the fake Okta then knows the new key. */
function addKeyWhenAsked(ctx: FakeContext, made: () => OAuthCredential | undefined, on: 'confirm' | 'select' = 'confirm'): void {
  const original = ctx.prompter[on].bind(ctx.prompter) as (...args: unknown[]) => Promise<unknown>;
  (ctx.prompter as unknown as Record<string, unknown>)[on] = async (...args: unknown[]) => {
    const credential = made();
    if (credential) ctx.gateway.token(ORG, secretOf(credential));
    return original(...args);
  };
}

function leaks(ctx: FakeContext, credential: OAuthCredential | undefined, pem?: string): string[] {
  const text = visibleText(ctx);
  const parts = [
    ...(credential ? (['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((member) => (credential.privateKey as unknown as Record<string, string | undefined>)[member]) : []),
    ...(pem ?? '').split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----')),
  ].filter((part): part is string => typeof part === 'string');
  return parts.filter((part) => text.includes(part));
}

const publicJwkLine = (ctx: FakeContext): Record<string, string> => JSON.parse(ctx.out.plain().split('\n').find((line) => line.startsWith('{')) ?? '{}') as Record<string, string>;

describe('rotate of an OAuth connection', () => {
  it('--generate-key in a terminal: prints the public JWK and the link, asks once it is added, tests, then swaps key and kid', async () => {
    const { ctx, made } = withSvc({ tty: true, answers: [true] });
    addKeyWhenAsked(ctx, made);
    const { code } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true, keyType: 'rsa' })));
    expect(code).toBe(0);
    const jwk = publicJwkLine(ctx);
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwk.d).toBeUndefined();
    expect(ctx.out.plain()).toContain(`Public key (kid ${jwk.kid ?? ''}, RS256): add it to the app under General > Public keys > Add key:`);
    expect(ctx.out.plain()).toContain(APP_LINK);
    // The JWK is on screen before the question.
    expect(ctx.prompter.questions).toEqual([expect.objectContaining({ kind: 'confirm', message: 'Test the new key now? (add the public key to the app first)', default: true })]);
    const credential = made();
    expect(credential?.keyId).toBe(jwk.kid);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(credential as OAuthCredential));
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read', 'okta.groups.read'], keyId: jwk.kid, lastTest: { ok: true } });
    // Tested with the saved client id and scopes, at the saved address, after the org check.
    const tested = credentialFromSecret('oauth', ctx.gateway.calls.find((call) => call.op === 'whoAmI')?.token ?? '').value as OAuthCredential;
    expect(tested).toMatchObject({ clientId: CLIENT, scopes: ['okta.users.read', 'okta.groups.read'] });
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(ctx.out.plain()).toMatch(new RegExp(`✓ rotated svc {2}https://acme\\.okta\\.com {2}as client ${CLIENT} {2}kid ${jwk.kid ?? ''}\\n`));
    expect(ctx.err.plain()).toContain('the old key (kid kid-1) still works at Okta until it is deleted');
    expect(leaks(ctx, credential)).toEqual([]);
  });

  it('a key file without a terminal: printed, tested (it may be in the app already), swapped; --key-id names it', async () => {
    const { ctx, made } = withSvc();
    const pem = newPem('rsa');
    const file = join(keyDir, 'new.pem');
    writeFileSync(file, pem, { mode: 0o600 });
    const registered = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read okta.groups.read', privateKey: pem, keyId: 'kid-2' }).value;
    ctx.gateway.token(ORG, secretOf(registered));
    const { code } = await exitOf(() => rotateRun(ctx, opts({ privateKeyFile: file, keyId: 'kid-2' })));
    expect(code).toBe(0);
    expect(publicJwkLine(ctx).kid).toBe('kid-2');
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(registered));
    expect(ctx.metadata.get('svc')).toMatchObject({ keyId: 'kid-2', secretFingerprint: fingerprintOf(registered), lastTest: { ok: true } });
    expect(leaks(ctx, made(), pem)).toEqual([]);
  });

  it('a new key Okta refuses (not in the app yet) changes nothing: exit 4, the link in the hint', async () => {
    const { ctx, old, made } = withSvc({ stdin: newPem() });
    const metadataBefore = JSON.stringify(ctx.metadata.all());
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true })));
    expect(code).toBe(4);
    expect(error?.message).toMatch(/^svc: the new key failed its test, so nothing was changed/);
    expect(error?.hint).toContain(APP_LINK);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(old));
    expect(JSON.stringify(ctx.metadata.all())).toBe(metadataBefore);
    expect(leaks(ctx, made())).toEqual([]);
  });

  it('declined in a terminal: nothing tested, nothing saved (exit 130)', async () => {
    const { ctx, old } = withSvc({ tty: true, answers: [false] });
    const metadataBefore = JSON.stringify(ctx.metadata.all());
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true })));
    expect(code).toBe(130);
    expect(error?.message).toMatch(/not rotated: svc keeps its old key/);
    expect(ctx.gateway.calls).toEqual([]);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(old));
    expect(JSON.stringify(ctx.metadata.all())).toBe(metadataBefore);
  });

  it('a failed test in a terminal offers to test again; the second passes once the key is added', async () => {
    const { ctx, made } = withSvc({ tty: true, answers: [true, 'again'] });
    addKeyWhenAsked(ctx, made, 'select');
    const { code } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true, keyType: 'ec' })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['confirm', 'select']);
    expect(ctx.err.plain()).toMatch(/✗ .*401/);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(made() as OAuthCredential));
  });

  it('without a terminal, --generate-key needs --no-test: refused before a key is made (exit 2)', async () => {
    const { ctx, old } = withSvc();
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/--generate-key needs --no-test/);
    expect(ctx.out.text()).toBe('');
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(old));
  });

  it('--no-test swaps the new key in untested and says so; lastTest is cleared', async () => {
    const { ctx, made } = withSvc();
    const { code } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true, test: false })));
    expect(code).toBe(0);
    expect(ctx.gateway.calls).toEqual([]);
    const credential = made() as OAuthCredential;
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(credential));
    expect(ctx.metadata.get('svc')).toMatchObject({ keyId: credential.keyId, lastTest: null });
    expect(ctx.out.plain()).toMatch(/✓ rotated svc .* \(not tested\)\n$/);
    expect(ctx.err.plain()).toMatch(/untested \(--no-test\); once its public key is added to the app, run: okta-connect test svc/);
    expect(leaks(ctx, credential)).toEqual([]);
  });

  it('--revoke-old revokes nothing at Okta: it names the old kid to delete from the app', async () => {
    const { ctx } = withSvc();
    const { code } = await exitOf(() => rotateRun(ctx, opts({ generateKey: true, test: false, revokeOld: true, json: true })));
    expect(code).toBe(0);
    expect(ctx.gateway.calls.some((call) => call.op === 'revokeCurrentToken')).toBe(false);
    expect(ctx.err.plain()).toMatch(/Okta has no revocation for a key: revoke the old one \(kid kid-1\) by deleting it from the app's Public keys/);
    const json = JSON.parse(ctx.out.text()) as Record<string, unknown>;
    expect(json).toMatchObject({ name: 'svc', rotated: true, tested: false, clientId: CLIENT, publicJwk: { kty: 'RSA', alg: 'RS256' } });
    expect((json.publicJwk as Record<string, unknown>).d).toBeUndefined();
  });

  it('refuses a new key with the old kid, and a token piped in place of a key; the key stays (exit 2)', async () => {
    const { ctx, old } = withSvc({ stdin: newPem() });
    expect((await exitOf(() => rotateRun(ctx, opts({ tokenStdin: true, keyId: 'kid-1' })))).error?.message).toMatch(/kid is the old one's \(kid-1\)/);
    const piped = withSvc({ stdin: makeToken() });
    expect((await exitOf(() => rotateRun(piped.ctx, opts({ tokenStdin: true })))).code).toBe(2);
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(old));
    expect(piped.ctx.secrets.entries.get('svc')).toBe(secretOf(piped.old));
  });

  it('the old kid with --private-key-file: the hint gives the file again with another --key-id, never --generate-key', async () => {
    const file = join(keyDir, 'same-kid.pem');
    writeFileSync(file, newPem(), { mode: 0o600 });
    const { ctx } = withSvc();
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ privateKeyFile: file, keyId: 'kid-1' })));
    expect(code).toBe(2);
    expect(error?.hint).toContain(`okta-connect rotate svc --private-key-file ${file} --key-id kid-1-2`);
    expect(error?.hint).not.toContain('--generate-key');
  });

  it('the saved key itself (its thumbprint is the saved kid): nothing to rotate, and the hint asks for a new key, not a kid', async () => {
    const pem = newPem();
    const file = join(keyDir, 'same-key.pem');
    writeFileSync(file, pem, { mode: 0o600 });
    const saved = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read', privateKey: pem }).value;
    const ctx = fakeContext({
      connections: [makeRecord('svc', ORG, { kind: 'oauth', clientId: CLIENT, scopes: ['okta.users.read'], keyId: saved.keyId, secretFingerprint: fingerprintOf(saved) })],
      secrets: { svc: secretOf(saved) },
    });
    const { code, error } = await exitOf(() => rotateRun(ctx, opts({ privateKeyFile: file })));
    expect(code).toBe(2);
    expect(error?.message).toMatch(/the new key is the one svc has .*nothing to rotate/);
    expect(error?.hint).not.toContain('--key-id');
  });

  it('key flags on a token connection are refused before anything is read (exit 2)', async () => {
    const { ctx } = withSvc({ stdin: `${makeToken()}\n` });
    const tokenBefore = ctx.secrets.entries.get('c2');
    for (const raw of [{ generateKey: true }, { test: false, tokenStdin: true }, { keyId: 'k' }]) {
      const { code, error } = await exitOf(() => rotateRun(ctx, opts({ name: 'c2', ...raw })));
      expect(code).toBe(2);
      expect(error?.message).toMatch(/for an OAuth connection, and "c2" holds an API token/);
    }
    expect(ctx.secrets.entries.get('c2')).toBe(tokenBefore);
    expect(ctx.gateway.calls).toEqual([]);
  });
});
