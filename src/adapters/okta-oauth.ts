import type { OAuthCredential } from '../domain/credential.js';
import type { CliError, OAuthRefusal } from '../domain/errors.js';
import { AuthError, BadResponseError, PermissionError } from '../domain/errors.js';
import { appConsoleUrl } from '../domain/oauth.js';
import { notOktaJson } from './okta-errors.js';
import type { TokenAnswerProblem, TokenEndpointError } from './okta-sdk.js';

/** The cheapest call each scope family allows, in order of preference: what `test` makes with the access token. */
const CHEAP_CALLS: [RegExp, string][] = [
  [/^okta\.users\.(read|manage)$/, '/api/v1/users?limit=1'],
  [/^okta\.groups\.(read|manage)$/, '/api/v1/groups?limit=1'],
  [/^okta\.apps\.(read|manage)$/, '/api/v1/apps?limit=1'],
  [/^okta\.logs\.read$/, '/api/v1/logs?limit=1'],
  [/^okta\.orgs\.(read|manage)$/, '/api/v1/org'],
];

/** The path of one cheap GET that one of these scopes allows, or undefined when none is known. */
export function cheapCallFor(scopes: readonly string[]): string | undefined {
  for (const [pattern, path] of CHEAP_CALLS) if (scopes.some((scope) => pattern.test(scope))) return path;
  return undefined;
}

const CLOCK = /expired|\biat\b|\bexp\b|\bnbf\b|issued in the future|future|not yet valid|clock/i;
const AUTH_METHOD = /client_assertion_type|authentication method|token_endpoint_auth_method|client_secret|private_key_jwt/i;

/** A token-endpoint error in the words of the contract: each OAuth error its own message, hint and exit code. */
export function tokenEndpointFailure(error: TokenEndpointError, orgUrl: string, credential: OAuthCredential, safe: (text: string) => string, oktaUrl?: string | null): CliError {
  const app = appConsoleUrl(orgUrl, credential.clientId, oktaUrl);
  const said = error.description === undefined ? '' : `: ${safe(error.description).slice(0, 300)}`;
  const details = { httpStatus: error.status, oktaErrorCode: error.error };
  if (error.problem) return answerFailure(error.status, error.problem);
  if (error.isRepeatedNonce) {
    return new BadResponseError('Okta asked for a new DPoP nonce twice in a row (use_dpop_nonce)', { ...details, refusal: 'dpop', hint: 'try again; if it persists, check the clock and report it' });
  }
  switch (error.error) {
    case 'invalid_scope': {
      const named = error.description?.match(/okta\.[A-Za-z.]+/g)?.filter((scope) => credential.scopes.includes(scope));
      const scopes = named && named.length > 0 ? named : credential.scopes;
      return new PermissionError(`Okta did not grant the scope${scopes.length > 1 ? 's' : ''} ${scopes.join(', ')} to the app ${credential.clientId} (invalid_scope${said})`, {
        ...details,
        refusal: 'scope',
        hint: `grant ${scopes.join(', ')} on the app's "Okta API Scopes" tab (${app.replace('#tab-general', '#tab-okta-api-scopes')}), or ask only for scopes it has (add --oauth --force with fewer --scopes; in CI, the connection's _SCOPES variable)`,
      });
    }
    case 'invalid_client':
      if (CLOCK.test(error.description ?? '')) {
        return new AuthError(`Okta rejected the client assertion's time (invalid_client${said})`, {
          ...details,
          refusal: 'clock',
          hint: "check this machine's clock (the assertion is valid for 5 minutes from now): e.g. timedatectl, or sync with NTP",
        });
      }
      if (AUTH_METHOD.test(error.description ?? '')) {
        return new AuthError(`the app ${credential.clientId} does not use private key JWT client authentication (invalid_client${said})`, {
          ...details,
          refusal: 'method',
          hint: `in the Admin Console, set the app's Client authentication to "Public key / Private key" (${app})`,
        });
      }
      return new AuthError(`Okta rejected the client ${credential.clientId} (invalid_client${said})`, {
        ...details,
        refusal: clientRefusalOf(error.description ?? ''),
        hint: `check the client id, and that the public key with kid ${credential.keyId} is under the app's Public keys and the app is active (${app})`,
      });
    case 'unauthorized_client':
      return new AuthError(`the app ${credential.clientId} may not use the client credentials grant (unauthorized_client${said})`, {
        ...details,
        refusal: 'grant',
        hint: `it must be an API Services app with the Client Credentials grant (${app})`,
      });
    case 'invalid_dpop_proof':
      return new AuthError(`Okta rejected the DPoP proof (invalid_dpop_proof${said})`, {
        ...details,
        refusal: 'dpop',
        hint: "check this machine's clock; if it is right, run again with --debug and report it",
      });
    default:
      return new BadResponseError(`Okta's token endpoint answered HTTP ${String(error.status)}${error.error ? ` ${safe(error.error).slice(0, 60)}` : ''}${said}`, {
        ...details,
        hint: error.status >= 500 ? 'Okta may be having trouble: see status.okta.com, then try again' : 'check the API address and the app',
      });
  }
}

/**
 * Which invalid_client it is, from Okta's words: a kid the app does not list ("The client_assertion JWT kid is
 * invalid.", Okta's support article "Invalid Key ID"), a signature that does not verify, or an unknown client id.
 */
function clientRefusalOf(description: string): OAuthRefusal {
  if (/\bkid\b/i.test(description)) return 'kid';
  if (/signature/i.test(description)) return 'key';
  if (/client_id|client id/i.test(description)) return 'client';
  return 'other';
}

/** A token endpoint answer that is no token and no OAuth error: exit 7, in the words of what it was instead. */
function answerFailure(status: number, problem: TokenAnswerProblem): CliError {
  const details = { httpStatus: status };
  switch (problem.kind) {
    case 'not-json':
      return notOktaJson(`Okta's token endpoint answered HTTP ${String(status)} ${problem.contentType}`, details);
    case 'too-large':
      return notOktaJson(`Okta's token endpoint answered ${problem.isAtLeast === true ? 'more than ' : ''}${String(problem.bytes)} bytes, far more than a token`, details);
    case 'no-token':
      return notOktaJson(`Okta's token endpoint answered HTTP ${String(status)} without an access token`, details);
    case 'rate-limited': {
      const wait = problem.retryAfterS === undefined ? 'wait a minute' : `wait ${String(problem.retryAfterS)} s (Okta's reset time)`;
      return new BadResponseError('Okta rate-limited its token endpoint for this app (429)', {
        ...details,
        hint: `${wait} and try again; other jobs using the same app share its limit`,
      });
    }
  }
}
