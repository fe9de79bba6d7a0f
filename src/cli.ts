import { readFileSync } from 'node:fs';
import { createContext, type Context, type GlobalOptions, type Signals } from './context.js';
import { ExitCode } from './domain/errors.js';
import { run } from './main.js';

/** The only code that touches the process: streams, environment, signals and the exit code. */
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const argv = process.argv.slice(2);

// Ctrl-C or a kill while we work: every write is atomic and the keychain is written before the metadata (and undone if
// that fails), so stopping here leaves nothing half-written. Inquirer handles Ctrl-C at a prompt itself.
const traps = new Set<(signal: NodeJS.Signals) => void>();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (traps.size > 0) {
      for (const trap of traps) trap(signal);
      return;
    }
    process.stderr.write('\ninterrupted: nothing was left half-written\n');
    process.exit(ExitCode.interrupted);
  });
}
const signals: Signals = {
  trap(handler) {
    traps.add(handler);
    return () => traps.delete(handler);
  },
};

// A reader that goes away (okta-connect list | head -1) is not an error: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
    throw error;
  });
}

const makeContext = (globals: GlobalOptions): Context =>
  createContext({
    streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    env: { ...process.env },
    globals,
    version,
    signals,
  });
void run(argv, makeContext, version).then((code) => {
  process.exitCode = code;
});
