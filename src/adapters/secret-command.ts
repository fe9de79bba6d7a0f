import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { SecretCommandOutcome, SecretCommandRunner } from '../connections/ports.js';

/** The most a secret command may print: a token is under 200 characters, a private key a few KiB. */
export const SECRET_OUTPUT_LIMIT = 64 * 1024;
/** How much of the command's stderr is kept to quote its last line in an error (all of it is passed through). */
const STDERR_TAIL_BYTES = 4096;
const MAX_STDERR_LINE = 300;

export interface SecretCommandOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Ours: the command's stderr is passed through, so a secret manager's prompt or error reaches the user. */
  stderr: Writable;
  platform: NodeJS.Platform;
  /** While the command runs, SIGINT/SIGTERM/SIGHUP stop it (and all it started) instead of leaving it behind. */
  trap: (handler: (signal: NodeJS.Signals) => void) => () => void;
  limitBytes?: number;
}

/**
 * The SecretCommandRunner over child processes. Not exec's spawning: this one reads the child's stdout as a secret.
 * The command is a process group of its own (a new session, so it cannot read the terminal either: stdin is closed
 * by contract), so that a timeout, a flood of output or a signal kills it and everything it started, leaving no orphan.
 */
export function processSecretCommandRunner(options: SecretCommandOptions): SecretCommandRunner {
  const limitBytes = options.limitBytes ?? SECRET_OUTPUT_LIMIT;
  const hasGroups = options.platform !== 'win32';
  const env = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    async run(argv, timeoutMs) {
      const [command = '', ...args] = argv;
      // Loaded on first use, not at start-up: every command without a secret command would pay for it. As exec's
      // child, it is found as a shell would find it (cross-spawn on Windows, for .cmd shims).
      const { spawnChild } = await import('./spawn-child.js');
      return new Promise<SecretCommandOutcome>((resolve) => {
        let child: ChildProcess;
        try {
          child = spawnChild(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: hasGroups, windowsHide: true }, options.platform);
        } catch (error) {
          resolve({ kind: 'cannot-run', why: error instanceof Error ? error.message : String(error) });
          return;
        }
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let stderrTail = Buffer.alloc(0);
        let isSettled = false;

        const killAll = (): void => {
          if (child.pid === undefined) return;
          try {
            if (hasGroups) process.kill(-child.pid, 'SIGKILL');
            else child.kill('SIGKILL');
          } catch {
            // Gone already.
          }
        };
        const settle = (outcome: SecretCommandOutcome, kill = false): void => {
          if (isSettled) return;
          isSettled = true;
          clearTimeout(timer);
          release();
          process.removeListener('exit', killAll);
          if (kill) {
            killAll();
            // A process that left our group may still hold the pipes: stop reading, and do not wait for it.
            child.stdout?.destroy();
            child.stderr?.destroy();
            child.unref();
          }
          resolve(outcome);
        };

        const timer = setTimeout(() => {
          settle({ kind: 'timed-out', timeoutMs }, true);
        }, timeoutMs);
        const release = options.trap(() => {
          settle({ kind: 'interrupted' }, true);
        });
        // Should okta-connect exit for any other reason while the command runs, the command goes with it.
        process.once('exit', killAll);

        child.stdout?.on('data', (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes > limitBytes) settle({ kind: 'too-large', limitBytes }, true);
          else stdout.push(chunk);
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          options.stderr.write(chunk);
          stderrTail = Buffer.concat([stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
        });
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') settle({ kind: 'not-found' });
          else settle({ kind: 'cannot-run', why: error.code === 'EACCES' ? 'permission denied' : (error.code ?? error.message) });
        });
        child.on('close', (code, signal) => {
          const lastStderrLine = lastLine(stderrTail);
          if (code === 0) settle({ kind: 'printed', stdout: Buffer.concat(stdout).toString('utf8').replace(/\r?\n$/, '') });
          else if (code !== null) settle({ kind: 'exited', code, lastStderrLine });
          else settle({ kind: 'killed', signal: signal ?? 'a signal', lastStderrLine });
        });
      });
    },
  };
}

/** The last non-empty line of what the command said on stderr, without control or escape characters, shortened. */
function lastLine(tail: Buffer): string | null {
  const lines = tail
    .toString('utf8')
    .split(/\r?\n|\r/)
    // eslint-disable-next-line no-control-regex -- removing terminal escapes is the point
    .map((line) => line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim())
    .filter((line) => line !== '');
  const last = lines.at(-1);
  if (last === undefined) return null;
  return last.length > MAX_STDERR_LINE ? `${last.slice(0, MAX_STDERR_LINE - 1)}…` : last;
}
