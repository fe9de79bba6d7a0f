import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHELLS, commandSpecs, powershellScript, type CommandSpec } from '../../src/commands/completion.js';
import { run } from '../../src/main.js';
import { buildProgram } from '../../src/program.js';
import { fakeContext } from '../fakes/context.js';

const SPECS: CommandSpec[] = [
  { name: 'test', description: 'test saved connections', flags: ['--name', '-n', '--all', '--help'] },
  { name: 'exec', description: "run a command with the connection's credentials", flags: ['--name', '-n', '--help'] },
  { name: 'token', description: 'a ‘typographic’ quote', flags: ['--name', '--help'] },
  { name: 'completion', description: '', flags: ['bash', 'powershell', '--help'] },
];

/** PowerShell's grammar (tree-sitter, WebAssembly): a syntax check on machines without PowerShell. */
let parser: Parser;
beforeAll(async () => {
  await Parser.init();
  parser = new Parser();
  parser.setLanguage(await Language.load(createRequire(import.meta.url).resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));
});

function syntaxErrors(script: string): string[] {
  const tree = parser.parse(script);
  const errors: string[] = [];
  const walk = (node: Node): void => {
    if (node.isError || node.isMissing) errors.push(`${node.type} at ${String(node.startPosition.row + 1)}: ${node.text.slice(0, 60)}`);
    for (const child of node.children) if (child) walk(child);
  };
  if (tree) walk(tree.rootNode);
  return errors;
}

async function printed(shell: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const ctx = fakeContext();
  const code = await run(['completion', shell], () => ctx, ctx.version);
  return { code, stdout: ctx.out.text(), stderr: ctx.err.plain() };
}

describe('completion powershell', () => {
  it('is one of the shells, and the completion command completes it as a word', async () => {
    expect(SHELLS).toContain('powershell');
    const bash = await printed('bash');
    expect(bash.stdout).toMatch(/completion\) _okta_connect_match < <\(printf '%s\\n' bash zsh fish powershell --help\)/);
    expect((await printed('nushell')).stderr).toMatch(/hint: use one of: bash, zsh, fish, powershell/);
  });

  it('prints a native argument completer for okta-connect and its npm shims, with every command and flag', async () => {
    const { code, stdout, stderr } = await printed('powershell');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Register-ArgumentCompleter -Native -CommandName 'okta-connect', 'okta-connect.cmd', 'okta-connect.ps1' -ScriptBlock \{$/m);
    for (const command of ['add', 'test', 'list', 'remove', 'exec', 'token', 'doctor', 'completion']) {
      expect(stdout).toMatch(new RegExp(`^    '${command}' = @\\('`, 'm'));
    }
    expect(stdout).toMatch(/^ {4}'test' = @\('--name', '-n', '--all', '-a', '--json', '--timeout', '--secret-timeout', '--help'\)$/m);
    expect(stdout).toContain("$words[-1] -in '--name', '-n'");
    expect(stdout).toContain('okta-connect __complete-names');
  });

  it('quotes every word for PowerShell: apostrophes and typographic quotes are doubled', () => {
    const script = powershellScript(SPECS);
    expect(script).toContain("'exec' = 'run a command with the connection''s credentials'");
    expect(script).toContain("'token' = 'a ‘‘typographic’’ quote'");
    // A command without a description shows its name.
    expect(script).toContain("'completion' = 'completion'");
  });

  it('parses as PowerShell (the control: the same script with one quote not doubled does not)', async () => {
    const script = (await printed('powershell')).stdout;
    expect(syntaxErrors(script)).toEqual([]);
    expect(syntaxErrors(powershellScript(SPECS))).toEqual([]);
    expect(syntaxErrors(script.replace("connection''s", "connection's"))).not.toEqual([]);
  });
});

// Where PowerShell is installed (GitHub's ubuntu, macOS and Windows runners have pwsh): complete for real.
const pwsh = ['pwsh', 'powershell'].find((name) => spawnSync(name, ['-NoProfile', '-Command', 'exit 0'], { stdio: 'ignore' }).status === 0);

describe.runIf(pwsh !== undefined)('completion powershell in PowerShell', () => {
  let folder: string;
  let scriptFile: string;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'okta-connect-pwsh-'));
    scriptFile = join(folder, 'okta-connect-completion.ps1');
    writeFileSync(scriptFile, (await printed('powershell')).stdout);
    // A stand-in okta-connect on PATH that knows two saved names.
    if (process.platform === 'win32') {
      writeFileSync(join(folder, 'okta-connect.cmd'), '@if "%1"=="__complete-names" (echo prod& echo preview)\r\n');
    } else {
      writeFileSync(join(folder, 'okta-connect'), '#!/bin/sh\n[ "$1" = __complete-names ] && printf "prod\\npreview\\n"\n');
      chmodSync(join(folder, 'okta-connect'), 0o755);
    }
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  /** What PowerShell offers for a command line with the cursor at its end. */
  function complete(line: string): string[] {
    const command = `. '${scriptFile}'; (TabExpansion2 -inputScript '${line}' -cursorColumn ${String(line.length)}).CompletionMatches | ForEach-Object { $_.CompletionText }`;
    const stdout = execFileSync(pwsh ?? 'pwsh', ['-NoProfile', '-NonInteractive', '-Command', command], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${folder}${delimiter}${process.env.PATH ?? ''}` },
    });
    return stdout.split(/\r?\n/).filter((word) => word !== '').sort();
  }

  it('completes commands, flags, saved names and shells', () => {
    expect(complete('okta-connect te')).toEqual(['test']);
    expect(complete('okta-connect ')).toEqual(expect.arrayContaining(['add', 'completion', 'list', '--version']));
    expect(complete('okta-connect test --a')).toEqual(['--all']);
    expect(complete('okta-connect test --name ')).toEqual(['preview', 'prod']);
    expect(complete('okta-connect exec -n pr')).toEqual(['preview', 'prod']);
    expect(complete('okta-connect completion p')).toEqual(['powershell']);
  });
});

describe('bash completion, run by bash', () => {
  /** COMPREPLY for a command line whose last word is being completed; saved names are prod and dev. */
  async function complete(...words: string[]): Promise<string[]> {
    const { stdout: script } = await printed('bash');
    const { execFileSync } = await import('node:child_process');
    const driver = `${script}
okta-connect() { printf '%s\\n' prod dev; }
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _okta_connect; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', driver, 'bash', ...words], { encoding: 'utf8' }).split('\n').filter((line) => line !== '');
  }

  it('finds the command after global flags', async () => {
    expect(await complete('okta-connect', '--no-color', 'te')).toEqual(['test']);
    expect(await complete('okta-connect', '--quiet', 'test', '')).toEqual(['prod', 'dev']);
  });

  it('completes names after --name=, and as the positional name', async () => {
    expect(await complete('okta-connect', 'test', '--name', '=', 'p')).toEqual(['prod']);
    expect(await complete('okta-connect', 'token', '')).toEqual(['prod', 'dev']);
    expect(await complete('okta-connect', 'token', 'prod', '')).toEqual(['--name', '-n', '--timeout', '--secret-timeout', '--help']);
  });

  it('offers no saved names after add --name (a new name is wanted)', async () => {
    expect(await complete('okta-connect', 'add', '--name', '')).toEqual([]);
  });

  it('skips the value of a flag: nothing offered for it (files for a key file), names still after it', async () => {
    expect(await complete('okta-connect', 'test', '--timeout', '')).toEqual([]);
    expect(await complete('okta-connect', 'test', '--timeout', '5', '')).toEqual(['prod', 'dev']);
    expect(await complete('okta-connect', 'rotate', '--key-type', '=', 'rsa', '')).toEqual(['prod', 'dev']);
    expect(await complete('okta-connect', 'add', '--oauth', '--private-key-file', '/bi')).toEqual(['/bin']);
  });

  it('offers the flags of a command after its alias', async () => {
    expect(await complete('okta-connect', 'rm', '--y')).toEqual(['--yes']);
    expect(await complete('okta-connect', 'ls', '--')).toEqual(['--json', '--help']);
  });

  it('offers commands, then files, after exec <name> --', async () => {
    expect(await complete('okta-connect', 'exec', 'prod', '--', 'bas')).toContain('bash');
    expect(await complete('okta-connect', 'exec', 'prod', '--', 'ls', '/bi')).toEqual(['/bin']);
  });

  it('offers commands, then files, after add --secret-command --', async () => {
    expect(await complete('okta-connect', 'add', 'prod', '--secret-command', '--', 'bas')).toContain('bash');
    expect(await complete('okta-connect', 'add', 'prod', '--secret-command', '--', 'cat', '/bi')).toEqual(['/bin']);
  });
});

describe('the command specs the scripts are made from', () => {
  const ctx = fakeContext();
  const specs = commandSpecs(buildProgram(() => ctx, ctx.version, []));
  const spec = (name: string): CommandSpec | undefined => specs.find((one) => one.name === name);

  it('know the aliases, the flags that take a value and those whose value is a file', () => {
    expect(spec('remove')?.aliases).toEqual(['rm']);
    expect(spec('list')?.aliases).toEqual(['ls']);
    expect(spec('test')?.values).toEqual(['--name', '-n', '--timeout', '--secret-timeout']);
    expect(spec('rotate')?.files).toEqual(['--private-key-file']);
    expect(spec('add')?.files).toEqual(['--private-key-file']);
    expect(specs.some((one) => one.name.startsWith('__'))).toBe(false);
  });

  // fish's script skips the value after any flag of the union: that is right only while no flag is both.
  it('a flag takes a value in every command that has it, or in none', () => {
    const takes = new Map<string, Set<boolean>>();
    for (const one of specs) for (const flag of one.flags.filter((word) => word.startsWith('-'))) takes.set(flag, (takes.get(flag) ?? new Set()).add(one.values?.includes(flag) ?? false));
    expect([...takes].filter(([, kinds]) => kinds.size > 1).map(([flag]) => flag)).toEqual([]);
  });
});
