import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addOptionsSchema, addRun } from '../../../src/commands/add.js';
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
