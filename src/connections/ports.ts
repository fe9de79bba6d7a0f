import type { ConnectionRecord, Owner } from '../domain/connection.js';
import type { Credential } from '../domain/credential.js';

/**
 * The ports the connection store and the probe need; adapters implement them (keychain.ts, secret-command.ts,
 * metadata.ts, okta.ts), and context.ts plugs them in. Commands see none of them: they go through the ConnectionStore.
 */

/** Where secrets are kept: the OS keychain, account = connection name. Every call is bounded in time. */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, secret: string): Promise<void>;
  /** True when something was deleted. */
  delete(name: string): Promise<boolean>;
  /** The account names saved under our service (reads every entry: for doctor, not for hot paths). */
  names(): Promise<string[]>;
  /**
   * Which of these accounts have a secret, without reading any and within `timeoutMs`; undefined when the keychain
   * cannot tell (absent, locked in a way that needs a prompt, too slow). Never throws.
   */
  present(names: string[], timeoutMs: number): Promise<Set<string> | undefined>;
}

/**
 * What became of one run of a secret command. `printed`: it exited 0 and its stdout (at most the runner's bound,
 * trailing newline trimmed) is the secret; every other outcome carries no output at all.
 */
export type SecretCommandOutcome =
  | { kind: 'printed'; stdout: string }
  | { kind: 'not-found' }
  | { kind: 'cannot-run'; why: string }
  | { kind: 'exited'; code: number; lastStderrLine: string | null }
  | { kind: 'killed'; signal: string; lastStderrLine: string | null }
  | { kind: 'timed-out'; timeoutMs: number }
  | { kind: 'too-large'; limitBytes: number }
  | { kind: 'interrupted' };

/**
 * Runs a connection's secret command: with our environment, stdin closed, its stderr passed through to ours, its
 * stdout read (bounded) as the secret, within `timeoutMs`. A command that overruns is killed with all it started.
 * Never throws for anything the command does.
 */
export interface SecretCommandRunner {
  run(argv: readonly string[], timeoutMs: number): Promise<SecretCommandOutcome>;
}

/**
 * A write that must not be cut in half by a signal (the keychain and connections.json changed together, or one file
 * write). Until `enter()`, a signal ends the process at once, as ever (nothing is written yet, and the lock file is
 * removed on exit). From `enter()` until `work` settles, SIGINT/SIGTERM/SIGHUP wait: `isInterrupted()` turns true, so
 * the work can roll back at its next safe point; once it has settled, the process exits 130 and prints what is true:
 * `says(true)` if the work resolved (committed), `says(false)` if it threw.
 */
export interface CriticalSection {
  enter(): void;
  isInterrupted(): boolean;
}

export type Critical = <T>(work: (section: CriticalSection) => Promise<T>, says: (isDone: boolean) => string) => Promise<T>;

/** connections.json: the metadata of every saved connection. Never a secret. */
export interface MetadataStore {
  readonly path: string;
  readonly dir: string;
  /** All saved connections, sorted by name, each validated. A missing file is an empty list. */
  list(): Promise<ConnectionRecord[]>;
  /** The permission bits of the folder and the file (null when missing), for doctor. */
  modes(): Promise<{ dir: number | null; file: number | null }>;
  /**
   * Read-modify-write under the lock; `change` returns the new list. `afterWrite` runs once the file is written, still
   * under the lock, so keychain changes that go with a metadata change are never interleaved with another process's.
   */
  update(
    change: (connections: ConnectionRecord[]) => ConnectionRecord[] | Promise<ConnectionRecord[]>,
    afterWrite?: () => Promise<void>,
  ): Promise<void>;
  /**
   * `work` under the same lock, writing nothing, so no other okta-connect changes the keychain meanwhile. Best effort:
   * when the lock cannot be had (no folder yet, a read-only one, held past the wait), `work` runs without it.
   */
  whileLocked<T>(work: () => Promise<T>): Promise<T>;
}

export interface OrgInfo {
  id: string;
  /** The org's own Okta URL (`_links.organization`), which differs from the address for a custom domain; null if absent. */
  oktaUrl: string | null;
}

export interface RateLimit {
  limit: number;
  remaining: number;
  resetAt: string | null;
}

export interface Identity {
  owner: Owner;
  rateLimit: RateLimit | null;
  /** OAuth connections: what the token endpoint granted, and the call made with it. */
  oauth?: OAuthCheck | undefined;
}

/** A fresh OAuth access token and what the token endpoint said of it. */
export interface AccessGrant {
  accessToken: string;
  /** `Bearer`, or `DPoP` for a token bound to the key (unusable without a proof: exec, not token). */
  tokenType: string;
  expiresInS: number | null;
  /** The granted scopes, from the token response (null when it did not say). */
  scopes: string[] | null;
  isDPoP: boolean;
}

export interface OAuthCheck {
  scopes: string[] | null;
  expiresInS: number | null;
  isDPoP: boolean;
  /** The cheap call a granted scope allows, e.g. `GET /api/v1/users?limit=1`; null when no scope allows a known one. */
  checked: string | null;
}

export interface OktaCall {
  orgUrl: string;
  credential: Credential;
  timeoutMs: number;
}

/** Everything okta-connect asks of Okta. Only this port's adapter and the secret store ever see a secret. */
export interface OktaGateway {
  /** Load the Okta SDK; callers start it early, in parallel with the unauthenticated check. */
  ready(): Promise<void>;
  /** Unauthenticated `GET /.well-known/okta-organization`: is this host an Okta org? */
  checkOrg(orgUrl: string, timeoutMs: number): Promise<OrgInfo>;
  /**
   * `GET /api/v1/users/me` through the Okta SDK: does the credential work, and whose is it? For an OAuth connection:
   * the token request, then one cheap call a granted scope allows; the owner is the client id.
   */
  whoAmI(call: OktaCall): Promise<Identity>;
  /** The owner's admin role labels; throws on 403 and the like (callers treat roles as best effort). */
  roles(call: OktaCall, userId: string): Promise<string[]>;
  /** OAuth: a fresh access token (client_credentials with a private key JWT, through the SDK's PrivateKey mode). */
  accessToken(call: OktaCall): Promise<AccessGrant>;
  /** `DELETE /api/v1/api-tokens/current`: revoke the token that makes the call. */
  revokeCurrentToken(call: OktaCall): Promise<void>;
}
