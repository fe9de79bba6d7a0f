import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { testTls } from '../fixtures/tls.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The binary users get. OKTA_CONNECT_BIN points the tests at an installed package instead. */
export const BIN = process.env.OKTA_CONNECT_BIN ?? join(ROOT, 'bin', 'okta-connect.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
}

/** A user's world for one test: a temporary HOME (config inside it), a temporary cwd and a scrubbed environment. */
export interface Sandbox {
  home: string;
  cwd: string;
  configDir: string;
  env: Record<string, string>;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Every file under HOME and cwd, with its content: for leak scans. */
  files(): { path: string; content: string }[];
}

/** A unique connection name, so tests sharing one keyring do not see each other. */
export function uniqueName(prefix = 'c'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function makeSandbox(): Sandbox {
  const home = mkdtempSync(join(tmpdir(), 'okta-connect-home-'));
  const cwd = mkdtempSync(join(tmpdir(), 'okta-connect-cwd-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    NO_COLOR: '1',
    NODE_EXTRA_CA_CERTS: testTls().caPath,
    LANG: 'C.UTF-8',
  };
  if (process.env.DBUS_SESSION_BUS_ADDRESS) env.DBUS_SESSION_BUS_ADDRESS = process.env.DBUS_SESSION_BUS_ADDRESS;
  const sandbox: Sandbox = {
    home,
    cwd,
    configDir: join(home, '.config', 'okta-connect'),
    env,
    run: (args, options = {}) => runBin(args, { cwd, ...options, env: { ...env, ...options.env } }),
    files: () => [...walk(home), ...walk(cwd)],
  };
  return sandbox;
}

function walk(dir: string): { path: string; content: string }[] {
  const out: { path: string; content: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else if (entry.isFile()) out.push({ path, content: readFileSync(path, 'latin1') });
  }
  return out;
}

export function runBin(args: string[], options: RunOptions & { env: Record<string, string | undefined>; cwd: string }): Promise<RunResult> {
  const started = performance.now();
  const env = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** What the real Secret Service holds for our service and this account, via secret-tool (not our code). */
export function secretToolLookup(name: string): string | undefined {
  try {
    return execFileSync('secret-tool', ['lookup', 'service', 'okta-connect', 'username', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

export function secretToolClear(name: string): void {
  execFileSync('secret-tool', ['clear', 'service', 'okta-connect', 'username', name], { stdio: 'ignore' });
}

export function fileMode(path: string): number {
  return statSync(path).mode & 0o777;
}

export const hasKeyring = (): boolean => process.env.DBUS_SESSION_BUS_ADDRESS !== undefined && process.env.OKTA_CONNECT_TEST_KEYRING === '1';
