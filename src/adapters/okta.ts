import type { Agent } from 'node:http';
import type * as OktaSdk from '@okta/okta-sdk-nodejs';
import type { Http } from '@okta/okta-sdk-nodejs/src/http.js';
import type { Owner } from '../domain/connection.js';
import { AuthError, BadResponseError, CliError, PermissionError } from '../domain/errors.js';
import { withDeadline } from '../domain/deadline.js';
import { redact } from '../domain/redact.js';
import { httpsGet } from './https-get.js';
import { authHint, networkFailure, notOktaJson, seconds } from './okta-errors.js';

export interface OrgInfo {
  id: string;
  /** The org's Okta URL from `_links.organization`, which differs from the address for a custom domain. */
  oktaUrl: string | null;
}

export interface RateLimit {
  limit: number;
  remaining: number;
  resetAt: string | null;
}

export interface Identity {
  owner: Owner & { displayName: string | null };
  rateLimit: RateLimit | null;
}

export interface OktaCall {
  orgUrl: string;
  token: string;
  timeoutMs: number;
}

/** Everything okta-connect asks of Okta. Only this adapter and the keychain ever hold a token. */
export interface OktaGateway {
  /** Load the Okta SDK (~0.65 s unbundled); callers start it early, in parallel with the unauthenticated check. */
  ready(): Promise<void>;
  /** Unauthenticated `GET /.well-known/okta-organization`: is this host an Okta org? */
  checkOrg(orgUrl: string, timeoutMs: number): Promise<OrgInfo>;
  /** `GET /api/v1/users/me` through the Okta SDK: does the token work, and whose is it? */
  whoAmI(call: OktaCall): Promise<Identity>;
  /** The owner's admin role labels; throws on 403 and the like (callers treat roles as best effort). */
  roles(call: OktaCall, userId: string): Promise<string[]>;
  /** `DELETE /api/v1/api-tokens/current`: revoke the token that makes the call. */
  revokeCurrentToken(call: OktaCall): Promise<void>;
}

export interface GatewayOptions {
  env: Readonly<Record<string, string | undefined>>;
  userAgent: string;
}

interface SdkParts {
  Http: typeof Http;
  DefaultRequestExecutor: (typeof OktaSdk)['DefaultRequestExecutor'];
}
interface RecordedResponse {
  status: number;
  headers: { get(name: string): string | null };
}

export function oktaGateway(options: GatewayOptions): OktaGateway {
  const proxy = options.env.HTTPS_PROXY ?? options.env.https_proxy;
  let agent: Promise<Agent | undefined> | undefined;
  const proxyAgent = (): Promise<Agent | undefined> =>
    (agent ??= proxy === undefined || proxy === ''
      ? Promise.resolve(undefined)
      : // Loaded only when a proxy is set. An ES module since v8: a named export.
        import('https-proxy-agent').then(({ HttpsProxyAgent }) => new HttpsProxyAgent(proxy)));

  async function checkOrg(orgUrl: string, timeoutMs: number): Promise<OrgInfo> {
    const url = `${orgUrl}/.well-known/okta-organization`;
    let response;
    try {
      response = await httpsGet(url, timeoutMs, await proxyAgent());
    } catch (error) {
      throw networkFailure(error, { orgUrl, timeoutMs, proxy }) ?? error;
    }
    const notOrg = (why: string): BadResponseError =>
      new BadResponseError(`${orgUrl} is not an Okta org: ${why}`, {
        httpStatus: response.status,
        hint: 'check the API address: it is https://<your-org>.okta.com (or your custom domain), as in the Admin Console',
      });
    if (response.status === 429) throw new BadResponseError(`${orgUrl} is rate limiting requests (429)`, { httpStatus: 429, hint: 'wait a minute and try again' });
    if (response.status >= 300 && response.status < 400) {
      throw notOrg(`it redirects to ${String(response.headers.location ?? 'another address')}`);
    }
    if (response.status >= 500) {
      throw new BadResponseError(`${orgUrl} answered HTTP ${String(response.status)}`, {
        httpStatus: response.status,
        hint: 'Okta may be having trouble: see status.okta.com, then try again',
      });
    }
    if (response.status !== 200) throw notOrg(`/.well-known/okta-organization answered HTTP ${String(response.status)}`);
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw notOrg('/.well-known/okta-organization did not answer JSON');
    }
    const meta = body as { id?: unknown; _links?: { organization?: { href?: unknown } } } | null;
    if (typeof meta?.id !== 'string' || !meta.id.startsWith('00o')) throw notOrg('it did not answer with an Okta org id');
    const href = meta._links?.organization?.href;
    return { id: meta.id, oktaUrl: typeof href === 'string' ? href.replace(/\/+$/, '') : null };
  }

  /**
   * One call through the SDK's HTTP layer (its request executor with one retry on 429, its error types), with a
   * timeout, the token only in the SSWS header, and our error mapping. Returns the parsed JSON body, if any.
   */
  async function call(input: OktaCall, method: 'get' | 'delete', path: string): Promise<{ body: unknown; last: RecordedResponse | undefined }> {
    const sdk = await loadSdk();
    const executor = new sdk.DefaultRequestExecutor({ maxRetries: 1, requestTimeout: input.timeoutMs });
    let last: RecordedResponse | undefined;
    const fetchOriginal = executor.fetch.bind(executor);
    // Keep the final response (after any retry) for its rate-limit headers.
    executor.fetch = async (request) => {
      // Okta's API never redirects, and node-fetch would follow a redirect keeping the token for the same host name on
      // any port, or a subdomain: hosts that never identified as an Okta org. Never follow; a 3xx is a wrong answer.
      const response = (await fetchOriginal(Object.assign(request, { redirect: 'manual' as const }))) as RecordedResponse;
      last = response;
      return response as never;
    };
    const what = `${method.toUpperCase()} ${path}`;
    try {
      const http = new sdk.Http({ requestExecutor: executor, cacheMiddleware: null, ...(proxy ? { httpsProxy: proxy } : {}) });
      http.defaultHeaders = {
        Authorization: `SSWS ${input.token}`,
        'User-Agent': options.userAgent,
        Accept: 'application/json',
      };
      const exchange = async (): Promise<unknown> => {
        const response = await http.http(`${input.orgUrl}${path}`, { method });
        const text = await response.text();
        if (text === '') return undefined;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw notOktaJson(`${input.orgUrl} answered ${what} with a body that is not JSON`, { httpStatus: response.status });
        }
      };
      // The executor's own timeout covers each request; this one also covers a 429 retry's wait and the body.
      const body = await withDeadline(exchange(), input.timeoutMs + 250, () => {
        throw Object.assign(new Error('timeout'), { type: 'request-timeout' });
      });
      return { body, last };
    } catch (error) {
      throw mapSdkError(error, input, what, last, proxy);
    }
  }

  // One check per org and run: test --all over several tokens of one org asks it once (and they share the answer).
  const checks = new Map<string, Promise<OrgInfo>>();
  const checkOrgOnce = (orgUrl: string, timeoutMs: number): Promise<OrgInfo> => {
    let check = checks.get(orgUrl);
    if (!check) {
      check = checkOrg(orgUrl, timeoutMs);
      checks.set(orgUrl, check);
    }
    return check;
  };

  return {
    ready: () => loadSdk().then(() => undefined),
    checkOrg: checkOrgOnce,
    async whoAmI(input) {
      const { body, last } = await call(input, 'get', '/api/v1/users/me');
      const user = (body ?? {}) as { id?: unknown; status?: unknown; profile?: unknown };
      // A 200 HTML page or an empty object is not Okta: only a user id proves it answered.
      if (typeof user.id !== 'string' || user.id === '') {
        throw notOktaJson(`${input.orgUrl} answered /api/v1/users/me without a user`, { httpStatus: last?.status });
      }
      const profile = (user.profile ?? {}) as { login?: unknown; firstName?: unknown; lastName?: unknown };
      const name = [profile.firstName, profile.lastName].filter((part) => typeof part === 'string' && part !== '').join(' ');
      return {
        owner: {
          id: user.id,
          login: typeof profile.login === 'string' ? profile.login : null,
          status: typeof user.status === 'string' ? user.status : null,
          displayName: name === '' ? null : name,
        },
        rateLimit: last ? rateLimitOf(last.headers) : null,
      };
    },
    async roles(input, userId) {
      const { body } = await call(input, 'get', `/api/v1/users/${encodeURIComponent(userId)}/roles`);
      if (!Array.isArray(body)) throw notOktaJson(`${input.orgUrl} answered the roles request without a list`);
      return body
        .map((role: { label?: unknown; type?: unknown } | null) =>
          typeof role?.label === 'string' ? role.label : typeof role?.type === 'string' ? role.type : null,
        )
        .filter((label): label is string => label !== null);
    },
    async revokeCurrentToken(input) {
      await call(input, 'delete', '/api/v1/api-tokens/current');
    },
  };
}

export function rateLimitOf(headers: { get(name: string): string | null }): RateLimit | null {
  const limit = Number(headers.get('x-rate-limit-limit'));
  const remaining = Number(headers.get('x-rate-limit-remaining'));
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || headers.get('x-rate-limit-limit') === null) return null;
  const reset = Number(headers.get('x-rate-limit-reset'));
  return {
    limit,
    remaining,
    resetAt: Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : null,
  };
}

let sdkPromise: Promise<SdkParts> | undefined;

/**
 * The SDK's HTTP layer and request executor, loaded on first use. Not its Client: that loads ~2,000 generated model
 * modules (~0.65 s) and merges ~/.okta/okta.yaml, ./okta.yaml and OKTA_CLIENT_* into every call. These parts read none
 * of them.
 */
export function loadSdk(): Promise<SdkParts> {
  sdkPromise ??= Promise.all([
    import('@okta/okta-sdk-nodejs/src/http.js'),
    import('@okta/okta-sdk-nodejs/src/default-request-executor.js'),
  ]).then(([http, executor]) => ({ Http: http.default.Http, DefaultRequestExecutor: executor.default.DefaultRequestExecutor }));
  return sdkPromise;
}

interface SdkErrorShape {
  name?: unknown;
  status?: unknown;
  errorCode?: unknown;
  errorSummary?: unknown;
  errorId?: unknown;
  message?: unknown;
}

function mapSdkError(error: unknown, call: OktaCall, what: string, last: RecordedResponse | undefined, proxy: string | undefined): CliError {
  if (error instanceof CliError) return error;
  const network = networkFailure(error, { orgUrl: call.orgUrl, timeoutMs: call.timeoutMs, proxy });
  if (network) return network;
  const err = (error ?? {}) as SdkErrorShape;
  const status = typeof err.status === 'number' ? err.status : undefined;
  const oktaErrorCode = typeof err.errorCode === 'string' ? err.errorCode : undefined;
  const oktaErrorId = typeof err.errorId === 'string' ? err.errorId : undefined;
  const summary = typeof err.errorSummary === 'string' ? redact(err.errorSummary, [call.token]) : undefined;
  const details = { httpStatus: status, oktaErrorCode, oktaErrorId };
  const said = summary === undefined ? '' : `: ${oktaErrorCode ?? ''} ${summary}`.replace(/: +/, ': ');
  const message = typeof err.message === 'string' ? err.message : '';

  if (err.name === 'OktaApiError' && status !== undefined) {
    if (status === 401) return new AuthError(`Okta rejected the token (401${said.replace(/^:/, '')})`, { ...details, hint: authHint(call.orgUrl) });
    if (status === 403) {
      const malformed = oktaErrorCode === 'E0000005';
      return new PermissionError(`the token is not allowed to call ${what} (403${said.replace(/^:/, '')})`, {
        ...details,
        hint: malformed
          ? 'Okta did not accept the Authorization header: check that this is an API token, not an OAuth token'
          : "the token has its creator's admin roles: give that admin a role that allows this call, or use another token",
      });
    }
    if (status === 429) return rateLimited(details);
    return new BadResponseError(`Okta answered HTTP ${String(status)} to ${what}${said}`, {
      ...details,
      hint: status >= 500 ? 'Okta may be having trouble: see status.okta.com, then try again' : 'check the API address',
    });
  }
  if (err.name === 'HttpError' && status !== undefined) {
    // A non-JSON error body: a proxy, a load balancer or a host that is not Okta.
    if (status === 401) return new AuthError('the host rejected the token (401, not Okta\'s JSON)', { httpStatus: status, hint: authHint(call.orgUrl) });
    if (status === 429) return rateLimited({ httpStatus: status });
    return notOktaJson(`${call.orgUrl} answered HTTP ${String(status)} to ${what}`, { httpStatus: status });
  }
  if (/HTTP 429|rateLimit/.test(message) || last?.status === 429) {
    return rateLimited({ httpStatus: 429 }, /exceed/.test(message) ? `the wait Okta asks for is longer than the ${seconds(call.timeoutMs)} timeout` : undefined);
  }
  // A bug or an SDK surprise: keep it as an internal error, with the token removed from what it says.
  const safe = new Error(redact(message, [call.token]));
  safe.name = typeof err.name === 'string' ? err.name : 'Error';
  safe.stack = redact((error as Error | undefined)?.stack ?? '', [call.token]);
  return new CliError(1, `unexpected error from the Okta SDK during ${what}: ${safe.message}`, {
    hint: 'run again with --debug and report it',
    cause: safe,
  });
}

function rateLimited(details: { httpStatus?: number | undefined; oktaErrorCode?: string | undefined; oktaErrorId?: string | undefined }, why?: string): BadResponseError {
  return new BadResponseError(`Okta is rate limiting this token (429${why ? `; ${why}` : ''})`, {
    ...details,
    httpStatus: 429,
    hint: 'wait for the rate limit to reset (about a minute) and try again; other jobs may share this token',
  });
}
