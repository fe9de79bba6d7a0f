import type { Agent } from 'node:http';
import type { AccessGrant, Identity, OktaCall, OktaGateway, OrgInfo, RateLimit } from '../connections/ports.js';
import { AuthError, BadResponseError, CliError, ExitCode, PermissionError, UsageError } from '../domain/errors.js';
import { withDeadline } from '../domain/deadline.js';
import { proxyProblem, withoutUserInfo } from '../domain/org-url.js';
import { printable } from '../domain/printable.js';
import { redact } from '../domain/redact.js';
import { secretParts, type Credential, type OAuthCredential } from '../domain/credential.js';
import { isKnownOktaHost } from '../domain/org-url.js';
import { appConsoleUrl } from '../domain/oauth.js';
import { httpsGet } from './https-get.js';
import { ANSWER_MAX, AnswerTooLargeError, classifySdkError, loadSdk, oauthSession, sdkRequest, TokenEndpointError, type OAuthSession, type SdkResponse } from './okta-sdk.js';
import { cheapCallFor, tokenEndpointFailure } from './okta-oauth.js';
import { authHint, networkFailure, notOktaJson, proxyWantsCredentials, seconds } from './okta-errors.js';

export interface GatewayOptions {
  env: Readonly<Record<string, string | undefined>>;
  userAgent: string;
}

/**
 * How each kind of credential authorises a call: an API token is its own header; an OAuth credential gets an access
 * token from the SDK's OAuth support, which sets `Authorization: Bearer …` (or `DPoP …` with a proof) itself.
 */
type Authorisation = { header: string } | { oauth: OAuthCredential };
const AUTHORIZATION: { [K in Credential['kind']]: (credential: Extract<Credential, { kind: K }>) => Authorisation } = {
  'api-token': (credential) => ({ header: `SSWS ${credential.token}` }),
  oauth: (credential) => ({ oauth: credential }),
};

function authorization(call: OktaCall): Authorisation {
  return call.credential.kind === 'oauth' ? AUTHORIZATION.oauth(call.credential) : AUTHORIZATION['api-token'](call.credential);
}

export function oktaGateway(options: GatewayOptions): OktaGateway {
  const proxyVariable = options.env.HTTPS_PROXY === undefined ? 'https_proxy' : 'HTTPS_PROXY';
  const proxy = options.env.HTTPS_PROXY ?? options.env.https_proxy;
  // An address the proxy agent cannot use fails every call before any request, naming the variable (it threw a
  // TypeError from inside the agent: exit 1).
  const unusableProxy = proxy === undefined || proxy === '' ? undefined : proxyProblem(proxy);
  const assertProxy = (): void => {
    if (unusableProxy === undefined) return;
    throw new UsageError(`invalid ${proxyVariable}: ${unusableProxy}`, {
      hint: `set it to the proxy's address, e.g. ${proxyVariable}=http://proxy.corp:3128, or unset it`,
    });
  };
  const viaProxy = proxy !== undefined && proxy !== '';
  // One agent for every request, the org check's and the SDK's: through the proxy when there is one, and always
  // verifying the host's certificate. rejectUnauthorized is set here because Node's default follows
  // NODE_TLS_REJECT_UNAUTHORIZED, and with it at 0 the token went to any certificate at all (a TLS-inspecting proxy's
  // CA belongs in NODE_EXTRA_CA_CERTS instead, which Node adds to the trusted roots).
  let agent: Promise<Agent> | undefined;
  const verifyingAgent = (): Promise<Agent> =>
    (agent ??= proxy === undefined || proxy === ''
      ? import('node:https').then(({ Agent: HttpsAgent }) => new HttpsAgent({ rejectUnauthorized: true }))
      : // Loaded only when a proxy is set. An ES module since v8: a named export.
        import('https-proxy-agent').then(({ HttpsProxyAgent }) => {
          // Its constructor's options reach only the connection to the proxy; the TLS to Okta inside the tunnel is
          // made from each request's options, so the check is set on those.
          type Connect = InstanceType<typeof HttpsProxyAgent<string>>['connect'];
          class VerifyingProxyAgent extends HttpsProxyAgent<string> {
            override connect(...[req, opts]: Parameters<Connect>): ReturnType<Connect> {
              return super.connect(req, opts.secureEndpoint ? { ...opts, rejectUnauthorized: true } : opts);
            }
          }
          return new VerifyingProxyAgent(proxy, { rejectUnauthorized: true });
        }));

  // One OAuth session (the SDK's OAuth, its token cache) per credential and run: test's token request and its call share it.
  const sessions = new WeakMap<OAuthCredential, Promise<OAuthSession>>();
  const sessionOf = (input: OktaCall, credential: OAuthCredential): Promise<OAuthSession> => {
    let session = sessions.get(credential);
    if (!session) {
      session = verifyingAgent().then((agent) =>
        oauthSession({ orgUrl: input.orgUrl, clientId: credential.clientId, scopes: credential.scopes, privateKey: credential.privateKey, keyId: credential.keyId, timeoutMs: input.timeoutMs, agent, proxy, userAgent: options.userAgent }),
      );
      sessions.set(credential, session);
    }
    return session;
  };

  async function checkOrg(orgUrl: string, timeoutMs: number): Promise<OrgInfo> {
    assertProxy();
    const url = `${orgUrl}/.well-known/okta-organization`;
    let response;
    try {
      response = await httpsGet(url, timeoutMs, await verifyingAgent());
    } catch (error) {
      throw networkFailure(error, { orgUrl, timeoutMs, proxy }) ?? error;
    }
    const notOrg = (why: string): BadResponseError =>
      new BadResponseError(`${orgUrl} is not an Okta org: ${why}`, {
        httpStatus: response.status,
        hint: 'check the API address: it is https://<your-org>.okta.com (or your custom domain), as in the Admin Console',
      });
    // https-proxy-agent hands the proxy's refusal of the tunnel to the request as if the host had answered it.
    if (response.status === 407 && viaProxy) throw proxyWantsCredentials(proxy);
    if (response.status === 429) throw new BadResponseError(`${orgUrl} is rate limiting requests (429)`, { httpStatus: 429, hint: 'wait a minute and try again' });
    if (response.status >= 300 && response.status < 400) {
      // A header value may carry C1 controls (bytes 0x80-0x9f read as latin1) and user-info.
      throw notOrg(`it redirects to ${printable(withoutUserInfo(String(response.headers.location ?? 'another address')))}`);
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
    return { id: meta.id, oktaUrl: oktaOrigin(meta._links?.organization?.href) };
  }

  /**
   * One call through the SDK seam, with a timeout, the credential only in the Authorization header, and our error
   * mapping. Returns the parsed JSON body, if any, and the final response's headers.
   */
  async function call(input: OktaCall, method: 'get' | 'delete', path: string): Promise<{ body: unknown; status: number; headers: { get(name: string): string | null } }> {
    assertProxy();
    const what = `${method.toUpperCase()} ${path}`;
    const seen: { lastStatus?: number } = {};
    const agent = await verifyingAgent();
    try {
      const exchange = async (): Promise<{ body: unknown; status: number; headers: { get(name: string): string | null } }> => {
        const how = authorization(input);
        const headers = { 'User-Agent': options.userAgent, Accept: 'application/json' };
        const url = `${input.orgUrl}${path}`;
        const response: SdkResponse =
          'header' in how
            ? await sdkRequest({ url, method, headers: { Authorization: how.header, ...headers }, timeoutMs: input.timeoutMs, agent, proxy }, seen)
            : await (await sessionOf(input, how.oauth)).request({ url, method, headers }, seen);
        if (response.text === '') return { body: undefined, status: response.status, headers: response.headers };
        try {
          return { body: JSON.parse(response.text) as unknown, status: response.status, headers: response.headers };
        } catch {
          throw notOktaJson(`${input.orgUrl} answered ${what} with a body that is not JSON`, { httpStatus: response.status });
        }
      };
      // The executor's own timeout covers each request; this one also covers a 429 retry's wait and the body.
      return await withDeadline(exchange(), input.timeoutMs + 250, () => {
        throw Object.assign(new Error('timeout'), { type: 'request-timeout' });
      });
    } catch (error) {
      throw mapError(error, input, what, seen.lastStatus, proxy, oktaUrls.get(input.orgUrl));
    }
  }

  // One check per org and run: test --all over several tokens of one org asks it once (and they share the answer).
  const checks = new Map<string, Promise<OrgInfo>>();
  // The admin host the org check found (a custom domain's), for the links of later errors: the app's page, not a guess.
  const oktaUrls = new Map<string, string | null>();
  const checkOrgOnce = (orgUrl: string, timeoutMs: number): Promise<OrgInfo> => {
    let check = checks.get(orgUrl);
    if (!check) {
      check = checkOrg(orgUrl, timeoutMs);
      checks.set(orgUrl, check);
      // A failure is not kept: the address typed again at add's prompt is asked again.
      check.then(
        (info) => oktaUrls.set(orgUrl, info.oktaUrl),
        () => checks.delete(orgUrl),
      );
    }
    return check;
  };

  const gateway: OktaGateway = {
    ready: () => loadSdk().then(() => undefined),
    checkOrg: checkOrgOnce,
    async accessToken(input): Promise<AccessGrant> {
      const { credential } = input;
      if (credential.kind !== 'oauth') throw new CliError(ExitCode.internal, 'an access token was asked for an API-token connection');
      assertProxy();
      try {
        const grant = await withDeadline((await sessionOf(input, credential)).token(), input.timeoutMs + 250, () => {
          throw Object.assign(new Error('timeout'), { type: 'request-timeout' });
        });
        return { accessToken: grant.accessToken, tokenType: grant.tokenType, expiresInS: grant.expiresIn, scopes: grant.scopes, isDPoP: grant.isDPoP };
      } catch (error) {
        throw mapError(error, input, 'POST /oauth2/v1/token', undefined, proxy, oktaUrls.get(input.orgUrl));
      }
    },
    async whoAmI(input): Promise<Identity> {
      if (input.credential.kind === 'oauth') return oauthIdentity(input, input.credential);
      const { body, status, headers } = await call(input, 'get', '/api/v1/users/me');
      const user = (body ?? {}) as { id?: unknown; status?: unknown; profile?: unknown };
      // A 200 HTML page or an empty object is not Okta: only a user id proves it answered.
      if (typeof user.id !== 'string' || user.id === '') {
        throw notOktaJson(`${input.orgUrl} answered /api/v1/users/me without a user`, { httpStatus: status });
      }
      const profile = (user.profile ?? {}) as { login?: unknown };
      // Printed on every later list and test, and saved: terminal controls never come in (an OSC title, a clear).
      return {
        owner: {
          id: user.id,
          login: typeof profile.login === 'string' ? printable(profile.login) : null,
          status: typeof user.status === 'string' ? printable(user.status) : null,
        },
        rateLimit: rateLimitOf(headers),
      };
    },
    roles: async (input, userId) => roles(input, userId),
    async revokeCurrentToken(input) {
      await call(input, 'delete', '/api/v1/api-tokens/current');
    },
  };

  /** The OAuth test: a token, then one cheap call a granted scope allows. The owner is the client id. */
  async function oauthIdentity(input: OktaCall, credential: OAuthCredential): Promise<Identity> {
    const started = Date.now();
    const grant = await gateway.accessToken(input);
    const path = cheapCallFor(grant.scopes ?? credential.scopes);
    let rateLimit: RateLimit | null = null;
    if (path !== undefined) {
      const { body, status, headers } = await call({ ...input, timeoutMs: Math.max(1, input.timeoutMs - (Date.now() - started)) }, 'get', path);
      if (body === undefined || typeof body !== 'object') throw notOktaJson(`${input.orgUrl} answered GET ${path} without JSON`, { httpStatus: status });
      rateLimit = rateLimitOf(headers);
    }
    return {
      owner: { id: credential.clientId, login: credential.clientId, status: null },
      rateLimit,
      oauth: { scopes: grant.scopes, expiresInS: grant.expiresInS, isDPoP: grant.isDPoP, checked: path === undefined ? null : `GET ${path}` },
    };
  }

  async function roles(input: OktaCall, userId: string): Promise<string[]> {
      const { body } = await call(input, 'get', `/api/v1/users/${encodeURIComponent(userId)}/roles`);
      if (!Array.isArray(body)) throw notOktaJson(`${input.orgUrl} answered the roles request without a list`);
      return body
        .map((role: { label?: unknown; type?: unknown } | null) =>
          typeof role?.label === 'string' ? printable(role.label) : typeof role?.type === 'string' ? printable(role.type) : null,
        )
        .filter((label): label is string => label !== null);
  }
  return gateway;
}

/** An https origin inside Okta's domains, or null: the answer is untrusted, and this only ever becomes a link to show. */
function oktaOrigin(href: unknown): string | null {
  if (typeof href !== 'string') return null;
  try {
    const url = new URL(href);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && isKnownOktaHost(url.hostname) ? url.origin : null;
  } catch {
    return null;
  }
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

function mapError(error: unknown, call: OktaCall, what: string, lastStatus: number | undefined, proxy: string | undefined, oktaUrl: string | null | undefined): CliError {
  if (error instanceof CliError) return error;
  if (lastStatus === 407 && proxy !== undefined && proxy !== '') return proxyWantsCredentials(proxy);
  const network = networkFailure(error, { orgUrl: call.orgUrl, timeoutMs: call.timeoutMs, proxy });
  if (network) return network;
  if (error instanceof AnswerTooLargeError) {
    return notOktaJson(`${call.orgUrl} answered ${what} with more than ${String(ANSWER_MAX / 1024 / 1024)} MiB, far more than Okta's answer`, { httpStatus: error.httpStatus });
  }
  const secrets = secretParts(call.credential);
  if (error instanceof TokenEndpointError && call.credential.kind === 'oauth') {
    return tokenEndpointFailure(error, call.orgUrl, call.credential, (text) => redact(text, secrets), oktaUrl);
  }
  const failure = classifySdkError(error, lastStatus);
  if (failure?.kind === 'resource-nonce') return resourceNonceFailure(failure.why, what);
  if (call.credential.kind === 'oauth' && failure?.kind === 'okta-api' && (failure.status === 401 || failure.status === 403)) {
    return oauthCallFailure(failure.status, failure.errorCode, failure.errorId, what, call.credential, appConsoleUrl(call.orgUrl, call.credential.clientId, oktaUrl));
  }
  if (failure?.kind === 'okta-api') {
    const { status } = failure;
    const summary = failure.errorSummary === undefined ? undefined : redact(printable(failure.errorSummary), secrets);
    const oktaErrorCode = failure.errorCode === undefined ? undefined : printable(failure.errorCode);
    const oktaErrorId = failure.errorId === undefined ? undefined : printable(failure.errorId);
    const details = { httpStatus: status, oktaErrorCode, oktaErrorId };
    const said = summary === undefined ? '' : `: ${oktaErrorCode ?? ''} ${summary}`.replace(/: +/, ': ');
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
    if (status === 429) return rateLimited(details, call.credential);
    return new BadResponseError(`Okta answered HTTP ${String(status)} to ${what}${said}`, {
      ...details,
      hint: status >= 500 ? 'Okta may be having trouble: see status.okta.com, then try again' : 'check the API address',
    });
  }
  if (failure?.kind === 'http') {
    // A non-JSON error body: a proxy, a load balancer or a host that is not Okta.
    if (failure.status === 401) return new AuthError("the host rejected the token (401, not Okta's JSON)", { httpStatus: 401, hint: authHint(call.orgUrl) });
    if (failure.status === 429) return rateLimited({ httpStatus: 429 }, call.credential);
    return notOktaJson(`${call.orgUrl} answered HTTP ${String(failure.status)} to ${what}`, { httpStatus: failure.status });
  }
  if (failure?.kind === 'rate-limited') {
    return rateLimited({ httpStatus: 429 }, call.credential, failure.isWaitTooLong ? `the wait Okta asks for is longer than the ${seconds(call.timeoutMs)} timeout` : undefined);
  }
  // A bug or an SDK surprise: keep it as an internal error, with the secret removed from what it says.
  const err = error as { name?: unknown; message?: unknown; stack?: unknown } | null;
  const safe = new Error(redact(typeof err?.message === 'string' ? err.message : String(error), secrets));
  safe.name = typeof err?.name === 'string' ? err.name : 'Error';
  safe.stack = redact(typeof err?.stack === 'string' ? err.stack : '', secrets);
  return new CliError(ExitCode.internal, `unexpected error from the Okta SDK during ${what}: ${safe.message}`, {
    hint: 'run again with --debug and report it',
    cause: safe,
  });
}

/** Okta's rate limit, said of what it limits: the token, or an OAuth app (whose every access token shares it). */
function rateLimited(details: { httpStatus?: number | undefined; oktaErrorCode?: string | undefined; oktaErrorId?: string | undefined }, credential: Credential, why?: string): BadResponseError {
  const whom = credential.kind === 'oauth' ? `the app ${credential.clientId}` : 'this token';
  return new BadResponseError(`Okta is rate limiting ${whom} (429${why ? `; ${why}` : ''})`, {
    ...details,
    httpStatus: 429,
    hint: `wait for the rate limit to reset (about a minute) and try again; other jobs may share ${credential.kind === 'oauth' ? 'this app' : 'this token'}`,
  });
}

/**
 * A DPoP nonce challenge from the API (RFC 9449 §9) that one retry with the nonce did not meet. Not a revoked or
 * rejected token: Okta's answer was not what its protocol says (exit 7).
 */
function resourceNonceFailure(why: 'repeated' | 'no-nonce' | 'not-dpop', what: string): BadResponseError {
  const said = {
    repeated: `Okta asked for a new DPoP nonce on ${what} again after one was sent (use_dpop_nonce)`,
    'no-nonce': `Okta asked for a DPoP nonce on ${what} but sent none (use_dpop_nonce without a DPoP-Nonce header)`,
    'not-dpop': `Okta asked for a DPoP proof with a nonce on ${what}, for an access token that is not DPoP-bound (use_dpop_nonce)`,
  }[why];
  return new BadResponseError(said, {
    httpStatus: 401,
    oktaErrorCode: 'use_dpop_nonce',
    refusal: 'dpop',
    hint: 'this is not a revoked or rejected key: try again; if it persists, check the clock, then report it with the output of --debug',
  });
}

/** A management call refused with an OAuth access token: the token or its scopes and the app's admin roles. */
/** `app`: the app's page in the Admin Console. */
function oauthCallFailure(status: number, oktaErrorCode: string | undefined, oktaErrorId: string | undefined, what: string, credential: OAuthCredential, app: string): CliError {
  const details = { httpStatus: status, oktaErrorCode, oktaErrorId };
  if (status === 401) {
    return new AuthError(`Okta rejected the access token on ${what} (401 ${oktaErrorCode ?? ''})`.replace(/ \)$/, ')'), {
      ...details,
      hint: 'the token was issued but not accepted: check the clock, then run okta-connect test again',
    });
  }
  return new PermissionError(`the app ${credential.clientId} is not allowed to call ${what} (403 ${oktaErrorCode ?? ''})`.replace(/ \)$/, ')'), {
    ...details,
    hint: `grant the scope it needs on the app's "Okta API Scopes" tab and give the app an admin role that allows it (${app.replace('#tab-general', '#tab-okta-api-scopes')})`,
  });
}
