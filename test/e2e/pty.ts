import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Printed by the launcher through the pty after the command ends, so the raw log is known to be complete. */
const SENTINEL = '[pty: command ended]';

/** tmux key names this driver sends (see "KEY BINDINGS" in tmux(1)). */
export type Key = 'Enter' | 'C-c' | 'C-u' | 'Down' | 'Up' | 'BSpace' | 'Tab';

export interface PtyOptions {
  /** The whole environment of the command: nothing else is inherited. */
  env: Record<string, string>;
  cwd: string;
  /** argv, starting with the program. */
  command: string[];
  width?: number;
  height?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Wait until the text occurs at least this many times on the screen (history included). */
  count?: number;
}

/** A command running in a real pseudo-terminal (a detached tmux session). */
export interface Pty {
  /** Poll the screen until `pattern` shows; returns the screen. Fails early if the command ends without it. */
  waitFor(pattern: string | RegExp, options?: WaitOptions): Promise<string>;
  /** Type text literally, as a paste would. */
  type(text: string): Promise<void>;
  press(...keys: Key[]): Promise<void>;
  /** The screen as the user sees it, scrollback included, wrapped lines joined. */
  screen(): Promise<string>;
  /** Whether the command is still running. */
  isRunning(): boolean;
  /** The command's exit code, once it ends. */
  exitCode(timeoutMs?: number): Promise<number>;
  /** Every byte the terminal was sent (by the command, and any echo of the line discipline), once the command ended. */
  rawOutput(timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

const live = new Set<Pty>();

/** Stop every pty still open (for afterEach/afterAll). */
export async function closeAllPtys(): Promise<void> {
  await Promise.all([...live].map((pty) => pty.close()));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function countMatches(text: string, pattern: string | RegExp): number {
  if (typeof pattern === 'string') return pattern === '' ? 0 : text.split(pattern).length - 1;
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  return [...text.matchAll(new RegExp(pattern.source, flags))].length;
}

export async function startPty(options: PtyOptions): Promise<Pty> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-connect-pty-'));
  // A private server per pty, its socket inside the temporary folder: nothing is left behind in /tmp/tmux-<uid>.
  const socket = join(dir, 'tmux.sock');
  const go = join(dir, 'go');
  const exitFile = join(dir, 'exit');
  const rawLog = join(dir, 'raw.log');
  const conf = join(dir, 'tmux.conf');
  const launcher = join(dir, 'launch.sh');

  writeFileSync(conf, ['set -g remain-on-exit on', 'set -g status off', 'set -g history-limit 20000', 'set -sg escape-time 0', ''].join('\n'));
  const envArgs = Object.entries(options.env).map(([key, value]) => shellQuote(`${key}=${value}`));
  writeFileSync(
    launcher,
    [
      '#!/bin/bash',
      // A trap (not an ignore) so the child gets default SIGINT handling, and this script survives to record its code.
      'trap : INT',
      `while [ ! -e ${shellQuote(go)} ]; do sleep 0.02; done`,
      `cd ${shellQuote(options.cwd)} || exit 99`,
      `env -i ${envArgs.join(' ')} ${options.command.map(shellQuote).join(' ')}`,
      'code=$?',
      `printf '%s' "$code" > ${shellQuote(`${exitFile}.tmp`)} && mv ${shellQuote(`${exitFile}.tmp`)} ${shellQuote(exitFile)}`,
      `printf '\\n%s\\n' ${shellQuote(SENTINEL)}`,
      '',
    ].join('\n'),
    { mode: 0o700 },
  );

  const tmux = async (...args: string[]): Promise<string> => (await exec('tmux', ['-S', socket, ...args], { encoding: 'utf8' })).stdout;
  await exec('tmux', [
    '-S', socket, '-f', conf, '-u', 'new-session', '-d', '-s', 'main',
    '-x', String(options.width ?? 200), '-y', String(options.height ?? 50), `bash ${shellQuote(launcher)}`,
  ]);
  // Log the raw output before the command starts, so nothing it writes escapes the leak checks.
  await tmux('pipe-pane', '-t', 'main', '-o', `cat >> ${shellQuote(rawLog)}`);
  writeFileSync(go, '');

  let isClosed = false;
  const isRunning = (): boolean => !existsSync(exitFile);
  const screen = async (): Promise<string> => tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'main');

  const pty: Pty = {
    async waitFor(pattern, { timeoutMs = 30_000, count = 1 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hasEnded = !isRunning();
        const text = await screen();
        if (countMatches(text, pattern) >= count) return text;
        if (hasEnded || Date.now() > deadline) {
          const why = hasEnded ? `the command ended (exit ${readFileSync(exitFile, 'utf8')})` : `${String(timeoutMs)} ms passed`;
          throw new Error(`waitFor ${String(pattern)} (x${String(count)}): ${why}; the screen:\n${text}`);
        }
        await sleep(50);
      }
    },
    async type(text) {
      // Hex bytes: nothing in the text can be read as a tmux key name or command separator.
      await tmux('send-keys', '-t', 'main', '-H', ...[...Buffer.from(text, 'utf8')].map((byte) => byte.toString(16).padStart(2, '0')));
    },
    async press(...keys) {
      await tmux('send-keys', '-t', 'main', ...keys);
    },
    screen,
    isRunning,
    async exitCode(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (isRunning()) {
        if (Date.now() > deadline) throw new Error(`the command did not end within ${String(timeoutMs)} ms; the screen:\n${await screen()}`);
        await sleep(50);
      }
      return Number(readFileSync(exitFile, 'utf8'));
    },
    async rawOutput(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = existsSync(rawLog) ? readFileSync(rawLog, 'utf8') : '';
        if (text.includes(SENTINEL)) return text;
        if (Date.now() > deadline) throw new Error(`the raw log did not complete within ${String(timeoutMs)} ms`);
        await sleep(50);
      }
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      live.delete(pty);
      await tmux('kill-server').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(pty);
  return pty;
}
