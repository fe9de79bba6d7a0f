import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import { createContext, type Context, type GlobalOptions, type Signals } from './context.js';
import { ExitCode } from './domain/errors.js';
import { run } from './main.js';

/** The only code that touches the process: streams, environment, signals and the exit code. */
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const argv = process.argv.slice(2);

// Ctrl-C or a kill while we work ends the process at once, with 130, unless a command traps the signal (exec forwards
// it to its child) or a write is in progress. Outside a critical section nothing is half-written: every file write is
// atomic, and a lock file of ours is removed on exit. Inside one (the store's keychain + metadata writes), the signal
// waits until the write has committed or rolled back; then we exit and say which. Inquirer handles Ctrl-C at a prompt.
const traps = new Set<(signal: NodeJS.Signals) => void>();
/** In a terminal, the current line (a spinner's, or ^C) erased; elsewhere a line break so the message starts a line. */
const clearLine = (): string => (process.stderr.isTTY ? '\r\u001b[2K' : '\n');
let openSections = 0;
let deferred: NodeJS.Signals | undefined;
// SIGQUIT (Ctrl-\) too, always: its default action is a core dump, and this process's memory may hold a token.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
  process.on(signal, () => {
    if (traps.size > 0) {
      for (const trap of traps) trap(signal);
      return;
    }
    if (openSections > 0) {
      if (deferred === undefined) process.stderr.write(`${clearLine()}interrupted: finishing the write in progress first, so that nothing is left half-written…\n`);
      deferred ??= signal;
      return;
    }
    // The usual error line, on a line of its own: a spinner's line is cleared first, not left with the message after it.
    process.stderr.write(`${clearLine()}error: interrupted: nothing was left half-written\nhint: run the command again when ready\n`);
    process.exit(ExitCode.interrupted);
  });
}
// While a command traps signals (exec, for its child), these are trapped too: left to their defaults they kill
// okta-connect and orphan the child (SIGUSR1 would open Node's inspector, a debugger into a process holding a token).
const TRAPPED_ONLY_WHILE_TRAPPING = ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR'].filter(
  (signal): signal is NodeJS.Signals => process.platform !== 'win32' && signal in constants.signals,
);
const toTraps = (signal: NodeJS.Signals): void => {
  for (const trap of traps) trap(signal);
};
const signals: Signals = {
  trap(handler) {
    if (traps.size === 0) for (const signal of TRAPPED_ONLY_WHILE_TRAPPING) process.on(signal, toTraps);
    traps.add(handler);
    return () => {
      traps.delete(handler);
      if (traps.size === 0) for (const signal of TRAPPED_ONLY_WHILE_TRAPPING) process.off(signal, toTraps);
    };
  },
  async critical(work, says) {
    // An object, so the compiler does not narrow it to its initial values (enter() runs inside `work`).
    const section = { isOpen: false, isDone: false };
    try {
      const value = await work({
        enter() {
          if (section.isOpen) return;
          section.isOpen = true;
          openSections += 1;
        },
        isInterrupted: () => deferred !== undefined,
      });
      section.isDone = true;
      return value;
    } finally {
      if (section.isOpen) {
        openSections -= 1;
        if (deferred !== undefined && openSections === 0) {
          process.stderr.write(`interrupted: ${says(section.isDone)}\n`);
          process.exit(ExitCode.interrupted);
        }
      }
    }
  },
};

// A reader that goes away (okta-connect list | head -1) is not an error: stop quietly, as Unix tools do. Output that
// cannot be written (okta-connect token > /dev/full: ENOSPC, EIO, EBADF) is the user's environment, not a bug: exit 2,
// once the command is done (so nothing it writes is cut short), with one error line on stderr if stderr still works.
let outputFailure: { stream: 'stdout' | 'stderr'; error: NodeJS.ErrnoException } | undefined;
let exitCode: number | undefined;
let isOutputFailureReported = false;
function reportOutputFailure(): void {
  // A command that failed has said why already; a failure to write is reported only when nothing else went wrong.
  if (outputFailure === undefined || exitCode !== ExitCode.ok || isOutputFailureReported) return;
  isOutputFailureReported = true;
  if (outputFailure.stream === 'stdout') {
    process.stderr.write(
      `error: cannot write the output (stdout): ${outputFailure.error.message}\nhint: check where stdout goes: the disk may be full, or the file or device not writable\n`,
    );
  }
  process.exitCode = ExitCode.usage;
}
for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
    outputFailure ??= { stream: name, error };
    if (exitCode !== undefined) reportOutputFailure();
  });
}

const makeContext = (globals: GlobalOptions): Context =>
  createContext({
    streams: {
      get stdin() {
        return process.stdin;
      },
      stdout: process.stdout,
      stderr: process.stderr,
      isStdinTTY: isatty(0),
    },
    env: { ...process.env },
    globals,
    version,
    signals,
  });

void run(argv, makeContext, version).then((code) => {
  exitCode = code;
  process.exitCode = code;
  // A write's error is emitted on a later tick than the write: look once those have run (and again if one comes later).
  setImmediate(reportOutputFailure);
});
