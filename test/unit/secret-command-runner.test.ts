import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processSecretCommandRunner, SECRET_OUTPUT_LIMIT } from '../../src/adapters/secret-command.js';
import { Capture } from '../fakes/streams.js';
import { leftAfter, processesWith, uniqueSleep } from '../fixtures/processes.js';

/** The real runner over child processes, with our stderr captured and signals trapped by the test. */
function runner(env: Record<string, string | undefined> = { PATH: process.env.PATH }) {
  const stderr = new Capture(false);
  const traps = new Set<(signal: NodeJS.Signals) => void>();
  const commands = processSecretCommandRunner({
    env,
    stderr,
    platform: process.platform,
    trap: (handler) => {
      traps.add(handler);
      return () => traps.delete(handler);
    },
  });
  return { commands, stderr, traps };
}

describe.skipIf(process.platform === 'win32')('the secret command runner', () => {
  it('stdout is the secret, one trailing newline trimmed', async () => {
    const { commands } = runner();
    expect(await commands.run(['printf', 'abc\\n'], 5000)).toEqual({ kind: 'printed', stdout: 'abc' });
    expect(await commands.run(['printf', 'abc\\r\\n'], 5000)).toEqual({ kind: 'printed', stdout: 'abc' });
    expect(await commands.run(['printf', ' abc \\n\\n'], 5000)).toEqual({ kind: 'printed', stdout: ' abc \n' });
  });

  it('runs with the environment it is given, and stdin closed (a read gets end-of-file at once)', async () => {
    const { commands } = runner({ PATH: process.env.PATH, OKTA_TEST_VALUE: 'from-env' });
    expect(await commands.run(['sh', '-c', 'printf %s "$OKTA_TEST_VALUE"'], 5000)).toEqual({ kind: 'printed', stdout: 'from-env' });
    const started = Date.now();
    expect(await commands.run(['sh', '-c', 'cat; echo read-done'], 5000)).toEqual({ kind: 'printed', stdout: 'read-done' });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('stderr is passed through to ours, and its last line kept for the message', async () => {
    const { commands, stderr } = runner();
    const outcome = await commands.run(['sh', '-c', 'echo "first problem" >&2; printf "\\033[31mgpg: decryption failed\\033[0m\\n\\n" >&2; exit 2'], 5000);
    expect(outcome).toEqual({ kind: 'exited', code: 2, lastStderrLine: 'gpg: decryption failed' });
    expect(stderr.text()).toContain('first problem\n');
    expect(stderr.text()).toContain('gpg: decryption failed');
  });

  it('a command that does not exist is "not found"; a file that is no program cannot run', async () => {
    const { commands } = runner();
    expect(await commands.run(['okta-connect-no-such-command'], 5000)).toEqual({ kind: 'not-found' });
    const notProgram = join(mkdtempSync(join(tmpdir(), 'okc-runner-')), 'token.txt');
    writeFileSync(notProgram, 'not a program', { mode: 0o600 });
    expect(await commands.run([notProgram], 5000)).toMatchObject({ kind: 'cannot-run', why: 'permission denied' });
    rmSync(dirname(notProgram), { recursive: true });
    expect(await commands.run(['sh', '-c', 'okta-connect-no-such-command'], 5000)).toMatchObject({ kind: 'exited', code: 127 });
  });

  it('a command killed by a signal says which', async () => {
    const { commands } = runner();
    expect(await commands.run(['sh', '-c', 'kill -TERM $$'], 5000)).toMatchObject({ kind: 'killed', signal: 'SIGTERM' });
  });

  it('a command that hangs is stopped at its timeout, with everything it started (its process group)', async () => {
    const { commands, traps } = runner();
    const child = uniqueSleep();
    const grandchild = uniqueSleep();
    const started = Date.now();
    const outcome = await commands.run(['sh', '-c', `sleep ${grandchild} & sleep ${child}; wait`], 500);
    expect(outcome).toEqual({ kind: 'timed-out', timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await leftAfter(child)).toEqual([]);
    expect(await leftAfter(grandchild)).toEqual([]);
    expect(traps.size).toBe(0);
  });

  it('output past the bound stops the command at once: no 20 MB read', async () => {
    const { commands } = runner();
    const started = Date.now();
    const outcome = await commands.run(['head', '-c', String(20 * 1024 * 1024), '/dev/zero'], 10_000);
    expect(outcome).toEqual({ kind: 'too-large', limitBytes: SECRET_OUTPUT_LIMIT });
    expect(Date.now() - started).toBeLessThan(5000);
    // Exactly the bound is still a secret.
    expect(await commands.run(['head', '-c', String(SECRET_OUTPUT_LIMIT), '/dev/zero'], 10_000)).toMatchObject({ kind: 'printed' });
  });

  it('a signal to okta-connect while the command runs stops the command too', async () => {
    const { commands, traps } = runner();
    const marker = uniqueSleep();
    const running = commands.run(['sleep', marker], 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(traps.size).toBe(1);
    for (const trap of traps) trap('SIGINT');
    expect(await running).toEqual({ kind: 'interrupted' });
    expect(await leftAfter(marker)).toEqual([]);
  });

  it('a command that exits normally leaves what it started alone (an agent it launched keeps running)', async () => {
    const { commands } = runner();
    const marker = uniqueSleep();
    // The background sleep holds no pipe of ours, as a daemon would not.
    const outcome = await commands.run(['sh', '-c', `sleep ${marker} </dev/null >/dev/null 2>&1 & echo ok`], 5000);
    expect(outcome).toEqual({ kind: 'printed', stdout: 'ok' });
    const left = processesWith(marker);
    expect(left).toHaveLength(1);
    process.kill(Number(left[0]?.split(':')[0]), 'SIGKILL');
  });
});
