import { describe, expect, it } from 'vitest';
import { networkFailure, proxyWantsCredentials } from '../../src/adapters/okta-errors.js';
import { doctorRun } from '../../src/commands/doctor.js';
import { proxyProblem } from '../../src/domain/org-url.js';
import { formatTable } from '../../src/io/table.js';
import { fakeContext } from '../fakes/context.js';

const context = { orgUrl: 'https://acme.okta.com', timeoutMs: 15_000, proxy: undefined };

describe('networkFailure: malformed HTTP is the host answering wrongly (exit 7)', () => {
  // The codes Node's HTTP parser gives, seen from node:https directly and wrapped by node-fetch (the SDK's client).
  it.each([
    'HPE_INVALID_CONSTANT',
    'HPE_INVALID_HEADER_TOKEN',
    'HPE_HEADER_OVERFLOW',
    'HPE_INVALID_CONTENT_LENGTH',
    'HPE_INVALID_CHUNK_SIZE',
    'HPE_INVALID_VERSION',
    'HPE_UNEXPECTED_CONTENT_LENGTH',
  ])('%s', (code) => {
    for (const error of [
      Object.assign(new Error('Parse Error: Expected HTTP/'), { code }),
      Object.assign(new Error(`request to https://acme.okta.com/api/v1/users/me failed, reason: Parse Error`), { name: 'FetchError', type: 'system', code, errno: code }),
    ]) {
      const mapped = networkFailure(error, context);
      expect(mapped?.exitCode).toBe(7);
      expect(mapped?.message).toBe(`acme.okta.com answered with malformed HTTP (${code})`);
      expect(mapped?.hint).toMatch(/something that is not Okta answered/);
    }
  });

  it('a 407 from the proxy is a network failure (exit 6) naming the proxy without its password', () => {
    const error = proxyWantsCredentials('http://ada:hunter2@proxy.corp:3128');
    expect(error.exitCode).toBe(6);
    expect(error.message).toBe('the proxy http://proxy.corp:3128 wants credentials (407)');
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('hunter2');
  });
});

describe('proxyProblem', () => {
  it.each(['http://proxy.corp:3128', 'https://proxy.corp', 'http://user:pw@10.0.0.1:8080', 'http://[::1]:3128'])('%j is usable', (proxy) => {
    expect(proxyProblem(proxy)).toBeUndefined();
  });
  it.each([
    ['proxy.corp:3128', /scheme proxy\.corp: is not supported/],
    ['http://[::1', /not a URL/],
    ['::::', /not a URL/],
    ['', /not a URL/],
    ['http://user:hunter2@', /not a URL/],
    ['socks5://127.0.0.1:1080', /scheme socks5: is not supported/],
    ['file:///etc/passwd', /scheme file: is not supported/],
  ])('%j is not: %s', (proxy, why) => {
    expect(proxyProblem(proxy)).toMatch(why);
    expect(proxyProblem(proxy)).not.toContain('hunter2');
  });
});

describe('formatTable', () => {
  it('lays out 200,000 rows (no spread of the rows into a call: that overflowed the stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`c${String(i)}`, 'x']);
    const text = formatTable(['NAME', 'X'], rows);
    expect(text.split('\n')).toHaveLength(200_002);
    expect(text.split('\n')[1]).toBe('c0       x');
  });
});

describe('doctor: HTTPS_PROXY', () => {
  it.each([
    ['proxy.corp:3128', 'fail'],
    ['http://ada:hunter2@proxy.corp:3128', 'info'],
  ])('%j is a %s check, never showing a password', async (proxy, status) => {
    const ctx = fakeContext({ env: { HTTPS_PROXY: proxy } });
    await doctorRun(ctx, { json: true, test: false, timeout: 15_000, secretTimeout: 30_000 }).catch(() => undefined);
    const checks = (JSON.parse(ctx.out.text()) as { checks: { name: string; status: string }[] }).checks;
    expect(checks.find((check) => check.name === 'proxy')?.status).toBe(status);
    expect(ctx.out.text()).not.toContain('hunter2');
  });
});
