import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
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

const WINDOWS_VARIABLES = ['SystemRoot', 'SystemDrive', 'windir', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'USERNAME'];

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
  // Windows runs nothing without these (Node and Credential Manager need the system folder and the user's profile).
  for (const key of WINDOWS_VARIABLES) if (process.platform === 'win32' && process.env[key] !== undefined) env[key] = process.env[key];
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

// ---- Helpers for the command, fault and hygiene tests --------------------------------------------------------------

/** A D-Bus address where nothing listens: the "no Secret Service reachable" world of a headless machine. */
export const UNREACHABLE_DBUS = 'unix:path=/nonexistent/okta-connect-test-bus';

/** A loopback port that nothing listens on (bound, then released): "connection refused". */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', () => { resolvePromise(); }));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolvePromise) => server.close(() => { resolvePromise(); }));
  return port;
}

/** connections.json as stored, the token-free metadata. */
export interface StoredConnection {
  name: string;
  orgUrl: string;
  createdAt: string;
  owner: { id: string; login: string | null; status?: string | null } | null;
  lastTest: { at: string; ok: boolean; code: number; latencyMs: number } | null;
  lastUsedAt: string | null;
}

export interface StoredFile {
  version: number;
  connections: StoredConnection[];
}

export function connectionsPath(sandbox: Pick<Sandbox, 'configDir'>): string {
  return join(sandbox.configDir, 'connections.json');
}

/** The metadata file, parsed; undefined when it does not exist. */
export function readConnections(sandbox: Pick<Sandbox, 'configDir'>): StoredFile | undefined {
  const path = connectionsPath(sandbox);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as StoredFile;
}

export function storedConnection(sandbox: Pick<Sandbox, 'configDir'>, name: string): StoredConnection | undefined {
  return readConnections(sandbox)?.connections.find((connection) => connection.name === name);
}

/** Lines of a text that start with `prefix`. */
export function linesStarting(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

/** Lines that look like a JavaScript stack frame ("    at fn (file.js:1:2)"). */
export function stackFrames(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s\S/.test(line));
}

/**
 * The contract's error format: exactly one `error:` line and one `hint:` line on stderr, no stack trace, nothing on
 * stdout unless `stdoutAllowed`. Returns the error line for further checks.
 */
export function expectCleanFailure(result: RunResult, code: number, options: { stdoutAllowed?: boolean } = {}): string {
  const context = `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  expect(result.code, context).toBe(code);
  const errors = linesStarting(result.stderr, 'error: ');
  expect(errors, context).toHaveLength(1);
  expect(linesStarting(result.stderr, 'hint: ').length, context).toBeGreaterThanOrEqual(1);
  expect(stackFrames(result.stderr), context).toEqual([]);
  if (options.stdoutAllowed !== true) expect(result.stdout, context).toBe('');
  return errors[0] ?? '';
}

/** Where a secret (or a 16-character piece of it) shows up: outputs and every file under HOME and cwd. */
export function findLeaks(secret: string, sandbox: Sandbox, results: RunResult[] = []): string[] {
  const pieces = [secret, secret.slice(2, 18), secret.slice(-16)];
  const places = [
    ...results.flatMap((result, index) => [
      { where: `run ${String(index)} stdout`, content: result.stdout },
      { where: `run ${String(index)} stderr`, content: result.stderr },
    ]),
    ...sandbox.files().map((file) => ({ where: file.path, content: file.content })),
  ];
  return places.filter((place) => pieces.some((piece) => place.content.includes(piece))).map((place) => place.where);
}

/** These tests assert what the real Secret Service holds: without it they would prove nothing, so they fail instead. */
export function requireKeyring(): void {
  expect(hasKeyring(), 'run the e2e tests through test/run-with-keyring.sh (a D-Bus session with gnome-keyring)').toBe(true);
}

/** Remove a sandbox's folders (call when a describe is done). */
export function disposeSandbox(sandbox: Pick<Sandbox, 'home' | 'cwd'>): void {
  rmSync(sandbox.home, { recursive: true, force: true });
  rmSync(sandbox.cwd, { recursive: true, force: true });
}

/** A forward proxy that only speaks CONNECT (what HTTPS_PROXY is used for), recording each tunnel's target. */
export interface ConnectProxy {
  url: string;
  /** `host:port` of every tunnel asked for. */
  connects: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req: { url?: string }, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    const colon = target.lastIndexOf(':');
    const upstream = netConnect(Number(target.slice(colon + 1)), target.slice(0, colon), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', () => { resolvePromise(); }));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    connects,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolvePromise) => server.close(() => { resolvePromise(); }));
    },
  };
}

/** A run's exit code and output, for assertion messages. */
export function describeRun(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'> & { signal?: NodeJS.Signals | null }): string {
  const signal = result.signal ? ` signal ${result.signal}` : '';
  return `exit ${String(result.code)}${signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
