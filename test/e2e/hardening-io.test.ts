import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { BIN, disposeSandbox, expectCleanFailure, makeSandbox, requireKeyring, storedConnection, uniqueName, type RunResult, type Sandbox, describeRun } from './harness.js';

/** Hardening of the edges where bytes come in: flags and variables with numbers, stdin, the network, stdout. */

let fake: FakeOkta;
let sandbox: Sandbox;
let saved: string;

beforeAll(async () => {
  requireKeyring();
  fake = await startFakeOkta();
  sandbox = makeSandbox();
  saved = uniqueName('io');
  const result = await sandbox.run(['add', '--name', saved, '--org-url', fake.url, '--token-stdin', '--no-test'], { input: fake.addToken() });
  expect(result.code, describeRun(result)).toBe(0);
});
afterAll(async () => {
  await sandbox.run(['remove', '--name', saved, '--yes']);
  await fake.close();
  disposeSandbox(sandbox);
});
afterEach(() => {
  fake.behaviour = 'okta';
});

describe('numbers of time: a sane range, the rest refused naming the flag or variable (exit 2)', () => {
  const KEYCHAIN = 'OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS';
  const cases: { what: string; args: () => string[]; env?: Record<string, string>; says: RegExp }[] = [
    { what: 'test --timeout 1e-9 (was 0 ms)', args: () => ['test', '--name', saved, '--timeout', '1e-9'], says: /^error: invalid --timeout: "1e-9"/ },
    { what: 'test --timeout 0.05', args: () => ['test', '--name', saved, '--timeout', '0.05'], says: /^error: invalid --timeout: "0.05"/ },
    { what: 'test --timeout 1e2', args: () => ['test', '--name', saved, '--timeout', '1e2'], says: /^error: invalid --timeout: "1e2"/ },
    { what: 'test --all --timeout 0x10', args: () => ['test', '--all', '--timeout', '0x10'], says: /^error: invalid --timeout: "0x10"/ },
    { what: 'remove --revoke --timeout 0.0004 (was 0 ms)', args: () => ['remove', '--name', saved, '--revoke', '--yes', '--timeout', '0.0004'], says: /^error: invalid --timeout: "0.0004"/ },
    { what: `test with ${KEYCHAIN}=2147483648 (was a 1 ms timer)`, args: () => ['test', '--name', saved], env: { [KEYCHAIN]: '2147483648' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "2147483648"`) },
    { what: `token with ${KEYCHAIN}=0`, args: () => ['token', '--name', saved], env: { [KEYCHAIN]: '0' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "0"`) },
    { what: `list with ${KEYCHAIN}=1e3`, args: () => ['list'], env: { [KEYCHAIN]: '1e3' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "1e3"`) },
    { what: `add with ${KEYCHAIN}=99`, args: () => ['add', '--name', uniqueName('io'), '--org-url', fake.url, '--token-stdin', '--no-test'], env: { [KEYCHAIN]: '99' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "99"`) },
    { what: `exec with ${KEYCHAIN}=600001`, args: () => ['exec', '--name', saved, '--', 'true'], env: { [KEYCHAIN]: '600001' }, says: new RegExp(`^error: invalid ${KEYCHAIN}: "600001"`) },
  ];
  it.each(cases)('$what', async ({ args, env, says }) => {
    const before = fake.requests.length;
    const result = await sandbox.run(args(), { env, input: fake.addToken() });
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(says);
    expect(fake.requests.length, 'refused before any request').toBe(before);
  });

  it('the bounds themselves are accepted: --timeout 0.1 runs the test (and may time out, exit 6, not 2)', async () => {
    const result = await sandbox.run(['test', '--name', saved, '--timeout', '0.1'], { env: { [KEYCHAIN]: '600000' } });
    expect([0, 6], describeRun(result)).toContain(result.code);
  });
});

/** The CLI with `yes` (an endless stream) on its stdin; killed after `boundMs`. */
function runWithYes(args: string[], boundMs: number): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const yes = spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] });
    const child = spawn(process.execPath, [BIN, ...args], { cwd: sandbox.cwd, env: sandbox.env, stdio: [yes.stdout, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      yes.kill('SIGKILL');
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('--token-stdin reads at most 64 KiB', () => {
  it('yes | okta-connect add --token-stdin …: exit 2 at once, saying why, nothing saved', async () => {
    const name = uniqueName('yes');
    const result = await runWithYes(['add', '--name', name, '--org-url', fake.url, '--token-stdin', '--no-test'], 20_000);
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(/stdin held more than 64 KiB/);
    expect(result.ms).toBeLessThan(10_000);
    expect(storedConnection(sandbox, name)).toBeUndefined();
  });
});
