import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewApp } from '../fixtures/fake-okta-oauth.js';
import { makePassStore, requirePass, stopAgent, type PassStore } from '../fixtures/pass-store.js';
import { describeRun, expectCleanFailure, readConnections, requireKeyring, secretToolLookup, startCli, storedNames, uniqueName, useFakeOkta, usePtys, useSandbox, type RunResult } from './harness.js';
import { keyLeaks } from './oauth-leaks.js';

/**
 * An OAuth connection whose private key a secret command prints (here the real pass, with a GPG key made for the run):
 * the key is read at each use, validated as a stored key is, and never lands in the keychain, a file or any output.
 */
const fake = useFakeOkta();
let root = '';
let store: PassStore | undefined;

beforeAll(() => {
  requireKeyring();
  requirePass();
  root = mkdtempSync(join(tmpdir(), 'okc-oauth-pass-'));
  store = makePassStore(root, 'oauth');
}, 60_000);

afterAll(() => {
  stopAgent(store?.env.GNUPGHOME);
  rmSync(root, { recursive: true, force: true });
});

function pass(): PassStore {
  if (!store) throw new Error('no pass store');
  return store;
}

const PRINT_KEY = `process.stdout.write(JSON.stringify({ pem: process.env.OKTA_CLIENT_PRIVATEKEY, kid: process.env.OKTA_API_PRIVATE_KEY_ID, mode: process.env.OKTA_CLIENT_AUTHORIZATIONMODE }))`;

function addArgs(name: string, made: NewApp, scopes: string, ...extra: string[]): string[] {
  return ['add', '--oauth', '--name', name, '--org-url', fake.url, '--client-id', made.app.clientId, '--scopes', scopes, '--timeout', '60', ...extra];
}

describe('add --oauth --secret-command, then every command that uses the key', () => {
  const sandbox = useSandbox();
  const runs: RunResult[] = [];
  const made: NewApp[] = [];
  const run = async (args: string[]): Promise<RunResult> => {
    const result = await sandbox.run(args, { env: pass().env });
    runs.push(result);
    return result;
  };
  afterAll(() => {
    for (const app of made) expect(keyLeaks(app, sandbox, runs)).toEqual([]);
  });

  it('a PEM in pass: tested before saving; the metadata keeps the command, client id, scopes and kid; the keychain nothing', async () => {
    const app = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    made.push(app);
    const entry = `okta/${uniqueName('pem')}`;
    pass().insert(entry, app.privatePem);
    const name = uniqueName('pk');
    const before = fake.oauth.log.length;
    const added = await run([...addArgs(name, app, 'okta.users.read', '--key-id', app.kid, '--json'), '--secret-command', '--', 'pass', 'show', entry]);
    expect(added.code, describeRun(added)).toBe(0);
    expect(fake.oauth.log.slice(before).map((record) => record.grantedTo ?? record.error)).toEqual([app.app.clientId]);
    expect(JSON.parse(added.stdout)).toMatchObject({ name, kind: 'oauth', source: 'command', secretCommand: ['pass', 'show', entry], clientId: app.app.clientId, keyId: app.kid });
    const record = readConnections(sandbox)?.connections.find((connection) => connection.name === name) as Record<string, unknown> | undefined;
    expect(record).toMatchObject({ kind: 'oauth', secretCommand: ['pass', 'show', entry], clientId: app.app.clientId, scopes: ['okta.users.read'], keyId: app.kid, secretFingerprint: null });
    expect(secretToolLookup(name)).toBeUndefined();

    const list = await run(['list']);
    expect(list.stdout.split('\n').find((line) => line.startsWith(name))).toMatch(new RegExp(`^${name} +oauth +\\S+ +${app.app.clientId} +ok .* +- +command$`));

    const test = await run(['test', name]);
    expect(test.code, describeRun(test)).toBe(0);
    expect(test.stdout).toMatch(new RegExp(`✓ ${name} .*as client ${app.app.clientId} {2}scopes okta\\.users\\.read {2}token 1h {2}no DPoP`));

    const token = await run(['token', name]);
    expect(token.code, describeRun(token)).toBe(0);
    expect(token.stdout).toMatch(/^eyJ\S+\n$/);

    const exec = await run(['exec', name, '--', process.execPath, '-e', PRINT_KEY]);
    expect(exec.code, describeRun(exec)).toBe(0);
    const child = JSON.parse(exec.stdout) as { pem: string; kid: string; mode: string };
    expect(child.mode).toBe('PrivateKey');
    expect(child.kid).toBe(app.kid);
    // The same key as in pass (exec hands on a PKCS#8 PEM, whatever form the entry has).
    const same = (pem: string): string | undefined => createPrivateKey(pem).export({ format: 'jwk' }).d;
    expect(same(child.pem)).toBe(app.privateJwk.d);
    runs.pop(); // the child printed the key on purpose: that output is the child's, not okta-connect's

    const doctor = await run(['doctor']);
    expect(doctor.stdout).toMatch(new RegExp(`✓ connection ${name}: .*pass show ${entry} printed a valid private key; last test ok`));

    const rotate = await run(['rotate', name, '--generate-key', '--no-test']);
    expectCleanFailure(rotate, 2);
    expect(rotate.stderr).toMatch(new RegExp(`error: "${name}" has no key here to rotate: pass show ${entry} prints it`));
    expect(rotate.stderr).toMatch(/hint: store the new key where .* reads it \(pass insert --force .*\) and add its public half to the app; if its kid changed, save the connection again/);
  });

  it('an EC JWK in pass for a DPoP app: its own kid is the one saved, the nonce challenge answered, DPoP on the call', async () => {
    const app = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read'], requireDpop: true });
    made.push(app);
    const entry = `okta/${uniqueName('jwk')}`;
    pass().insert(entry, JSON.stringify(app.privateJwk));
    const name = uniqueName('jk');
    const added = await run([...addArgs(name, app, 'okta.users.read'), '--secret-command', '--', 'pass', 'show', entry]);
    expect(added.code, describeRun(added)).toBe(0);
    expect(readConnections(sandbox)?.connections.find((connection) => connection.name === name)).toMatchObject({ keyId: app.kid });
    const test = await run(['test', name, '--json']);
    expect(test.code, describeRun(test)).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ ok: true, oauth: { isDPoP: true, scopes: ['okta.users.read'] } });
    expect(fake.requests.at(-1)?.authorization).toMatch(/^DPoP /);
  });

  it('what the entry holds later is checked at each use: a public key, another kid, no entry: exit 8, the key never shown', async () => {
    const app = fake.oauth.addApp({ keyType: 'ec', scopes: ['okta.users.read'] });
    const other = fake.oauth.addApp({ keyType: 'ec' });
    made.push(app, other);
    const entry = `okta/${uniqueName('later')}`;
    pass().insert(entry, JSON.stringify(app.privateJwk));
    const name = uniqueName('lt');
    expect((await run([...addArgs(name, app, 'okta.users.read'), '--secret-command', '--', 'pass', 'show', entry])).code).toBe(0);
    const before = fake.requests.length;

    pass().insert(entry, createPublicKey(app.privatePem).export({ format: 'pem', type: 'spki' }).toString());
    const publicKey = await run(['test', name]);
    expect(expectCleanFailure(publicKey, 8)).toMatch(new RegExp(`the secret command of "${name}" \\(pass show ${entry}\\) printed no valid private key: this is a public key`));
    expect(publicKey.stderr).toMatch(/hint: make it print the private key alone, PEM or JWK/);

    pass().insert(entry, JSON.stringify(other.privateJwk));
    const otherKid = await run(['exec', name, '--', process.execPath, '-e', 'process.stdout.write("ran")']);
    expect(expectCleanFailure(otherKid, 8)).toMatch(new RegExp(`printed no valid private key: the JWK's own kid is "${other.kid}", not "${app.kid}"`));

    pass().remove(entry);
    const gone = await run(['token', name]);
    expect(expectCleanFailure(gone, 8)).toMatch(/failed with exit code 1: Error: .* is not in the password store/);
    const doctor = await run(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`✗ connection ${name}: the secret command of "${name}" \\(pass show ${entry}\\) failed`));
    expect(fake.requests.length).toBe(before);
  });

  it('add refuses a second key source (exit 2), and a command that prints no private key saves nothing (exit 8)', async () => {
    const app = fake.oauth.addApp();
    made.push(app);
    const name = uniqueName('rf');
    const both = await run([...addArgs(name, app, 'okta.users.read', '--generate-key'), '--secret-command', '--', 'pass', 'show', 'okta/none']);
    expect(expectCleanFailure(both, 2)).toMatch(/--secret-command and --private-key-file, --token-stdin or --generate-key are two places for the key/);
    const entry = `okta/${uniqueName('pub')}`;
    pass().insert(entry, JSON.stringify(app.app.publicKeys[0]));
    const before = fake.requests.length;
    const publicOnly = await run([...addArgs(name, app, 'okta.users.read'), '--secret-command', '--', 'pass', 'show', entry]);
    expect(expectCleanFailure(publicOnly, 8)).toMatch(/printed no valid private key: this JWK is a public key .*: nothing was saved$/);
    expect(fake.requests.length).toBe(before);
    expect(readConnections(sandbox)?.connections.some((connection) => connection.name === name) ?? false).toBe(false);
  });
});

describe('add --oauth in a terminal, the key kept by a command', () => {
  const sandbox = useSandbox();
  usePtys();

  it('"A command that prints it" from the key menu: the command asked (again after a typo, nothing lost), the KID asked, tested, saved with the command and nothing in the keychain', async () => {
    const app = fake.oauth.addApp({ scopes: ['okta.users.read'] });
    const entry = `okta/${uniqueName('tty')}`;
    pass().insert(entry, app.privatePem);
    const name = uniqueName('tk');
    const pty = await startCli(sandbox, ['add', '--oauth', name, '--org-url', fake.url, '--client-id', app.app.clientId, '--scopes', 'okta.users.read'], { width: 140, env: pass().env });
    const menu = await pty.waitFor('The private key:');
    expect(menu).toContain('A command that prints it at each use (a secret manager: pass, op, vault, aws…); it stays there');
    await pty.press('Down', 'Down', 'Down', 'Enter');
    const asked = await pty.waitFor('Command that prints the private key:');
    expect(asked).toContain('must print the private key (PEM or JWK) alone');
    // A typo in the entry first: the failure said, the command asked again with the last one to edit, nothing lost.
    await pty.type(`pass show ${entry}-typo\r`);
    await pty.waitFor("Key ID (KID) of this key");
    await pty.type(`${app.kid}\r`);
    const failed = await pty.waitFor('Command that prints the private key:', { count: 2 });
    expect(failed).toMatch(new RegExp(`✗ .*pass show ${entry}-typo`));
    expect(storedNames(sandbox)).not.toContain(name);
    await pty.press('C-u');
    await pty.type(`pass show ${entry}\r`);
    const done = await pty.waitFor(`saved ${name}`);
    expect(done).toContain(`command: pass show ${entry}`);
    expect(await pty.exitCode()).toBe(0);
    const record = readConnections(sandbox)?.connections.find((connection) => connection.name === name) as Record<string, unknown> | undefined;
    expect(record).toMatchObject({ kind: 'oauth', secretCommand: ['pass', 'show', entry], keyId: app.kid, lastTest: { ok: true } });
    expect(secretToolLookup(name)).toBeUndefined();
    const raw = await pty.rawOutput();
    for (const line of app.privatePem.split('\n').filter((text) => text.length >= 32 && !text.startsWith('-----'))) expect(raw.includes(line)).toBe(false);
  });
});
