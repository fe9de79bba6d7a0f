import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KEYCHAIN_SERVICE, osSecretStore } from './adapters/keychain.js';
import { fileMetadataStore } from './adapters/metadata.js';
import { inquirerPrompter } from './adapters/prompter.js';
import { processSecretCommandRunner } from './adapters/secret-command.js';
import type { Critical, OktaGateway } from './connections/ports.js';
import { connectionStore, type ConnectionStore } from './connections/store.js';
import type { CliError } from './domain/errors.js';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS, keychainTimeoutMs } from './domain/options.js';
import { printable } from './domain/printable.js';
import { makeRedactor, type Redactor } from './domain/redact.js';
import type { Prompter } from './io/prompter.js';
import { makeIO, type IO, type StreamSet } from './io/streams.js';
import { makeTheme, type Theme } from './io/theme.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Clock {
  now(): Date;
}

/**
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT end okta-connect with 130, unless a command traps them; while one does, SIGUSR1/2,
 * SIGALRM and the like reach its handler too, instead of killing okta-connect (exec passes them to its child).
 * A write in progress defers them until it has committed or rolled back (`critical`, for the store).
 */
export interface Signals {
  trap(handler: (signal: NodeJS.Signals) => void): () => void;
  critical: Critical;
}

/** The global flags, as commander parsed them. */
export interface GlobalOptions {
  color: boolean;
  debug: boolean;
  /** No notices or warnings on stderr (errors stay); also OKTA_CONNECT_QUIET. */
  quiet: boolean;
}

/** Everything a command may touch, built in one place (like gh's Factory). Heavy parts load on first use. */
export interface Context {
  io: IO;
  theme: Theme;
  env: Env;
  clock: Clock;
  connections: ConnectionStore;
  prompter: Prompter;
  okta: () => Promise<OktaGateway>;
  /** Start a child process as a shell would find it (cross-spawn on Windows for .cmd shims); loaded on first use. */
  spawn: (command: string, args: readonly string[], options: SpawnOptions) => Promise<ChildProcess>;
  /** Secrets seen in this run; the error printer removes them from anything it prints. */
  redactor: Redactor;
  /** A notice or warning on stderr (`! …`), unless --quiet or OKTA_CONNECT_QUIET. Errors never go here. */
  notify: (text: string) => void;
  signals: Signals;
  /** A variable of the environment that is refused (exit 2): every command fails with it before doing anything. */
  envError: CliError | undefined;
  version: string;
  nodeVersion: string;
  platform: NodeJS.Platform;
}

export interface ContextOptions {
  streams: StreamSet;
  env: Env;
  globals: GlobalOptions;
  version: string;
  signals: Signals;
  platform?: NodeJS.Platform;
  home?: string;
}

export function configDir(env: Env, platform: NodeJS.Platform, home: string): string {
  if (env.OKTA_CONNECT_CONFIG_DIR) return env.OKTA_CONNECT_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'okta-connect');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'okta-connect');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'okta-connect');
  return join(home, '.config', 'okta-connect');
}

/**
 * The keychain service of a config folder: `okta-connect` for the default one; a folder chosen with
 * OKTA_CONNECT_CONFIG_DIR has its own (`okta-connect:<absolute folder>`), so two folders never touch each other's secrets.
 */
export function keychainService(env: Env, platform: NodeJS.Platform, home: string): string {
  const chosen = env.OKTA_CONNECT_CONFIG_DIR;
  if (!chosen) return KEYCHAIN_SERVICE;
  const folder = resolve(chosen);
  return folder === resolve(configDir({ ...env, OKTA_CONNECT_CONFIG_DIR: undefined }, platform, home)) ? KEYCHAIN_SERVICE : `${KEYCHAIN_SERVICE}:${folder}`;
}

/** An environment flag is on when set to anything but empty, 0 or false. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export function createContext(options: ContextOptions): Context {
  const platform = options.platform ?? process.platform;
  const home = options.home ?? homedir();
  const io = makeIO(options.streams, options.env, !options.globals.color);
  const theme = makeTheme(io.color);
  let envError: CliError | undefined;
  let keychainTimeout = DEFAULT_KEYCHAIN_TIMEOUT_MS;
  try {
    keychainTimeout = keychainTimeoutMs(options.env);
  } catch (error) {
    envError = error as CliError;
  }
  const redactor = makeRedactor();
  const clock = { now: () => new Date() };
  const isQuiet = options.globals.quiet || isSet(options.env.OKTA_CONNECT_QUIET);
  const notify = (text: string): void => {
    if (!isQuiet) io.stderr.write(`${theme.warnMark} ${printable(text)}\n`);
  };
  let gateway: Promise<OktaGateway> | undefined;
  return {
    io,
    theme,
    env: options.env,
    clock,
    connections: connectionStore({
      env: options.env,
      clock,
      redactor,
      critical: options.signals.critical,
      metadata: fileMetadataStore(configDir(options.env, platform, home)),
      secrets: osSecretStore({
        platform,
        service: keychainService(options.env, platform, home),
        busAddress: options.env.DBUS_SESSION_BUS_ADDRESS,
        runtimeDir: options.env.XDG_RUNTIME_DIR,
        timeoutMs: keychainTimeout,
      }),
      commands: processSecretCommandRunner({ env: options.env, stderr: io.stderr, platform, trap: (handler) => options.signals.trap(handler) }),
      notice: notify,
    }),
    prompter: inquirerPrompter(io),
    okta: () =>
      (gateway ??= import('./adapters/okta.js').then(({ oktaGateway }) =>
        oktaGateway({ env: options.env, userAgent: `okta-connect/${options.version}` }),
      )),
    redactor,
    notify,
    spawn: async (command, args, spawnOptions) => {
      const { spawnChild } = await import('./adapters/spawn-child.js');
      return spawnChild(command, args, spawnOptions, platform);
    },
    signals: options.signals,
    envError,
    version: options.version,
    nodeVersion: process.version,
    platform,
  };
}
