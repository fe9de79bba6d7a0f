import type { Agent } from 'node:http';
import type * as OktaSdk from '@okta/okta-sdk-nodejs';
import type { Http } from '@okta/okta-sdk-nodejs/src/http.js';

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
  | { kind: 'rate-limited'; isWaitTooLong: boolean };

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
    const response = (await fetchOriginal(Object.assign(sdkRequest, { redirect: 'manual' as const, agent: request.agent }))) as NonNullable<typeof last>;
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
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  if (err.name === SDK_ERROR_NAMES.api && status !== undefined) {
    return { kind: 'okta-api', status, errorCode: text(err.errorCode), errorSummary: text(err.errorSummary), errorId: text(err.errorId) };
  }
  if (err.name === SDK_ERROR_NAMES.http && status !== undefined) return { kind: 'http', status };
  // The executor gives up on a 429 with a plain Error: "HTTP 429 …" or a message about the rate-limit wait.
  const message = text(err.message) ?? '';
  if (/HTTP 429|rateLimit/.test(message) || lastStatus === 429) return { kind: 'rate-limited', isWaitTooLong: /exceed/.test(message) };
  return undefined;
}
