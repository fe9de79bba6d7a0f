import type { OAuth as SdkOAuth, OAuthClient } from '@okta/okta-sdk-nodejs/src/oauth.js';
import type { GenerateDpopJwt } from '@okta/okta-sdk-nodejs/src/dpop.js';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type JsonWebKey } from 'node:crypto';
import type { Agent } from 'node:http';
import type * as OktaSdk from '@okta/okta-sdk-nodejs';
import type { Http } from '@okta/okta-sdk-nodejs/src/http.js';
import { printable } from '../domain/printable.js';

/**
 * The one seam to @okta/okta-sdk-nodejs. Everything that knows the SDK's internals is here: the deep imports (the SDK
 * has no `exports` map, and its `Http` export changed shape between majors), the patched executor, the error class
 * names and message shapes. test/unit/okta-sdk-surface.test.ts fails loudly when any of them changes; scripts/build.js
 * fails when a stub for the SDK's dependencies matches nothing.
 */

/** What the seam hands back: the final response (after any 429 retry) and its body. */
export interface SdkResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

export interface SdkRequest {
  url: string;
  method: 'get' | 'delete';
  headers: Record<string, string>;
  timeoutMs: number;
  /**
   * The agent every request goes through: it carries the proxy, if any, and verifies the certificate. It replaces the
   * SDK's own (a proxy agent made from HTTPS_PROXY, which follows NODE_TLS_REJECT_UNAUTHORIZED): the SSWS header must
   * never reach a host whose certificate was not verified.
   */
  agent: Agent;
  /**
   * HTTPS_PROXY as validated: given to the SDK so that it does not build its agent from process.env on its own (where
   * https_proxy wins, and an unparsable value throws from its constructor). That agent is replaced by `agent`.
   */
  proxy: string | undefined;
}

/** An SDK failure, classified; `undefined` for anything the seam does not recognise (network errors are not its job). */
export type SdkFailure =
  | { kind: 'okta-api'; status: number; errorCode: string | undefined; errorSummary: string | undefined; errorId: string | undefined }
  | { kind: 'http'; status: number }
  | { kind: 'rate-limited'; isWaitTooLong: boolean }
  /** RFC 9449 §9 nonce challenge not met: asked again after one was sent, given no nonce, or sent to a Bearer token. */
  | { kind: 'resource-nonce'; why: 'repeated' | 'no-nonce' | 'not-dpop' };

/** The error class names the SDK's errors carry (`src/api-error.js`, `src/http-error.js`). */
export const SDK_ERROR_NAMES = { api: 'OktaApiError', http: 'HttpError' } as const;

interface SdkParts {
  Http: typeof Http;
  DefaultRequestExecutor: (typeof OktaSdk)['DefaultRequestExecutor'];
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

/**
 * One request through the SDK's HTTP layer (its request executor, with one retry on 429, and its error types), without
 * following redirects. Rejects with the SDK's own error; `lastStatus` tells the caller what the final response was.
 */
export async function sdkRequest(request: SdkRequest, seen: { lastStatus?: number }): Promise<SdkResponse> {
  const sdk = await loadSdk();
  const executor = new sdk.DefaultRequestExecutor({ maxRetries: 1, requestTimeout: request.timeoutMs });
  let last: { status: number; headers: SdkResponse['headers'] } | undefined;
  const fetchOriginal = executor.fetch.bind(executor);
  // Keep the final response (after any retry) for its rate-limit headers. Okta's API never redirects, and node-fetch
  // would follow a redirect keeping the credential for the same host name on any port, or a subdomain: hosts that never
  // identified as an Okta org. Never follow; a 3xx is a wrong answer.
  executor.fetch = async (sdkRequest) => {
    const response = await bounded((await fetchOriginal(Object.assign(sdkRequest, { redirect: 'manual' as const, agent: request.agent }))) as NonNullable<typeof last>);
    last = response;
    seen.lastStatus = response.status;
    return response as never;
  };
  const http = new sdk.Http({ requestExecutor: executor, cacheMiddleware: null, ...(request.proxy ? { httpsProxy: request.proxy } : {}) });
  http.defaultHeaders = request.headers;
  const response = await http.http(request.url, { method: request.method });
  const text = await response.text();
  return { status: response.status, headers: last?.headers ?? response.headers, text };
}

/** What an SDK rejection was, from the SDK's error names and messages. */
export function classifySdkError(error: unknown, lastStatus: number | undefined): SdkFailure | undefined {
  const err = (error ?? {}) as { name?: unknown; status?: unknown; errorCode?: unknown; errorSummary?: unknown; errorId?: unknown; message?: unknown };
  const status = typeof err.status === 'number' ? err.status : undefined;
  // Okta's words, cleaned here once: every message and JSON field made of them is then free of escape sequences.
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? printable(value) : undefined);
  if (error instanceof ResourceNonceError) return { kind: 'resource-nonce', why: error.isRepeated ? 'repeated' : 'no-nonce' };
  const headers = (error as { headers?: { get?: unknown } } | null)?.headers;
  if (status !== undefined && typeof headers?.get === 'function' && isResourceNonceChallenge(status, headers as SdkResponse['headers'])) {
    return { kind: 'resource-nonce', why: 'not-dpop' };
  }
  if (err.name === SDK_ERROR_NAMES.api && status !== undefined) {
    return { kind: 'okta-api', status, errorCode: text(err.errorCode), errorSummary: text(err.errorSummary), errorId: text(err.errorId) };
  }
  if (err.name === SDK_ERROR_NAMES.http && status !== undefined) return { kind: 'http', status };
  // The executor gives up on a 429 with a plain Error: "HTTP 429 …" or a message about the rate-limit wait.
  const message = text(err.message) ?? '';
  if (/HTTP 429|rateLimit/.test(message) || lastStatus === 429) return { kind: 'rate-limited', isWaitTooLong: /exceed/.test(message) };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// PrivateKey (OAuth 2.0 service app) mode: the SDK's own OAuth class (src/oauth.js: client_credentials with a
// private_key_jwt assertion signed by njwt, the DPoP nonce retry, the token cache), loaded only for OAuth connections.
// SDK 8.1.0 bugs on this path are patched here, each pinned by a test in test/unit/okta-sdk-surface.test.ts:
//  1. src/oauth.js requires './http' as a whole, whose `errorFilter` is then undefined: every token-endpoint error
//     (invalid_client, invalid_scope…) is cached as the "access token" and the next call fails as 401 "Bearer undefined".
//     → the token request's answer is checked here; an error is thrown as a TokenEndpointError.
//  2. The use_dpop_nonce retry recurses with no bound. → a second nonce challenge is an error.
//  3. src/dpop.js signs every proof with alg RS256 (an EC key fails with "unsupported algorithm", before even the token
//     request, DPoP required or not) and sends the request's method as given ('get': RFC 9449 wants 'GET').
//     → the proof generator is replaced with one made with node:crypto, before src/oauth.js reads it.
//  4. The token request is sent without the proxy agent (okta/okta-sdk-nodejs#383). → every request, the token
//     request's too, goes through the one verifying agent (the proxy's, if any), as sdkRequest's do.
//  5. A resource server's DPoP nonce challenge (RFC 9449 §9: 401, `WWW-Authenticate: DPoP error="use_dpop_nonce"`,
//     a `DPoP-Nonce` header) is never answered: Http#http clears the token and sends a new proof without a nonce, and
//     the 401 is then an HttpError like a revoked token's. → the call is sent again once with a proof carrying the
//     nonce; a second challenge, or one without a nonce, is a ResourceNonceError (its own message, not "revoked").
// ---------------------------------------------------------------------------------------------------------------------


interface OAuthSdkParts {
  OAuth: typeof SdkOAuth;
  /** The SDK's own proof generator, kept for the surface test that shows patch 3 is still needed. */
  sdkDpopProof: GenerateDpopJwt;
}

let oauthPromise: Promise<OAuthSdkParts> | undefined;

export function loadOAuthSdk(): Promise<OAuthSdkParts> {
  oauthPromise ??= (async () => {
    // Order matters: src/oauth.js copies generateDpopJwt out of src/dpop.js when it loads, so the patch goes in first.
    const dpop = (await import('@okta/okta-sdk-nodejs/src/dpop.js')).default;
    const sdkDpopProof = dpop.generateDpopJwt;
    if (sdkDpopProof !== dpopProof) dpop.generateDpopJwt = dpopProof;
    const { OAuth } = (await import('@okta/okta-sdk-nodejs/src/oauth.js')).default;
    return { OAuth, sdkDpopProof };
  })();
  return oauthPromise;
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** Patch 3: an RFC 9449 DPoP proof, RS256 or ES256 after the key, `htm` upper-case, `htu` without query or fragment. */
export const dpopProof: GenerateDpopJwt = (request, client, accessToken = null, nonce = null) => {
  const jwk = JSON.parse(client.privateKey) as JsonWebKey;
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const isEc = key.asymmetricKeyType === 'ec';
  const { kty, n, e, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  const publicJwk = isEc ? { kty, crv, x, y } : { kty, n, e };
  const header = { typ: 'dpop+jwt', alg: isEc ? 'ES256' : 'RS256', jwk: publicJwk };
  const url = request ? new URL(request.url) : new URL(`${client.baseUrl}/oauth2/v1/token`);
  const payload: Record<string, string | number> = {
    htm: request ? request.method.toUpperCase() : 'POST',
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
  };
  if (nonce) payload.nonce = nonce;
  if (accessToken) payload.ath = createHash('sha256').update(accessToken).digest('base64url');
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), isEc ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return Promise.resolve(`${input}.${signature.toString('base64url')}`);
};

/** What was wrong with a token endpoint answer that was not an RFC 6749 error: a 2xx that is no token, a 429. */
export type TokenAnswerProblem =
  | { kind: 'not-json'; contentType: string }
  | { kind: 'too-large'; bytes: number; isAtLeast?: boolean }
  | { kind: 'no-token' }
  | { kind: 'rate-limited'; retryAfterS: number | undefined };

/**
 * An error answer of the token endpoint, as Okta gave it (RFC 6749 §5.2 `error`, `error_description`), or an answer
 * that is none (`problem`). Okta's words are cleaned of control, escape and bidi characters here, before any message,
 * human or JSON, is made of them.
 */
export class TokenEndpointError extends Error {
  readonly error: string | undefined;
  readonly description: string | undefined;
  constructor(
    readonly status: number,
    error: string | undefined,
    description: string | undefined,
    readonly isRepeatedNonce = false,
    readonly problem?: TokenAnswerProblem,
  ) {
    const clean = (value: string | undefined): string | undefined => (value === undefined ? undefined : printable(value));
    super(`token endpoint answered HTTP ${String(status)} ${clean(error) ?? problem?.kind ?? ''}`.trim());
    this.error = clean(error);
    this.description = clean(description);
    this.name = 'TokenEndpointError';
  }
}

/** The most a token answer may be: Okta's are under 4 KiB (a DPoP-bound JWT and a few members). */
const TOKEN_ANSWER_MAX = 64 * 1024;

/**
 * The most any answer may be. okta-connect's calls (/users/me, a page of one user, an admin's roles, a token) are
 * answered in under 10 KiB; a host that streams without end must not fill the memory until the timeout.
 */
export const ANSWER_MAX = 4 * 1024 * 1024;

/** An answer longer than ANSWER_MAX (read up to there, the rest never). */
export class AnswerTooLargeError extends Error {
  constructor(readonly httpStatus: number) {
    super(`the answer (HTTP ${String(httpStatus)}) is longer than ${String(ANSWER_MAX / 1024 / 1024)} MiB`);
    this.name = 'AnswerTooLargeError';
  }
}

interface BufferedResponse {
  status: number;
  statusText?: string;
  url?: string;
  headers: unknown;
  body?: unknown;
  text(): Promise<string>;
}

/**
 * The response with its body read here, at most ANSWER_MAX bytes, as a new response of the same class (node-fetch's)
 * holding that text: the SDK's own readers (json, text, its error parsing) then never read an unbounded stream.
 */
async function bounded<R>(response: R): Promise<R> {
  const res = response as unknown as BufferedResponse;
  const stream = res.body as (AsyncIterable<Buffer | string> & { destroy?: () => void }) | null | undefined;
  if (stream === null || stream === undefined || typeof stream[Symbol.asyncIterator] !== 'function') return response;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const part = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += part.length;
    // Leaving the loop ends the stream: nothing more is read.
    if (size > ANSWER_MAX) throw new AnswerTooLargeError(res.status);
    chunks.push(part);
  }
  const Response = (response as { constructor: new (body: string, init: object) => R }).constructor;
  return new Response(Buffer.concat(chunks).toString('utf8'), { status: res.status, statusText: res.statusText, headers: res.headers, url: res.url });
}

/** When a 429 says it may be tried again: Retry-After (seconds) or Okta's x-rate-limit-reset (epoch seconds). */
export function retryAfterS(headers: { get(name: string): string | null }, now = Date.now()): number | undefined {
  const after = Number(headers.get('retry-after'));
  if (Number.isFinite(after) && after > 0) return Math.ceil(after);
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(1, Math.ceil(reset - now / 1000));
  return undefined;
}

/**
 * Patch 1, the success half: a 2xx answer is handed to the SDK only when it is a JSON object with a string access
 * token. node-fetch's `res.json()` would otherwise fail on HTML with a SyntaxError quoting the body (an unexpected error,
 * exit 1); the SDK would take a JSON without a token for one.
 */
async function checkTokenAnswer(response: FetchedResponse): Promise<void> {
  const contentType = response.headers.get('content-type') ?? '';
  const shownType = printable(contentType.split(';')[0]?.trim() ?? '').slice(0, 60) || 'no content type';
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > TOKEN_ANSWER_MAX) throw new TokenEndpointError(response.status, undefined, undefined, false, { kind: 'too-large', bytes: declared });
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(contentType.trim())) throw new TokenEndpointError(response.status, undefined, undefined, false, { kind: 'not-json', contentType: shownType });
  const text = await response.clone().text();
  if (text.length > TOKEN_ANSWER_MAX) throw new TokenEndpointError(response.status, undefined, undefined, false, { kind: 'too-large', bytes: Buffer.byteLength(text) });
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new TokenEndpointError(response.status, undefined, undefined, false, { kind: 'not-json', contentType: shownType });
  }
  const token = (answer as { access_token?: unknown } | null)?.access_token;
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer) || typeof token !== 'string' || token === '') {
    throw new TokenEndpointError(response.status, undefined, undefined, false, { kind: 'no-token' });
  }
}

/** A management call's DPoP nonce challenge that could not be met (patch 5): asked again, or asked without a nonce. */
export class ResourceNonceError extends Error {
  /** Not `status`: Http#http would take a `status` 401 for a stale token, and ask for a new one and retry. */
  constructor(
    readonly httpStatus: number,
    readonly isRepeated: boolean,
  ) {
    super(`the API answered HTTP ${String(httpStatus)} use_dpop_nonce ${isRepeated ? 'again after the nonce was sent' : 'without a DPoP-Nonce header'}`);
    this.name = 'ResourceNonceError';
  }
}

/** RFC 9449 §9: the resource server wants a nonce in the proof (`WWW-Authenticate: DPoP error="use_dpop_nonce"`). */
export function isResourceNonceChallenge(status: number, headers: { get(name: string): string | null }): boolean {
  return status === 401 && /\bDPoP\b[\s\S]*?\berror\s*=\s*"?use_dpop_nonce\b/i.test(headers.get('www-authenticate') ?? '');
}

/** What the executor's fetch resolves to (a node-fetch Response), as far as the seam reads it. */
interface FetchedResponse {
  status: number;
  headers: SdkResponse['headers'];
  text(): Promise<string>;
  clone(): { text(): Promise<string> };
}

/** A request as the executor's fetch receives it from Http#http. */
interface ResourceRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export interface OAuthConfig {
  orgUrl: string;
  clientId: string;
  scopes: string[];
  privateKey: Record<string, string>;
  keyId: string;
  timeoutMs: number;
  /** The verifying agent (see SdkRequest.agent): the token request and every call go through it. */
  agent: Agent;
  proxy: string | undefined;
  userAgent: string;
}

/** What the token endpoint granted: the token and what the answer said of it. */
export interface TokenGrant {
  accessToken: string;
  tokenType: string;
  expiresIn: number | null;
  scopes: string[] | null;
  isDPoP: boolean;
}

export interface OAuthSession {
  /** A fresh access token through the SDK's OAuth (cached for this session). */
  token(): Promise<TokenGrant>;
  /** One request with the access token (`Bearer`, or `DPoP` with a proof), through the SDK's HTTP layer. */
  request(request: { url: string; method: 'get' | 'delete'; headers: Record<string, string> }, seen: { lastStatus?: number }): Promise<SdkResponse>;
}

export async function oauthSession(config: OAuthConfig): Promise<OAuthSession> {
  const [sdk, { OAuth }] = await Promise.all([loadSdk(), loadOAuthSdk()]);
  const executor = new sdk.DefaultRequestExecutor({ maxRetries: 1, requestTimeout: config.timeoutMs });
  const fetchOriginal = executor.fetch.bind(executor);
  const tokenUrl = `${config.orgUrl}/oauth2/v1/token`;
  const state: { seen: { lastStatus?: number }; last: SdkResponse['headers'] | undefined; challenges: number; resourceChallenges: number } = {
    seen: {},
    last: undefined,
    challenges: 0,
    resourceChallenges: 0,
  };
  const http = new sdk.Http({ requestExecutor: executor, cacheMiddleware: null, ...(config.proxy ? { httpsProxy: config.proxy } : {}) });
  // The executor may give up on a 429 (its wait too long) with a plain Error and no response: its wait is read first.
  let tokenRetryAfterS: number | undefined;
  const parseOriginal = executor.parseResponse.bind(executor);
  executor.parseResponse = (request, response) => {
    const answer = response as unknown as FetchedResponse;
    if (answer.status === 429 && (request as { url?: string }).url === tokenUrl) tokenRetryAfterS = retryAfterS(answer.headers);
    return parseOriginal(request, response) as never;
  };
  executor.fetch = async (request) => {
    const isToken = (request as { url?: string }).url === tokenUrl;
    // Patch 4: the verifying agent on the token request too; and our User-Agent, as on every other call.
    if (isToken) (request as { headers: Record<string, string> }).headers['User-Agent'] = config.userAgent;
    const response = (await fetchOriginal(Object.assign(request, { redirect: 'manual' as const, agent: config.agent })).catch((error: unknown) => {
      // The executor gives up on a 429 whose wait is too long with a plain Error: the token endpoint's own rate limit.
      if (isToken && error instanceof Error && /HTTP 429/.test(error.message)) throw new TokenEndpointError(429, undefined, undefined, false, { kind: 'rate-limited', retryAfterS: tokenRetryAfterS });
      throw error;
    }).then(bounded).catch((error: unknown) => {
      if (isToken && error instanceof AnswerTooLargeError) throw new TokenEndpointError(error.httpStatus, undefined, undefined, false, { kind: 'too-large', bytes: ANSWER_MAX, isAtLeast: true });
      throw error;
    })) as unknown as FetchedResponse;
    state.seen.lastStatus = response.status;
    state.last = response.headers;
    if (!isToken) return (await answerResourceNonce(request as unknown as ResourceRequest, response)) as never;
    if (response.status >= 200 && response.status < 300) {
      await checkTokenAnswer(response);
      return response as never;
    }
    if (response.status === 429) throw new TokenEndpointError(429, undefined, undefined, false, { kind: 'rate-limited', retryAfterS: retryAfterS(response.headers) });
    // Patch 1: the SDK would take this answer for a token. Patch 2: one nonce challenge only.
    let body: { error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(await response.clone().text()) as typeof body;
    } catch {
      body = {};
    }
    const error = typeof body.error === 'string' ? body.error : undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    if (error === 'use_dpop_nonce' && response.headers.get('dpop-nonce') !== null) {
      state.challenges += 1;
      if (state.challenges === 1) return response as never;
      throw new TokenEndpointError(response.status, error, description, true);
    }
    throw new TokenEndpointError(response.status, error, description);
  };
  const client: OAuthClient = {
    baseUrl: config.orgUrl,
    clientId: config.clientId,
    scopes: config.scopes,
    privateKey: JSON.stringify(config.privateKey),
    keyId: config.keyId,
    requestExecutor: executor,
  };
  const oauth = new OAuth(client);
  /** Patch 5: one more try with the resource server's nonce in a new proof; then its answer, whatever it is. */
  const answerResourceNonce = async (request: ResourceRequest, response: FetchedResponse): Promise<FetchedResponse> => {
    if (!isResourceNonceChallenge(response.status, response.headers) || request.headers.DPoP === undefined) return response;
    const nonce = response.headers.get('dpop-nonce');
    if (nonce === null || nonce === '' || state.resourceChallenges > 0) throw new ResourceNonceError(response.status, nonce !== null && nonce !== '');
    state.resourceChallenges += 1;
    await response.text().catch(() => ''); // frees the connection
    const accessToken = (request.headers.Authorization ?? '').replace(/^DPoP /, '');
    request.headers.DPoP = await dpopProof({ method: request.method, url: request.url }, client, accessToken, nonce);
    const again = (await fetchOriginal(Object.assign(request, { redirect: 'manual' as const, agent: config.agent }))) as unknown as FetchedResponse;
    state.seen.lastStatus = again.status;
    state.last = again.headers;
    if (isResourceNonceChallenge(again.status, again.headers)) throw new ResourceNonceError(again.status, true);
    return again;
  };
  const grantOf = (answer: Record<string, unknown>): TokenGrant => {
    const accessToken = answer.access_token;
    if (typeof accessToken !== 'string' || accessToken === '') throw new TokenEndpointError(200, undefined, undefined, false, { kind: 'no-token' });
    const tokenType = typeof answer.token_type === 'string' ? answer.token_type : 'Bearer';
    return {
      accessToken,
      tokenType,
      expiresIn: typeof answer.expires_in === 'number' ? answer.expires_in : null,
      scopes: typeof answer.scope === 'string' ? answer.scope.split(' ').filter((scope) => scope !== '') : null,
      isDPoP: tokenType.toLowerCase() === 'dpop' || oauth.isDPoP,
    };
  };
  const token = async (): Promise<TokenGrant> => grantOf(await oauth.getAccessToken());
  // The SDK's Http#prepareRequest, with patch 3 (its own copy of generateDpopJwt is read when http.js loads).
  Object.assign(http, {
    prepareRequest: async (request: { method: string; url: string; headers: Record<string, string> }) => {
      const grant = await token();
      if (grant.isDPoP) {
        request.headers.Authorization = `DPoP ${grant.accessToken}`;
        request.headers.DPoP = await dpopProof({ method: request.method, url: request.url }, client, grant.accessToken);
      } else {
        request.headers.Authorization = `Bearer ${grant.accessToken}`;
      }
    },
    oauth,
  });
  return {
    token,
    async request(request, seen) {
      state.seen = seen;
      state.resourceChallenges = 0;
      http.defaultHeaders = request.headers;
      const response = await http.http(request.url, { method: request.method });
      const text = await response.text();
      return { status: response.status, headers: state.last ?? response.headers, text };
    },
  };
}
