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
  keychain: 8,
  /** exec: the command exists but cannot be run, or cannot be found (the shells' codes). */
  cannotExecute: 126,
  commandNotFound: 127,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What Okta (or the host) said, kept for `--json` error objects. */
export interface HttpDetails {
  httpStatus?: number | undefined;
  oktaErrorCode?: string | undefined;
  oktaErrorId?: string | undefined;
}

export interface CliErrorOptions extends HttpDetails {
  hint?: string | undefined;
  cause?: unknown;
}

/** Every error a user can cause: a one-line message, a hint and an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Commands may sharpen the hint once they know more (e.g. the connection's name). */
  hint: string | undefined;
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

/** Ctrl-C at a prompt, or SIGINT/SIGTERM while we work. */
export class CancelledError extends CliError {
  constructor(message = 'cancelled', options?: CliErrorOptions) {
    super(ExitCode.interrupted, message, options);
  }
}
