import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, ROOT, runProcess } from './harness.js';
import { startPty, type Pty } from './pty.js';

/** Real zsh and fish completing okta-connect command lines, each with the script installed where the README says. */

const ZSH_DRIVER = join(ROOT, 'test', 'fixtures', 'zsh-complete.zsh');

export function hasProgram(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)));
}

export interface ShellOptions {
  /** The environment of the shell (PATH with the okta-connect to complete for, HOME…). */
  env: Record<string, string>;
  cwd: string;
}

const sortedUnique = (words: string[]): string[] => [...new Set(words)].sort();

/**
 * What zsh's completion system offers after each of `lines` (typed as they are, quoting included), with `script` as
 * _okta-connect in a folder on $fpath: an interactive zsh in a pseudo-terminal (test/fixtures/zsh-complete.zsh).
 */
export async function zshOffers(script: string, lines: string[], options: ShellOptions): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-connect-zsh-'));
  try {
    writeFileSync(join(dir, '_okta-connect'), script);
    const out = join(dir, 'offers');
    const result = await runProcess('zsh', ['-f', ZSH_DRIVER, dir, out, ...lines], { ...options, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`the zsh driver failed:\n${describeRun(result)}`);
    const lists = readFileSync(out, 'utf8').split('\n');
    return lines.map((_, index) => sortedUnique((lists[index] ?? '').split('\0').filter((word) => word !== '')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** fish's config folder with the script where the README installs it: $XDG_CONFIG_HOME/fish/completions. */
export function installFishScript(configHome: string, script: string): void {
  mkdirSync(join(configHome, 'fish', 'completions'), { recursive: true });
  writeFileSync(join(configHome, 'fish', 'completions', 'okta-connect.fish'), script);
  writeFileSync(join(configHome, 'fish', 'config.fish'), "set -g fish_greeting\nfunction fish_prompt; printf 'fish> '; end\n");
}

/** What fish offers after each of `lines` (`complete -C`, descriptions dropped), its config under XDG_CONFIG_HOME. */
export async function fishOffers(lines: string[], options: ShellOptions): Promise<string[][]> {
  const END = '\u001e';
  const result = await runProcess('fish', ['-c', `for line in $argv; complete -C $line; printf '%s\\n' ${END}; end`, ...lines], { ...options, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`fish failed:\n${describeRun(result)}`);
  const lists = result.stdout.split(`${END}\n`);
  return lines.map((_, index) => sortedUnique((lists[index] ?? '').split('\n').filter((line) => line !== '').map((line) => line.split('\t')[0] ?? '')));
}

/**
 * An interactive zsh in a real terminal (tmux), its ZDOTDIR's .zshrc loading compinit with `script` on $fpath: Tab
 * does what it does for a user (expand-or-complete), nothing wrapped.
 */
export function startZsh(script: string, options: ShellOptions & { zdotdir: string }): Promise<Pty> {
  mkdirSync(join(options.zdotdir, 'functions'), { recursive: true });
  writeFileSync(join(options.zdotdir, 'functions', '_okta-connect'), script);
  writeFileSync(join(options.zdotdir, '.zshrc'), ["fpath=(\"$ZDOTDIR/functions\" $fpath)", 'autoload -Uz compinit && compinit -u', "PS1='zsh> '", ''].join('\n'));
  return startPty({ env: { ...options.env, ZDOTDIR: options.zdotdir, TERM: 'screen' }, cwd: options.cwd, command: ['zsh', '-d', '-i'] });
}

/** An interactive fish in a real terminal (tmux), its config (with the script) under the env's XDG_CONFIG_HOME. */
export function startFish(options: ShellOptions): Promise<Pty> {
  return startPty({ env: { ...options.env, TERM: 'screen' }, cwd: options.cwd, command: ['fish', '-i'] });
}
