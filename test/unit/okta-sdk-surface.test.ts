import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_ERROR_NAMES, classifySdkError, dpopProof, loadOAuthSdk, loadSdk, sdkRequest } from '../../src/adapters/okta-sdk.js';

/**
 * What src/adapters/okta-sdk.ts relies on in @okta/okta-sdk-nodejs, which has no `exports` map and changed its `Http`
 * export between majors. When the SDK is upgraded and one of these fails, the seam needs updating: the message says what.
 */
const require = createRequire(import.meta.url);
const seamNeedsUpdate = (what: string): string => `the Okta SDK changed (${what}): update src/adapters/okta-sdk.ts`;

describe('the Okta SDK surface the seam uses', () => {
  it('the deep imports give an Http class and a DefaultRequestExecutor with fetch', async () => {
    const sdk = await loadSdk();
    expect(typeof sdk.Http, seamNeedsUpdate('src/http.js no longer exports Http')).toBe('function');
    expect(typeof (sdk.Http.prototype as { http?: unknown }).http, seamNeedsUpdate('Http#http is gone')).toBe('function');
    expect(typeof sdk.DefaultRequestExecutor, seamNeedsUpdate('src/default-request-executor.js no longer exports it')).toBe('function');
    const executor = new sdk.DefaultRequestExecutor({ maxRetries: 1, requestTimeout: 1000 });
    expect(typeof executor.fetch, seamNeedsUpdate('the executor has no fetch to wrap')).toBe('function');
  });

  it('Http takes { requestExecutor, cacheMiddleware: null } and reads no cache middleware then', async () => {
    const sdk = await loadSdk();
    const executor = new sdk.DefaultRequestExecutor({ maxRetries: 1, requestTimeout: 1000 });
    const http = new sdk.Http({ requestExecutor: executor, cacheMiddleware: null });
    expect((http as unknown as { cacheMiddleware?: unknown }).cacheMiddleware, seamNeedsUpdate('cacheMiddleware: null no longer turns the cache off')).toBeFalsy();
    expect(http.defaultHeaders, seamNeedsUpdate('Http#defaultHeaders is gone')).toEqual({});
  });

  it('its error classes carry the names the seam matches', () => {
    const { name: apiName } = new (require('@okta/okta-sdk-nodejs/src/api-error.js') as new (...args: unknown[]) => Error)('u', 401, { errorCode: 'E0000011' }, {});
    const { name: httpName } = new (require('@okta/okta-sdk-nodejs/src/http-error.js') as new (...args: unknown[]) => Error)('u', 502, 'x', {});
    expect(apiName, seamNeedsUpdate('OktaApiError was renamed')).toBe(SDK_ERROR_NAMES.api);
    expect(httpName, seamNeedsUpdate('HttpError was renamed')).toBe(SDK_ERROR_NAMES.http);
  });

  it('its executor gives up on a long 429 wait with the message the seam classifies', () => {
    const source = readFileSync(require.resolve('@okta/okta-sdk-nodejs/src/default-request-executor.js'), 'utf8');
    expect(source, seamNeedsUpdate('the 429 give-up message changed')).toContain('HTTP 429 retry delay would exceed');
    expect(classifySdkError(new Error('HTTP 429 retry delay would exceed okta.client.rateLimit.requestTimeout'), undefined)).toEqual({
      kind: 'rate-limited',
      isWaitTooLong: true,
    });
  });
});

describe('sdkRequest', () => {
  let server: Server;
  let base: string;
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      seenHeaders.push(request.headers);
      if (request.url === '/redirect') {
        response.writeHead(302, { location: '/elsewhere' }).end();
        return;
      }
      if (request.url === '/escaped') {
        response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errorCode: 'E0000006\u001b[2J', errorSummary: 'You do not\u001b[31m have\u001b]0;pwned\u0007 \u202epermission\r\nto', errorId: 'oae\u009b1' }));
        return;
      }
      if (request.url === '/unauthorized') {
        response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorId: 'oae1' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'x-rate-limit-limit': '600' }).end('{"id":"00u1"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => { resolve(); })));

  // A keep-alive agent keeps its socket when done: proof that the seam's requests went through the agent it was given.
  const agent = new Agent({ keepAlive: true });
  afterAll(() => {
    agent.destroy();
  });
  const request = (path: string) => ({ url: `${base}${path}`, method: 'get' as const, headers: { Authorization: 'SSWS x', Accept: 'application/json' }, timeoutMs: 2000, agent, proxy: undefined });

  it('sends every request through the agent it is given (which verifies TLS), not the SDK\'s own', async () => {
    agent.destroy();
    await sdkRequest(request('/ok'), {});
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
  });

  it('sends our headers and returns the status, headers and body', async () => {
    const response = await sdkRequest(request('/ok'), {});
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rate-limit-limit')).toBe('600');
    expect(response.text).toBe('{"id":"00u1"}');
    expect(seenHeaders.at(-1)?.authorization).toBe('SSWS x');
  });

  it('never follows a redirect (the credential would go to a host that never identified as Okta)', async () => {
    const before = seenHeaders.length;
    const seen: { lastStatus?: number } = {};
    await sdkRequest(request('/redirect'), seen).catch(() => undefined);
    expect(seen.lastStatus).toBe(302);
    expect(seenHeaders.length - before).toBe(1);
  });

  it("rejects an Okta error with the SDK's OktaApiError, which the seam classifies", async () => {
    const error = await sdkRequest(request('/unauthorized'), {}).then(() => undefined, (caught: unknown) => caught);
    expect(classifySdkError(error, 401)).toEqual({ kind: 'okta-api', status: 401, errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorId: 'oae1' });
  });

  it("cleans Okta's errorCode, errorSummary and errorId of escape, control and bidi characters (every message and JSON field is made of them)", async () => {
    const error = await sdkRequest(request('/escaped'), {}).then(() => undefined, (caught: unknown) => caught);
    expect(classifySdkError(error, 403)).toEqual({ kind: 'okta-api', status: 403, errorCode: 'E0000006', errorSummary: 'You do not have permission  to', errorId: 'oae1' });
  });
});

/**
 * The SDK 8.1.0 bugs on the PrivateKey path that src/adapters/okta-sdk.ts patches. Each test shows the bug is still
 * there: when an SDK upgrade fixes one, its test fails, and the patch should go.
 */
const stillNeeded = (patch: string): string => `the Okta SDK fixed what patch ${patch} in src/adapters/okta-sdk.ts works around: remove the patch`;
const rsa = (): Record<string, string> => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
const ec = (): Record<string, string> => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
const payloadOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('SDK 8.1.0 PrivateKey-mode bugs the seam patches', () => {
  let server: Server;
  let base: string;
  let answers: { status: number; body: object; headers?: Record<string, string> }[] = [];
  let count = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      count += 1;
      const answer = answers.shift() ?? { status: 200, body: { access_token: 'at', token_type: 'Bearer', expires_in: 60 } };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => { resolve(); })));

  async function unpatchedOAuth(): Promise<{ getAccessToken(): Promise<Record<string, unknown>> }> {
    const [{ DefaultRequestExecutor }, { OAuth }] = await Promise.all([loadSdk(), loadOAuthSdk()]);
    return new OAuth({ baseUrl: base, clientId: '0oa1', scopes: ['okta.users.read'], privateKey: JSON.stringify(rsa()), keyId: 'k', requestExecutor: new DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 2000 }) });
  }

  it('1: src/oauth.js takes a token-endpoint error body for the access token (Http.errorFilter is undefined there)', async () => {
    expect((require('@okta/okta-sdk-nodejs/src/http.js') as { errorFilter?: unknown }).errorFilter, stillNeeded('1')).toBeUndefined();
    answers = [{ status: 400, body: { error: 'invalid_scope', error_description: 'not allowed' } }];
    const token = await (await unpatchedOAuth()).getAccessToken();
    expect(token, stillNeeded('1')).toEqual({ error: 'invalid_scope', error_description: 'not allowed' });
  });

  it('2: src/oauth.js retries use_dpop_nonce with no bound', async () => {
    answers = [1, 2, 3].map(() => ({ status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': 'n' } }));
    const before = count;
    await (await unpatchedOAuth()).getAccessToken();
    expect(count - before, stillNeeded('2')).toBe(4);
  });

  it("3: src/dpop.js cannot sign with an EC key and sends the method lower-case; the seam's proof does both right", async () => {
    const { sdkDpopProof } = await loadOAuthSdk();
    const client = (key: object): { baseUrl: string; privateKey: string } => ({ baseUrl: base, privateKey: JSON.stringify(key) });
    await expect(sdkDpopProof(null, client(ec())), stillNeeded('3')).rejects.toThrow(/unsupported algorithm/);
    const proof = await sdkDpopProof({ method: 'get', url: `${base}/api/v1/users?limit=1` }, client(rsa()), 'at');
    expect(payloadOf(proof).htm, stillNeeded('3')).toBe('get');
    const ours = await dpopProof({ method: 'get', url: `${base}/api/v1/users?limit=1` }, client(ec()), 'at', 'n1');
    expect(JSON.parse(Buffer.from(ours.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC' } });
    expect(payloadOf(ours)).toMatchObject({ htm: 'GET', htu: `${base}/api/v1/users`, nonce: 'n1' });
  });

  it("5: Http#http never answers an API's DPoP nonce challenge (RFC 9449 §9): it gets a new token and sends a proof without a nonce again", async () => {
    const proofs: string[] = [];
    const api = createServer((request, response) => {
      request.resume();
      proofs.push(String(request.headers.dpop ?? ''));
      response.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'rn1', 'content-length': 0 }).end();
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const { Http, DefaultRequestExecutor } = await loadSdk();
      let tokens = 0;
      const oauth = {
        isDPoP: true,
        client: { baseUrl: base, privateKey: JSON.stringify(rsa()) },
        getAccessToken: () => {
          tokens += 1;
          return Promise.resolve({ access_token: `at${String(tokens)}` });
        },
        clearCachedAccessToken: () => undefined,
      };
      const http = new Http({ requestExecutor: new DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 2000 }), cacheMiddleware: null, oauth } as never);
      const url = `http://127.0.0.1:${String((api.address() as AddressInfo).port)}/api/v1/users`;
      const error = await http.http(url, { method: 'get' }).then(() => undefined, (caught: unknown) => caught);
      expect(proofs.map((proof) => payloadOf(proof).nonce), stillNeeded('5')).toEqual([undefined, undefined]);
      expect(tokens, stillNeeded('5')).toBe(2);
      // What the SDK then throws looks like any rejected token's 401; the seam tells it apart by its header.
      expect(classifySdkError(error, 401)).toEqual({ kind: 'resource-nonce', why: 'not-dpop' });
    } finally {
      await new Promise<void>((resolve) => api.close(() => { resolve(); }));
    }
  });

  it('4: the token request goes out without the proxy agent (okta/okta-sdk-nodejs#383)', () => {
    const source = readFileSync(require.resolve('@okta/okta-sdk-nodejs/src/oauth.js'), 'utf8');
    expect(source, stillNeeded('4')).toContain('this.client.requestExecutor.fetch({');
    expect(source, stillNeeded('4')).not.toMatch(/agent/);
  });
});
