import type { Agent } from 'node:http';
import { request } from 'node:https';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const MAX_BODY = 256 * 1024;

/** One unauthenticated GET, redirects not followed, the body capped, the whole exchange within `timeoutMs`. */
export async function httpsGet(url: string, timeoutMs: number, agent?: Agent): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT', name: 'TimeoutError' }));
    }, timeoutMs);
    req.on('close', () => {
      clearTimeout(timer);
    });
    req.on('error', reject);
    req.end();
  });
}
