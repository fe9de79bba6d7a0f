/** The exit-code table of the contract: the only place these numbers live. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  permission: 5,
  network: 6,
  badResponse: 7,
  /** The secret store: the keychain, or a connection's secret command. */
  keychain: 8,
  /** exec: the command exists but cannot be run, or cannot be found (the shells' codes). */
  cannotExecute: 126,
  commandNotFound: 127,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The codes a user meets, in words, for --help. */
export function exitCodeSummary(): string {
  const words: [ExitCodeValue, string][] = [
    [ExitCode.ok, 'ok'],
    [ExitCode.usage, 'usage'],
    [ExitCode.notFound, 'not found'],
    [ExitCode.auth, 'token rejected'],
    [ExitCode.permission, 'permission'],
    [ExitCode.network, 'network'],
    [ExitCode.badResponse, 'bad answer'],
    [ExitCode.keychain, 'keychain or secret command'],
    [ExitCode.interrupted, 'interrupted'],
  ];
  return words.map(([code, word]) => `${String(code)} ${word}`).join(', ');
}

/** What Okta (or the host) said, kept for `--json` error objects. */
/**
 * What an OAuth token endpoint refused, as the adapter read Okta's answer: `key` (the signature does not verify: not
 * the registered key), `kid` (no public key of that kid in the app), `client` (no such client), `clock`, `dpop`,
 * `method` (not private key JWT), `grant` (no client credentials grant), `scope`, or `other` (another invalid_client).
 */
export type OAuthRefusal = 'key' | 'kid' | 'client' | 'clock' | 'dpop' | 'method' | 'grant' | 'scope' | 'other';

export interface HttpDetails {
  httpStatus?: number | undefined;
  oktaErrorCode?: string | undefined;
  oktaErrorId?: string | undefined;
  /** Set on OAuth refusals only (an API token's 401 has none). */
  refusal?: OAuthRefusal | undefined;
}

export interface CliErrorOptions extends HttpDetails {
  hint?: string | undefined;
  cause?: unknown;
}

/** Every error a user can cause: a one-line message, a hint and an exit code. Never edited: see `rephrase`. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: HttpDetails;

  constructor(exitCode: ExitCodeValue, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = {
      httpStatus: options.httpStatus,
      oktaErrorCode: options.oktaErrorCode,
      oktaErrorId: options.oktaErrorId,
      ...(options.refusal === undefined ? {} : { refusal: options.refusal }),
    };
  }
}

export class UsageError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.usage, message, options);
  }
}

export class NotFoundError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.notFound, message, options);
  }
}

export class AuthError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.auth, message, options);
  }
}

export class PermissionError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.permission, message, options);
  }
}

export class NetworkError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.network, message, options);
  }
}

/** Okta or the host answered, but wrongly: not an Okta org, 5xx, 429 after retries, not Okta's JSON. */
export class BadResponseError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.badResponse, message, options);
  }
}

export class KeychainError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.keychain, message, options);
  }
}

/** A connection's secret command failed: not found, non-zero exit, timeout, empty, too long or invalid output. */
export class SecretCommandError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(ExitCode.keychain, message, options);
  }
}

/** Ctrl-C at a prompt, or SIGINT/SIGTERM while we work. */
export class CancelledError extends CliError {
  constructor(message = 'cancelled', options?: CliErrorOptions) {
    super(ExitCode.interrupted, message, options);
  }
}

/**
 * Everything has been printed already; only the exit code is left to give (gh's SilentError). Any code: exec passes
 * its child's through.
 */
export class SilentError extends CliError {
  constructor(exitCode: number) {
    super(exitCode as ExitCodeValue, '');
  }
}

/**
 * A new error saying more than `error` (the connection's name, what was not done), with its exit code and details,
 * and `error` as its cause. Errors are values: the original is never edited.
 */
export function rephrase(error: CliError, change: { message?: (message: string) => string; hint?: string | undefined }): CliError {
  return new CliError(error.exitCode, change.message ? change.message(error.message) : error.message, {
    ...error.details,
    hint: 'hint' in change ? change.hint : error.hint,
    cause: error,
  });
}
