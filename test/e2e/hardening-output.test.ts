import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeSandbox, makeSandbox, type Sandbox, describeRun } from './harness.js';

/** What okta-connect prints from values that came from outside: shell completion lists, terminal output. */

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function runBash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bash completion: names are data, never expanded by the shell', () => {
  let sandbox: Sandbox;
  let binDir: string;
  let script: string;
  // What a `__complete-names` might print (a name from a hand-edited file, an older okta-connect): each line one word.
  const HOSTILE = [
    '$(touch pwned-dollar)',
    '`touch pwned-backtick`',
    '$(touch${IFS}pwned-ifs)',
    '*',
    '?',
    '[a-z]*',
    '~',
    '${HOME}',
    '$((6*7))',
    '!!',
    'a b',
    'x;touch pwned-semicolon',
    "it's",
    '\\n',
    'plain-name',
  ];

  beforeAll(async () => {
    sandbox = makeSandbox();
    const result = await sandbox.run(['completion', 'bash']);
    expect(result.code, describeRun(result)).toBe(0);
    script = join(sandbox.cwd, 'okta-connect.bash');
    writeFileSync(script, result.stdout);
    // `okta-connect` on PATH for the completion function: it prints the hostile list for __complete-names.
    binDir = mkdtempSync(join(tmpdir(), 'okta-connect-hostile-bin-'));
    const list = join(binDir, 'names.txt');
    writeFileSync(list, `${HOSTILE.join('\n')}\n`);
    writeFileSync(join(binDir, 'okta-connect'), `#!/bin/sh\n[ "$1" = __complete-names ] && exec cat ${shellQuote(list)}\nexit 2\n`, { mode: 0o755 });
    // Files the glob words would match if they were expanded.
    for (const file of ['alpha', 'beta']) writeFileSync(join(sandbox.cwd, file), '');
  });
  afterAll(() => {
    disposeSandbox(sandbox);
    rmSync(binDir, { recursive: true, force: true });
  });

  async function complete(words: string[]): Promise<string[]> {
    const result = await runBash(
      [
        `source ${shellQuote(script)} || exit 90`,
        `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
        `COMP_CWORD=${String(words.length - 1)}`,
        '_okta_connect || exit 91',
        'printf "%s\\0" "${COMPREPLY[@]}"',
      ].join('\n'),
      { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: sandbox.home, LANG: 'C.UTF-8' },
      sandbox.cwd,
    );
    expect(result.code, describeRun(result)).toBe(0);
    return result.stdout.split('\0').filter((word) => word !== '');
  }

  it('every line of __complete-names is offered as itself, and nothing runs or globs', async () => {
    expect(await complete(['okta-connect', 'test', '--name', ''])).toEqual(HOSTILE);
    expect(readdirSync(sandbox.cwd).filter((file) => file.startsWith('pwned'))).toEqual([]);
    expect(existsSync(join(sandbox.cwd, 'pwned-dollar'))).toBe(false);
  });

  it.each([
    ['$', ['$(touch pwned-dollar)', '$(touch${IFS}pwned-ifs)', '${HOME}', '$((6*7))']],
    ['*', ['*']],
    ['[', ['[a-z]*']],
    ['a', ['a b']],
    ['pl', ['plain-name']],
    ['nothing-matches', []],
  ])('the prefix %j matches literally', async (prefix, expected) => {
    expect(await complete(['okta-connect', 'exec', '-n', prefix])).toEqual(expected);
    expect(readdirSync(sandbox.cwd).filter((file) => file.startsWith('pwned'))).toEqual([]);
  });

  it('commands and flags still complete by prefix', async () => {
    expect(await complete(['okta-connect', 't'])).toEqual(['test', 'token']);
    expect(await complete(['okta-connect', 'test', '--j'])).toEqual(['--json']);
    expect(await complete(['okta-connect', 'completion', ''])).toEqual(['bash', 'zsh', 'fish', '--help']);
  });
});
