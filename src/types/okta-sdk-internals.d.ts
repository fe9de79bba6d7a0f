// The parts of @okta/okta-sdk-nodejs that okta-connect loads by path (see adapters/okta.ts): its HTTP layer and request
// executor, without the client and its generated model registry. Typed here because the SDK ships no typings for
// these paths.
declare module '@okta/okta-sdk-nodejs/src/http.js' {
  import type { RequestExecutor } from '@okta/okta-sdk-nodejs';
  interface SdkResponse {
    status: number;
    headers: { get(name: string): string | null };
    text(): Promise<string>;
  }
  export class Http {
    constructor(config: { requestExecutor: RequestExecutor; cacheMiddleware: null; httpsProxy?: string });
    defaultHeaders: Record<string, string>;
    http(uri: string, request?: { method?: string; headers?: Record<string, string> }): Promise<SdkResponse>;
  }
  // CommonJS: module.exports, which Node and esbuild both expose as the default export.
  const commonJsExports: { Http: typeof Http };
  export default commonJsExports;
}

declare module '@okta/okta-sdk-nodejs/src/default-request-executor.js' {
  import type { DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';
  const commonJsExports: { DefaultRequestExecutor: typeof DefaultRequestExecutor };
  export default commonJsExports;
}

// PrivateKey mode: the SDK's OAuth class (src/oauth.js) and its DPoP proof module (src/dpop.js), loaded only for OAuth
// connections (dist/oauth.js in the build).
declare module '@okta/okta-sdk-nodejs/src/oauth.js' {
  export interface OAuthClient {
    baseUrl: string;
    clientId: string;
    scopes: string[];
    privateKey: string;
    keyId: string;
    requestExecutor: { fetch(request: object): Promise<unknown> };
  }
  export class OAuth {
    constructor(client: OAuthClient);
    client: OAuthClient;
    isDPoP: boolean;
    getAccessToken(): Promise<Record<string, unknown>>;
    clearCachedAccessToken(): void;
  }
  const commonJsExports: { OAuth: typeof OAuth };
  export default commonJsExports;
}

declare module '@okta/okta-sdk-nodejs/src/dpop.js' {
  export type GenerateDpopJwt = (
    request: { method: string; url: string } | null,
    client: { baseUrl: string; privateKey: string },
    accessToken?: string | null,
    nonce?: string | null,
  ) => Promise<string>;
  const commonJsExports: { generateDpopJwt: GenerateDpopJwt };
  export default commonJsExports;
}
