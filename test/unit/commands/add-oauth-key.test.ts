import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addOptionsSchema, addRun } from '../../../src/commands/add.js';
import { tokenEndpointFailure } from '../../../src/adapters/okta-oauth.js';
import { TokenEndpointError } from '../../../src/adapters/okta-sdk.js';
import { oauthCredential, secretOf } from '../../../src/domain/credential.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, type FakeContext } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const CLIENT = '0oa1abcdefGHIJKLmn0x7';
const SCOPES = 'okta.users.read';

let dir = '';
let pem = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okta-connect-unit-keyfile-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(join(dir, 'key.pem'), pem, { mode: 0o600 });
  writeFileSync(join(dir, 'pub.pem'), pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  mkdirSync(join(dir, 'keydir'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Okta knows the key of key.pem (with its thumbprint as kid) for CLIENT and SCOPES. */
function knowing(ctx: FakeContext): FakeContext {
  ctx.gateway.org(ORG);
  ctx.gateway.token(ORG, secretOf(oauthCredential({ clientId: CLIENT, scopes: SCOPES, privateKey: pem }).value));
  return ctx;
}

describe('add --oauth in a terminal: the key file', () => {
  it('a directory, a missing file or a public key is explained and the file asked again (~/ expanded); the answers before it stay', async () => {
    const ctx = knowing(
      fakeContext({ tty: true, env: { HOME: dir }, answers: [ORG, CLIENT, SCOPES, 'file', join(dir, 'keydir'), join(dir, 'missing.pem'), '~/pub.pem', '~/key.pem', '', 'svc'] }),
    );
    const { code } = await exitOf(() => addRun(ctx, parseOptions(addOptionsSchema, { oauth: true })));
    expect(code).toBe(0);
    const asked = ctx.prompter.questions.map((question) => question.message);
    expect(asked.filter((message) => message === 'Private key file:')).toHaveLength(4);
    // Address, client id and scopes once each: nothing is asked again but the file.
    expect(asked.filter((message) => /Client ID|scopes|address/i.test(message))).toHaveLength(3);
    // The KID only once the file reads as a private key.
    expect(asked.findIndex((message) => message.startsWith('Key ID (KID)'))).toBeGreaterThan(asked.lastIndexOf('Private key file:'));
    const err = ctx.err.plain();
    expect(err).toContain(`✗ ${join(dir, 'keydir')} is not a file (a directory)`);
    expect(err).toContain(`✗ cannot read the file ${join(dir, 'missing.pem')} (ENOENT)`);
    expect(err).toContain('✗ this is a public key or certificate');
    expect(err).not.toContain('--private-key-file');
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT });
  });
});

describe('--private-key-file from a pipe', () => {
  it('<(cat key.pem): a FIFO is read (to the 64 KiB bound), not refused as "not a file"', async () => {
    const fifo = join(dir, 'fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    const writer = promisify(execFile)('sh', ['-c', 'cat "$1" > "$2"', 'sh', join(dir, 'key.pem'), fifo]);
    const ctx = knowing(fakeContext());
    const { code, error } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, privateKeyFile: fifo })),
    );
    await writer;
    expect(error?.message).toBeUndefined();
    expect(code).toBe(0);
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT });
  });

  it('a FIFO with more than 64 KiB is refused (exit 2), as stdin is', async () => {
    const fifo = join(dir, 'big');
    await promisify(execFile)('mkfifo', [fifo]);
    const writer = promisify(execFile)('sh', ['-c', 'head -c 70000 /dev/zero > "$1" || true', 'sh', fifo]);
    const ctx = knowing(fakeContext());
    const { code, error } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, privateKeyFile: fifo })),
    );
    await writer.catch(() => undefined);
    expect(code).toBe(2);
    expect(error?.message).toMatch(/more than 64 KiB/);
  });

  it('--private-key-file - is stdin', async () => {
    const ctx = knowing(fakeContext({ stdin: pem }));
    const { code } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, privateKeyFile: '-' })),
    );
    expect(code).toBe(0);
    expect(ctx.metadata.get('svc')).toMatchObject({ kind: 'oauth', clientId: CLIENT });
  });
});

describe('add --oauth in a terminal: after a failed test, the part that was wrong is entered again', () => {
  it('a kid the app does not list: the KID is preselected, asked again, and the key tested with it; the rest is kept', async () => {
    const ctx = fakeContext({ tty: true, answers: ['wrong-kid', 'kid', 'right-kid'] });
    ctx.gateway.org(ORG);
    // Okta knows the key under the KID the app lists; with any other, its token endpoint says the kid is not registered.
    const right = oauthCredential({ clientId: CLIENT, scopes: SCOPES, privateKey: pem, keyId: 'right-kid' }).value;
    const wrong = oauthCredential({ clientId: CLIENT, scopes: SCOPES, privateKey: pem, keyId: 'wrong-kid' }).value;
    ctx.gateway.token(ORG, secretOf(right));
    const notRegistered = new TokenEndpointError(401, 'invalid_client', 'The client_assertion JWT kid is invalid.');
    ctx.gateway.token(ORG, secretOf(wrong), { whoAmIError: tokenEndpointFailure(notRegistered, ORG, wrong, (text) => text) });
    const { code } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, privateKeyFile: join(dir, 'key.pem') })),
    );
    expect(code).toBe(0);
    const menu = ctx.prompter.questions.find((question) => question.message === 'The test failed. What now?');
    expect(menu?.default).toBe('kid');
    expect(ctx.prompter.questions.filter((question) => question.message.startsWith('Key ID (KID)'))).toHaveLength(2);
    expect(ctx.metadata.get('svc')).toMatchObject({ keyId: 'right-kid', clientId: CLIENT, lastTest: { ok: true } });
    expect(ctx.secrets.entries.get('svc')).toBe(secretOf(right));
  });

  it('invalid_scope: the scopes are preselected and asked again (the last answer as default); the hint says no --force when nothing is saved', async () => {
    const ctx = fakeContext({ tty: true, answers: ['', 'scopes', 'okta.groups.read'] });
    ctx.gateway.org(ORG);
    const asked = oauthCredential({ clientId: CLIENT, scopes: 'okta.users.read okta.apps.read', privateKey: pem }).value;
    const granted = oauthCredential({ clientId: CLIENT, scopes: 'okta.groups.read', privateKey: pem }).value;
    const refused = new TokenEndpointError(400, 'invalid_scope', 'The following scopes are not allowed: okta.apps.read');
    ctx.gateway.token(ORG, secretOf(asked), { whoAmIError: tokenEndpointFailure(refused, ORG, asked, (text) => text) });
    ctx.gateway.token(ORG, secretOf(granted));
    const { code } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: 'okta.users.read okta.apps.read', privateKeyFile: join(dir, 'key.pem') })),
    );
    expect(code).toBe(0);
    expect(ctx.prompter.questions.find((question) => question.message === 'The test failed. What now?')?.default).toBe('scopes');
    expect(ctx.prompter.questions.find((question) => question.message.startsWith('Okta API scopes'))?.default).toBe('okta.users.read okta.apps.read');
    expect(ctx.err.plain()).toContain('add again with fewer --scopes');
    expect(ctx.err.plain()).not.toContain('--force');
    expect(ctx.metadata.get('svc')).toMatchObject({ scopes: ['okta.groups.read'], lastTest: { ok: true } });
  });

  it('without a terminal the invalid_scope hint has no --force either (nothing was saved)', async () => {
    const ctx = fakeContext();
    ctx.gateway.org(ORG);
    const asked = oauthCredential({ clientId: CLIENT, scopes: SCOPES, privateKey: pem }).value;
    const refused = new TokenEndpointError(400, 'invalid_scope', 'The following scopes are not allowed: okta.users.read');
    ctx.gateway.token(ORG, secretOf(asked), { whoAmIError: tokenEndpointFailure(refused, ORG, asked, (text) => text) });
    const { code, error } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, privateKeyFile: join(dir, 'key.pem') })),
    );
    expect(code).toBe(5);
    expect(error?.hint).toContain('add again with fewer --scopes');
    expect(error?.hint).not.toContain('--force');
  });

  it('a generated key that fails its test: test again once the key is in the app, or save untested; never "saved despite the failed test"', async () => {
    const ctx = fakeContext({ tty: true, answers: [true, 'again', 'untested'] });
    ctx.gateway.org(ORG);
    const { code } = await exitOf(() =>
      addRun(ctx, parseOptions(addOptionsSchema, { oauth: true, name: 'svc', orgUrl: ORG, clientId: CLIENT, scopes: SCOPES, generateKey: true, keyType: 'ec' })),
    );
    expect(code).toBe(0);
    const menus = ctx.prompter.questions.filter((question) => question.message === 'The test failed. What now?');
    expect(menus).toHaveLength(2);
    expect(menus[0]?.choices).toEqual(['again', 'untested']);
    expect(menus[0]?.default).toBe('again');
    expect(ctx.gateway.calls.filter((call) => call.op === 'whoAmI')).toHaveLength(2);
    expect(ctx.out.plain()).toMatch(/✓ saved svc .*\(not tested\)\n$/);
    expect(ctx.out.plain()).not.toContain('despite');
    expect(ctx.metadata.get('svc')).toMatchObject({ lastTest: null });
  });
});
