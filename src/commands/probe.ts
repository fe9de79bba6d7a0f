import { performance } from 'node:perf_hooks';
import type { Identity, OktaGateway, OrgInfo, RateLimit } from '../adapters/okta.js';
import type { Owner } from '../domain/connection.js';
import { CliError, ExitCode } from '../domain/errors.js';
import { redact } from '../domain/redact.js';

export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  org: OrgInfo | null;
  owner: (Owner & { displayName: string | null }) | null;
  /** Role labels; null when they could not be read (best effort). */
  roles: string[] | null;
  rateLimit: RateLimit | null;
  error: CliError | null;
}

/** What remains of the deadline for roles: not worth starting below this. */
const MIN_ROLES_MS = 500;

/**
 * The connection test of the contract: the org identifies itself first (the token goes nowhere else), then
 * `users/me` with the token, then the owner's roles as a best effort. All within one deadline.
 */
export async function probeConnection(
  okta: OktaGateway,
  input: { orgUrl: string; token: string; timeoutMs: number },
): Promise<ProbeResult> {
  const started = performance.now();
  const remaining = (): number => Math.max(1, input.timeoutMs - (performance.now() - started));
  let org: OrgInfo | null = null;
  let identity: Identity;
  // latencyMs is the authenticated round trip alone, so loading the SDK never shows up as Okta being slow.
  let callStarted = started;
  try {
    const sdkReady = okta.ready();
    sdkReady.catch(() => undefined); // awaited below; this only keeps an early checkOrg failure from leaving it unhandled
    org = await okta.checkOrg(input.orgUrl, remaining());
    await sdkReady;
    callStarted = performance.now();
    identity = await okta.whoAmI({ orgUrl: input.orgUrl, token: input.token, timeoutMs: remaining() });
  } catch (error) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - callStarted),
      org,
      owner: null,
      roles: null,
      rateLimit: null,
      error: asCliError(error, input.token),
    };
  }
  const latencyMs = Math.round(performance.now() - callStarted);
  let roles: string[] | null = null;
  if (remaining() > MIN_ROLES_MS) {
    try {
      roles = await okta.roles({ orgUrl: input.orgUrl, token: input.token, timeoutMs: remaining() }, identity.owner.id);
    } catch {
      roles = null; // 403 and the like: the roles are not visible to this token, which is not a failed test.
    }
  }
  return { ok: true, latencyMs, org, owner: identity.owner, roles, rateLimit: identity.rateLimit, error: null };
}

/** Whatever failed, the token is removed from what it says: these messages reach stdout (--json, --all) unfiltered. */
function asCliError(error: unknown, token: string): CliError {
  if (error instanceof CliError) {
    error.message = redact(error.message, [token]);
    if (error.hint !== undefined) error.hint = redact(error.hint, [token]);
    return error;
  }
  const message = redact(error instanceof Error ? error.message : String(error), [token]);
  return new CliError(ExitCode.internal, `unexpected error: ${message}`, { cause: error });
}
