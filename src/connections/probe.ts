import type { Owner } from '../domain/connection.js';
import { secretParts, type Credential } from '../domain/credential.js';
import { CliError, ExitCode } from '../domain/errors.js';
import { redact } from '../domain/redact.js';
import type { Identity, OAuthCheck, OktaGateway, RateLimit } from './ports.js';
import type { TestRecord } from './store.js';

export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  owner: Owner | null;
  /** Role labels; null when they could not be read (best effort). */
  roles: string[] | null;
  rateLimit: RateLimit | null;
  /** OAuth connections: the granted scopes, the token's lifetime, whether DPoP was required, the call made. */
  oauth?: OAuthCheck | null | undefined;
  error: CliError | null;
}

/** What remains of the deadline for roles: not worth starting below this. */
const MIN_ROLES_MS = 500;

/**
 * The connection test of the contract: the org identifies itself first (the secret goes nowhere else), then
 * `users/me` with the credential, then the owner's roles as a best effort. All within one deadline.
 */
export async function probeConnection(
  okta: OktaGateway,
  input: { orgUrl: string; credential: Credential; timeoutMs: number },
): Promise<ProbeResult> {
  const started = performance.now();
  const remaining = (): number => Math.max(1, input.timeoutMs - (performance.now() - started));
  const call = (): { orgUrl: string; credential: Credential; timeoutMs: number } => ({ ...input, timeoutMs: remaining() });
  let identity: Identity;
  // latencyMs is the authenticated round trip alone, so loading the SDK never shows up as Okta being slow.
  let callStarted = started;
  try {
    const sdkReady = okta.ready();
    sdkReady.catch(() => undefined); // awaited below; this only keeps an early checkOrg failure from leaving it unhandled
    await okta.checkOrg(input.orgUrl, remaining());
    await sdkReady;
    callStarted = performance.now();
    identity = await okta.whoAmI(call());
  } catch (error) {
    const latencyMs = Math.round(performance.now() - callStarted);
    return { ok: false, latencyMs, owner: null, roles: null, rateLimit: null, error: withoutSecret(error, input.credential) };
  }
  const latencyMs = Math.round(performance.now() - callStarted);
  let roles: string[] | null = null;
  // An OAuth app has no owner whose roles could be read: its rights are its scopes.
  if (identity.oauth) return { ok: true, latencyMs, owner: identity.owner, roles: null, rateLimit: identity.rateLimit, oauth: identity.oauth, error: null };
  if (remaining() > MIN_ROLES_MS) {
    try {
      roles = await okta.roles(call(), identity.owner.id);
    } catch {
      roles = null; // 403 and the like: the roles are not visible to this credential, which is not a failed test.
    }
  }
  return { ok: true, latencyMs, owner: identity.owner, roles, rateLimit: identity.rateLimit, error: null };
}

/** The result as it is recorded on the connection. */
export function testRecordOf(result: ProbeResult): TestRecord {
  return {
    ok: result.ok,
    code: result.error?.exitCode ?? ExitCode.ok,
    latencyMs: result.latencyMs,
    httpStatus: result.error?.details.httpStatus ?? null,
    ...(result.error?.details.refusal === undefined ? {} : { reason: result.error.details.refusal }),
    owner: result.owner,
  };
}

/** Whatever failed, the secret is removed from what it says: these messages reach stdout (--json, --all) unfiltered. */
function withoutSecret(error: unknown, credential: Credential): CliError {
  const parts = secretParts(credential);
  if (error instanceof CliError) {
    const message = redact(error.message, parts);
    const hint = error.hint === undefined ? undefined : redact(error.hint, parts);
    if (message === error.message && hint === error.hint) return error;
    return new CliError(error.exitCode, message, { ...error.details, hint, cause: error });
  }
  const message = redact(error instanceof Error ? error.message : String(error), parts);
  return new CliError(ExitCode.internal, `unexpected error: ${message}`, { cause: error });
}
