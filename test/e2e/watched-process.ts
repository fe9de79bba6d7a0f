import { spawn, type ChildProcess } from 'node:child_process';
import type { RunResult } from './harness.js';

/** A process a test signals while it runs: its output so far, its exit, and a way to make sure it is gone. */
export interface WatchedProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves on exit (not on 'close': a child of it may still hold the pipes), with what it printed by then. */
  exited: Promise<RunResult>;
  output(): { stdout: string; stderr: string };
  /** Waits for `isReady` (polled every 10 ms) while the process runs; false if it exited or `timeoutMs` passed first. */
  waitUntil(isReady: () => boolean, timeoutMs: number): Promise<boolean>;
  /** SIGKILL, if it still runs; for `finally`. */
  dispose(): void;
}

export function startWatched(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; input?: string },
): WatchedProcess {
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input);
  const exited = new Promise<RunResult>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut: false });
    });
  });
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? 0,
    exited,
    output: () => ({ stdout, stderr }),
    async waitUntil(isReady, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!isReady()) {
        if (!isRunning() || Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return true;
    },
    dispose() {
      if (isRunning()) child.kill('SIGKILL');
    },
  };
}

/** `exited`, or undefined if it has not exited within `ms`. */
export function exitWithin(watched: WatchedProcess, ms: number): Promise<RunResult | undefined> {
  return Promise.race([watched.exited, new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, ms))]);
}
