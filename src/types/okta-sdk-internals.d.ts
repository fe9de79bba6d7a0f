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
