import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { describeRun, makeSandbox, uniqueName, type RunResult, type Sandbox } from './harness.js';

/**
 * The real OS keychain on each platform CI runs: the Secret Service on Linux (gnome-keyring, through
 * test/run-with-keyring.sh), the macOS Keychain (a throw-away default keychain in CI) and Windows Credential Manager.
 * Portable on purpose: no secret-tool, tmux or POSIX shell. Each test has its own OKTA_CONNECT_CONFIG_DIR and unique
 * connection names, so nothing meets the user's own entries.
 */
let okta: FakeOkta;
let sandbox: Sandbox;
const folders: string[] = [];

beforeAll(async () => {
  expect(process.env.OKTA_CONNECT_TEST_KEYRING, 'set OKTA_CONNECT_TEST_KEYRING=1 where an OS keychain is ready (on Linux: test/run-with-keyring.sh)').toBe('1');
  okta = await startFakeOkta();
  sandbox = makeSandbox();
});
afterAll(async () => {
  await okta.close();
  for (const folder of [...folders, sandbox.home, sandbox.cwd]) rmSync(folder, { recursive: true, force: true });
});

/** A config folder of its own; on macOS the real HOME, where the Security framework finds the keychain list. */
function inFolder(): (args: string[], input?: string) => Promise<RunResult> {
  const configDir = mkdtempSync(join(tmpdir(), 'okta-connect-oskc-'));
  folders.push(configDir);
  const env = { OKTA_CONNECT_CONFIG_DIR: configDir, ...(process.platform === 'darwin' ? { HOME: process.env.HOME } : {}) };
  return (args, input) => sandbox.run(args, { env, ...(input === undefined ? {} : { input }) });
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe(`the OS keychain (${process.platform})`, () => {
  it('add saves the token there; list, test, token, exec and doctor use it; remove deletes it', async () => {
    const run = inFolder();
    const name = uniqueName('oskc');
    const token = okta.addToken();
    const add = await run(['add', '--name', name, '--org-url', okta.url, '--token-stdin'], token);
    expect(add.code, describeRun(add)).toBe(0);

    const list = await run(['list', '--json']);
    expect(list.code, describeRun(list)).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name, orgUrl: okta.url, source: 'keychain' })]);

    const test = await run(['test', '--name', name, '--json']);
    expect(test.code, describeRun(test)).toBe(0);
    expect(JSON.parse(test.stdout)).toEqual(expect.objectContaining({ name, ok: true }));

    const printed = await run(['token', '--name', name]);
    expect(printed.code, describeRun(printed)).toBe(0);
    expect(printed.stdout).toBe(`${token}\n`);

    // The child sees the token in its environment (shown here by its hash, never the value).
    const script = "process.stdout.write(require('node:crypto').createHash('sha256').update(process.env.OKTA_CLIENT_TOKEN ?? '').digest('hex'))";
    const exec = await run(['exec', '--name', name, '--', process.execPath, '-e', script]);
    expect(exec.code, describeRun(exec)).toBe(0);
    expect(exec.stdout).toBe(sha256(token));

    const doctor = await run(['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string }[] }).checks;
    expect(checks.find((check) => check.name === 'keychain'), describeRun(doctor)).toEqual(expect.objectContaining({ status: 'ok' }));

    const remove = await run(['remove', '--name', name, '--yes']);
    expect(remove.code, describeRun(remove)).toBe(0);
    expect((await run(['token', '--name', name])).code).toBe(3);
    expect((await run(['list', '--json'])).stdout.trim()).toBe('[]');
  });

  it('keeps the token out of the config folder: only the keychain has it', async () => {
    const run = inFolder();
    const name = uniqueName('oskc');
    const token = okta.addToken();
    expect((await run(['add', '--name', name, '--org-url', okta.url, '--token-stdin', '--no-test'], token)).code).toBe(0);
    const folder = folders.at(-1) ?? '';
    const files = readdirSync(folder);
    expect(files).toContain('connections.json');
    for (const file of files) expect(readFileSync(join(folder, file), 'latin1'), file).not.toContain(token.slice(2, 18));
    expect((await run(['token', '--name', name])).stdout).toBe(`${token}\n`);
    expect((await run(['remove', '--name', name, '--yes'])).code).toBe(0);
  });
});
