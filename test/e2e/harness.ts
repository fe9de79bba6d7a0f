import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, onTestFinished } from 'vitest';
import { startFakeOkta, type FakeOkta, type FakeOktaOptions } from '../fixtures/fake-okta.js';
import { testTls } from '../fixtures/tls.js';
import { closeAllPtys, startPty, type Pty } from './pty.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The binary users get. OKTA_CONNECT_BIN points the tests at an installed package instead. */
export const BIN = process.env.OKTA_CONNECT_BIN ?? join(ROOT, 'bin', 'okta-connect.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed at its time bound: it waited (on stdin, a lock…) instead of answering. */
  timedOut: boolean;
}

export interface RunOptions {
  /** stdin's whole content; stdin is closed at once (empty) when neither this nor keepStdinOpen is given. */
  input?: string;
  /** Leave stdin a pipe that is never closed: a command that should not read it must exit anyway. */
  keepStdinOpen?: boolean;
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

/** What every run of a sandbox gets unless the run says otherwise. */
export interface SandboxOptions {
  /** Added to the scrubbed environment. */
  env?: Record<string, string>;
  /** The kill bound of each run (runBin's default otherwise). */
  timeoutMs?: number;
}

/** A generous keychain timeout: the default 10 s is tight on this shared, loaded machine. */
export const BASE_ENV: Record<string, string> = { OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: '60000' };
/** The machine is shared and loaded: one spawn of the CLI may take many seconds. A hang still fails. */
export const RUN_TIMEOUT_MS = 120_000;
/** For a test (or hook) that spawns the CLI several times. */
export const LONG = 400_000;
/** A sandbox whose every run allows for the load: BASE_ENV and RUN_TIMEOUT_MS. */
export const UNDER_LOAD: SandboxOptions = { env: BASE_ENV, timeoutMs: RUN_TIMEOUT_MS };

/** `add` with the token on stdin: how scripts, and these tests, save a connection. */
export function addArgs(name: string, orgUrl: string, ...extra: string[]): string[] {
  return ['add', '--name', name, '--org-url', orgUrl, '--token-stdin', ...extra];
}

/** A unique connection name, so the tests of a file, which share its keyring, do not see each other's. */
export function uniqueName(prefix = 'c'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

const WINDOWS_VARIABLES = ['SystemRoot', 'SystemDrive', 'windir', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'USERNAME'];

export function makeSandbox(options: SandboxOptions = {}): Sandbox {
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
  Object.assign(env, options.env);
  const sandbox: Sandbox = {
    home,
    cwd,
    configDir: join(home, '.config', 'okta-connect'),
    env,
    run: (args, runOptions = {}) => runBin(args, { cwd, timeoutMs: options.timeoutMs, ...runOptions, env: { ...env, ...runOptions.env } }),
    files: () => [...walk(home), ...walk(cwd)],
  };
  return sandbox;
}

// ---- Fixtures for a describe (or a whole file) ---------------------------------------------------------------------

/**
 * A value made in beforeAll and ended in afterAll, declared once in a describe's body: the returned handle forwards
 * every property read and write to the value of the moment, and throws when used outside that describe's tests and hooks.
 */
export function useFixture<T extends object>(what: string, make: () => T | Promise<T>, end: (value: T) => void | Promise<void>, timeoutMs?: number): T {
  let current: T | undefined;
  beforeAll(async () => {
    current = await make();
  }, timeoutMs);
  afterAll(async () => {
    const value = current;
    current = undefined;
    if (value !== undefined) await end(value);
  }, timeoutMs);
  const now = (): T => {
    if (current === undefined) throw new Error(`${what} exists only from beforeAll to afterAll of the describe that declares it`);
    return current;
  };
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(now(), key) as unknown,
    set: (_target, key, value) => Reflect.set(now(), key, value),
  });
}

/** A sandbox for the tests of this describe (or file), removed after them. */
export function useSandbox(options: SandboxOptions = {}): Sandbox {
  return useFixture('the sandbox', () => makeSandbox(options), disposeSandbox);
}

/** A sandbox for the running test alone (call it inside the test), removed when the test ends, passed or failed. */
export function sandboxForTest(options: SandboxOptions = {}): Sandbox {
  const sandbox = makeSandbox(options);
  onTestFinished(() => {
    disposeSandbox(sandbox);
  });
  return sandbox;
}

/**
 * A fake Okta org for the tests of this describe (or file), closed after them. With `resetAfterEach`, what a test
 * turns (behaviour, delay, rate-limit headroom, redirect target) is set back after every test.
 */
export function useFakeOkta(options: FakeOktaOptions & { resetAfterEach?: boolean } = {}): FakeOkta {
  const fake = useFixture('the fake Okta', () => startFakeOkta(options), (started) => started.close());
  if (options.resetAfterEach === true) {
    afterEach(() => {
      fake.reset();
    });
  }
  return fake;
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
  return runProcess(process.execPath, [BIN, ...args], options);
}

/** Any program (the CLI, bash, zsh…) with exactly `env`, its output captured, killed at `timeoutMs` (default 30 s). */
export function runProcess(command: string, args: string[], options: RunOptions & { env: Record<string, string | undefined>; cwd: string }): Promise<RunResult> {
  const started = performance.now();
  const env = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
    // The child may exit before reading all of a large input: EPIPE is expected then.
    child.stdin.on('error', () => undefined);
    if (options.keepStdinOpen === true) return;
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export function fileMode(path: string): number {
  return statSync(path).mode & 0o777;
}

// ---- The Secret Service, seen through secret-tool (not our code) -----------------------------------------------------

/** Whether this run has the real Secret Service of test/run-with-keyring.sh. */
export const hasKeyring = (): boolean => process.env.DBUS_SESSION_BUS_ADDRESS !== undefined && process.env.OKTA_CONNECT_TEST_KEYRING === '1';

/** secret-tool on the test file's session bus (its keyring), or on the bus that `env` names. */
function secretTool(args: string[], env?: Record<string, string>): string {
  return execFileSync('secret-tool', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** What the real Secret Service holds for our service and this account. */
export function secretToolLookup(name: string, env?: Record<string, string>): string | undefined {
  try {
    return secretTool(['lookup', 'service', 'okta-connect', 'username', name], env);
  } catch {
    return undefined;
  }
}

export function secretToolClear(name: string, env?: Record<string, string>): void {
  secretTool(['clear', 'service', 'okta-connect', 'username', name], env);
}

/**
 * Remove these names' entries from the test file's keyring, which all its tests share (keyring-per-file.ts): for a
 * test or describe whose entries the file's later or concurrent tests must not meet (as orphans to doctor, or in a
 * search of the keyring). Nothing needs removing at the end of a file: its keyring is deleted then. Absent entries are
 * fine (secret-tool fails then). Asynchronous, so concurrent tests in the same worker are not held up.
 */
export async function forgetSecrets(names: Iterable<string>): Promise<void> {
  for (const name of names) {
    await new Promise<void>((resolvePromise) => {
      execFile('secret-tool', ['clear', 'service', 'okta-connect', 'username', name], { encoding: 'utf8' }, () => {
        resolvePromise();
      });
    });
  }
}

/** A private D-Bus session with its own unlocked gnome-keyring: no entry of the file's other tests in it. */
export interface PrivateKeyring {
  address: string;
  lookup(name: string): string | undefined;
  /** The accounts of every item of our service (secret-tool search --all). */
  accounts(): string[];
  clear(name: string): void;
  /** secret-tool store, as another program would write our entry. */
  store(name: string, secret: string): void;
  /** kill -STOP its dbus-daemon: connections are still accepted (the kernel queues them), nothing is answered. */
  pauseBus(): void;
  /** kill -CONT it (harmless when it runs); stop() does it too. */
  resumeBus(): void;
  /** gnome-keyring-daemon's pid. */
  daemonPid: number | undefined;
  /** How the daemon ended before stop() (signal or exit code, and the last of its stderr), or undefined while it runs. */
  death(): string | undefined;
  stop(): Promise<void>;
}

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-connect-keyring-'));
  const home = join(dir, 'home');
  const runtime = join(dir, 'run');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(runtime, { mode: 0o700 });
  const children: ChildProcess[] = [];
  const signal = (child: ChildProcess | undefined, name: NodeJS.Signals): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, name);
  };
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) {
      signal(child, 'SIGCONT');
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
        process.kill(child.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((resolvePromise) => setTimeout(resolvePromise, 5_000))]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(bus);
    let printed = '';
    bus.stdout.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
    await waitFor('dbus-daemon', () => printed.includes('\n') || bus.exitCode !== null, 30_000);
    const address = printed.split('\n')[0]?.trim() ?? '';
    expect(address).toMatch(/^unix:/);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: address };
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    children.push(keyring);
    // What it says as it dies (gnome-keyring 42 aborts with a GLib-ERROR line): the last 2 KiB.
    let said = '';
    keyring.stderr.setEncoding('utf8').on('data', (chunk: string) => (said = (said + chunk).slice(-2048)));
    let isStopping = false;
    keyring.stdin.end('private-test-keyring');
    // Wait until it owns the Secret Service name (NameHasOwner does not activate a second daemon).
    const owned = (): boolean => {
      try {
        return execFileSync(
          'dbus-send',
          ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'],
          { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        ).includes('boolean true');
      } catch {
        return false;
      }
    };
    await waitFor('gnome-keyring-daemon on the private bus', () => owned() || keyring.exitCode !== null, 60_000);
    expect(keyring.exitCode, 'gnome-keyring-daemon is running').toBeNull();
    return {
      address,
      lookup: (name) => secretToolLookup(name, env),
      // secret-tool prints the attributes on stderr.
      accounts: () =>
        [...spawnSync('secret-tool', ['search', '--all', 'service', 'okta-connect'], { env, encoding: 'utf8' }).stderr.matchAll(/^attribute\.username = (.*)$/gm)].map(
          (match) => match[1] ?? '',
        ),
      clear: (name) => {
        secretToolClear(name, env);
      },
      store: (name, secret) => {
        execFileSync('secret-tool', ['store', '--label', `okta-connect ${name}`, 'service', 'okta-connect', 'username', name], {
          env,
          input: secret,
          stdio: ['pipe', 'ignore', 'ignore'],
          timeout: 30_000,
        });
      },
      pauseBus: () => {
        signal(bus, 'SIGSTOP');
      },
      resumeBus: () => {
        signal(bus, 'SIGCONT');
      },
      daemonPid: keyring.pid,
      death: () =>
        isStopping || (keyring.exitCode === null && keyring.signalCode === null)
          ? undefined
          : `${keyring.signalCode ?? `exit ${String(keyring.exitCode)}`}; it said: ${said.trim().split('\n').slice(-3).join(' | ') || 'nothing'}`,
      stop: () => {
        isStopping = true;
        return stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A private keyring for the tests of this describe, stopped after them. */
export function usePrivateKeyring(): PrivateKeyring {
  return useFixture('the private keyring', startPrivateKeyring, (keyring) => keyring.stop(), LONG);
}

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

/** The names in connections.json, sorted; none when it does not exist. */
export function storedNames(sandbox: Pick<Sandbox, 'configDir'>): string[] {
  return (readConnections(sandbox)?.connections ?? []).map((connection) => connection.name).sort();
}

/** What is in the config folder besides connections.json: a lock or temp file left behind. */
export function leftovers(sandbox: Pick<Sandbox, 'configDir'>): string[] {
  return readdirSync(sandbox.configDir).filter((file) => file !== 'connections.json');
}

/** `add` that must succeed: the connection is saved (the run's output is in the failure message otherwise). */
export async function saveConnection(sandbox: Sandbox, name: string, orgUrl: string, token: string, ...extra: string[]): Promise<RunResult> {
  const result = await sandbox.run(addArgs(name, orgUrl, ...extra), { input: token });
  expect(result.code, describeRun(result)).toBe(0);
  return result;
}

/** The keys of one `test --json` result, sorted. */
export const TEST_RESULT_KEYS = ['error', 'latencyMs', 'name', 'ok', 'orgUrl', 'owner', 'rateLimit', 'roles'];

/** Written here on purpose, not imported from src/: a wrong mapping in src/ must fail these tests. */
export const envKey = (name: string): string => name.toUpperCase().replace(/-/g, '_');
export const tokenVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_TOKEN`;
export const urlVar = (name: string): string => `OKTA_CONNECT_${envKey(name)}_ORG_URL`;

/** `text` matched literally inside a RegExp. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The lines of a text that are not blank. */
export const nonEmptyLines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** Lines of a text that start with `prefix`. */
export function linesStarting(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

/** The hint of a rejected token (401): the causes (revoked, 30 days unused, owner deactivated) and the org's token page. */
export function expectRejectedTokenHint(result: Pick<RunResult, 'stderr'>, orgUrl: string): void {
  const hint = linesStarting(result.stderr, 'hint: ').join('\n');
  expect(hint).toMatch(/revoked/);
  expect(hint).toMatch(/30 days/);
  expect(hint).toMatch(/deactivated/);
  expect(hint).toContain(`${orgUrl}/admin/access/api/tokens`);
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

/** Poll `ready` (from every 50 ms, backing off to every 250 ms) until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, ready: () => boolean, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, delay));
    delay = Math.min(delay * 2, 250);
  }
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

/** A run's exit code and output, for assertion messages; `label` says which run, where a test makes several. */
export function describeRun(
  result: Pick<RunResult, 'code' | 'stdout' | 'stderr'> & Partial<Pick<RunResult, 'signal' | 'timedOut'>>,
  label?: string,
): string {
  const signal = result.signal ? ` signal ${result.signal}` : '';
  const killed = result.timedOut === true ? ' (killed: it did not exit in time)' : '';
  const prefix = label === undefined ? '' : `${label}: `;
  return `${prefix}exit ${String(result.code)}${signal}${killed}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** add's question where the token is kept (the keychain, or a secret command): its first choice, the keychain. */
/** Whether a process still exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The questions of `okta-connect add` in a terminal, as the tmux tests wait for them. */
export const ADD_PROMPTS = {
  address: "Okta API address (your org's URL, e.g. https://acme.okta.com):",
  token: 'API token (input masked):',
  name: 'Name for this connection:',
  menu: 'The test failed. What now?',
} as const;

/** The CLI in a real terminal (tmux), with the sandbox's environment (no CI: the scrubbed one does not carry it). */
export function startCli(box: Sandbox, args: string[], options: { width?: number; env?: Record<string, string> } = {}): Promise<Pty> {
  return startPty({ env: { ...box.env, TERM: 'screen', ...options.env }, cwd: box.cwd, command: [process.execPath, BIN, ...args], width: options.width });
}

/** Every terminal a test opened is closed after it, and after the file. */
export function usePtys(): void {
  afterEach(closeAllPtys);
  afterAll(closeAllPtys);
}

export async function chooseKeychain(pty: Pty): Promise<void> {
  await pty.waitFor("❯ This computer's keychain");
  await pty.press('Enter');
}
