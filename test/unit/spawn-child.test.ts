import { ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChild, type Spawners } from '../../src/adapters/spawn-child.js';

/** Spawners that record which one was asked, with what; each returns a distinct dummy child. */
function recording(): { spawners: Spawners; calls: [string, string, readonly string[], SpawnOptions][]; children: Record<string, ChildProcess> } {
  const calls: [string, string, readonly string[], SpawnOptions][] = [];
  const children = { posix: new ChildProcess(), windows: new ChildProcess() };
  return {
    calls,
    children,
    spawners: {
      posix: (command, args, options) => (calls.push(['posix', command, args, options]), children.posix),
      windows: (command, args, options) => (calls.push(['windows', command, args, options]), children.windows),
    },
  };
}

/** Exit code, signal and stdout of a child. */
function outcome(child: ChildProcess): Promise<{ code: number | null; stdout: string; error?: string }> {
  return new Promise((resolvePromise) => {
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', (error) => {
      resolvePromise({ code: null, stdout, error: (error as NodeJS.ErrnoException).code ?? error.message });
    });
    child.on('close', (code) => {
      resolvePromise({ code, stdout });
    });
  });
}

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Arguments a shell would mangle if one were involved. */
const AWKWARD = ['two words', '"quoted"', "it's", '%PATH%', '$HOME', 'a&b|c>d', '^caret', '', 'trailing\\'];

describe('spawnChild', () => {
  it.each(['linux', 'darwin', 'freebsd'] as const)('on %s uses node:child_process spawn, with everything passed as given', (platform) => {
    const { spawners, calls, children } = recording();
    const options = { stdio: 'inherit', env: { A: '1' } } as const;
    expect(spawnChild('terraform', ['plan', '-out', 'x'], options, platform, spawners)).toBe(children.posix);
    expect(calls).toEqual([['posix', 'terraform', ['plan', '-out', 'x'], options]]);
  });

  it('on win32 uses cross-spawn (PATHEXT lookup, .cmd/.bat shims through cmd.exe), with everything passed as given', () => {
    const { spawners, calls, children } = recording();
    const options = { stdio: 'inherit', env: { A: '1' } } as const;
    expect(spawnChild('npm', ['run', 'deploy'], options, 'win32', spawners)).toBe(children.windows);
    expect(calls).toEqual([['windows', 'npm', ['run', 'deploy'], options]]);
  });

  it.each(['win32', 'linux'] as const)('platform %s, real processes here: arguments arrive verbatim and the exit code passes through', async (platform) => {
    const child = spawnChild(
      process.execPath,
      ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1))); process.exit(Number(process.env.CODE))', ...AWKWARD],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CODE: '7' } },
      platform,
    );
    const result = await outcome(child);
    expect(result.code).toBe(7);
    expect(JSON.parse(result.stdout)).toEqual(AWKWARD);
  });

  it.each(['win32', 'linux'] as const)('platform %s, real processes here: a command that does not exist is ENOENT', async (platform) => {
    const result = await outcome(spawnChild('okta-connect-no-such-command', [], { stdio: 'ignore' }, platform));
    expect(result.error).toBe('ENOENT');
  });

  // Only on Windows (the CI's windows job): what cross-spawn is there for.
  it.runIf(process.platform === 'win32')('on Windows runs a .cmd shim found through PATH and PATHEXT, arguments intact', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'okta-connect-shim-'));
    folders.push(folder);
    const script = join(folder, 'print-args.js');
    writeFileSync(script, 'process.stdout.write(JSON.stringify(process.argv.slice(2))); process.exit(5);\n');
    writeFileSync(join(folder, 'shim-tool.cmd'), `@"${process.execPath}" "${script}" %*\r\n`);
    const env = { ...process.env, PATH: `${folder};${process.env.PATH ?? ''}` };
    // The control: node's own spawn cannot start it by its bare name.
    expect((await outcome(spawn('shim-tool', ['x'], { env, stdio: 'ignore' }))).error).toBe('ENOENT');
    const args = ['two words', '"quoted"', 'a&b|c>d'];
    const result = await outcome(spawnChild('shim-tool', args, { env, stdio: ['ignore', 'pipe', 'inherit'] }, 'win32'));
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout)).toEqual(args);
  });
});
