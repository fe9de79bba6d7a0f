import { safeProxy, tokenPageUrl } from '../domain/org-url.js';
import { BadResponseError, NetworkError, type CliError, type CliErrorOptions } from '../domain/errors.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export interface NetworkContext {
  orgUrl: string;
  timeoutMs: number;
  proxy: string | undefined;
}

/** DNS, refused, TLS, proxy and timeout failures, from node:https or node-fetch (same `code` values). */
export function networkFailure(error: unknown, context: NetworkContext): CliError | undefined {
  const err = error as { code?: unknown; errno?: unknown; type?: unknown; message?: unknown; name?: unknown } | null;
  if (err === null || typeof err !== 'object') return undefined;
  const host = new URL(context.orgUrl).host;
  const code = typeof err.code === 'string' ? err.code : typeof err.errno === 'string' ? err.errno : undefined;
  const message = typeof err.message === 'string' ? err.message : '';
  const viaProxy = context.proxy !== undefined && context.proxy !== '';
  if (err.type === 'request-timeout' || code === 'ETIMEDOUT' || err.name === 'TimeoutError') {
    return new NetworkError(`no answer from ${host} within ${seconds(context.timeoutMs)}`, {
      hint: 'check the address and your network, or allow more time with --timeout <seconds>',
    });
  }
  // Node's HTTP parser (llhttp) refused the answer: a bad status line, a control byte in a header, 16 KiB of headers,
  // a bad length or chunk, or no HTTP at all behind TLS. Something answered, wrongly: exit 7, not a bug.
  if (code?.startsWith('HPE_')) {
    return new BadResponseError(`${host} answered with malformed HTTP (${code})`, {
      hint: viaProxy
        ? 'check the API address and port, and that the proxy in HTTPS_PROXY speaks HTTP: something that is not Okta answered'
        : 'check the API address and port: something that is not Okta answered',
    });
  }
  if (code !== undefined && TLS_CODES.has(code)) {
    return new NetworkError(`TLS to ${host} failed: ${code}`, {
      hint: 'behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS at its CA certificate (a PEM file)',
    });
  }
  if (viaProxy && (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') && mentionsProxy(message, context.proxy)) {
    return new NetworkError(`cannot reach the proxy ${safeProxy(context.proxy)}: ${code}`, {
      hint: 'check HTTPS_PROXY, or unset it if no proxy is needed',
    });
  }
  const known: Record<string, [string, string]> = {
    ENOTFOUND: [`cannot resolve ${host} (DNS)`, 'check the spelling of the API address and your DNS'],
    EAI_AGAIN: [`cannot resolve ${host} (DNS did not answer)`, 'check your network and DNS, then try again'],
    ECONNREFUSED: [`${host} refused the connection`, 'check the address and port; behind a proxy, set HTTPS_PROXY'],
    ECONNRESET: [`${host} closed the connection`, 'try again; behind a proxy, check HTTPS_PROXY'],
    EHOSTUNREACH: [`${host} is unreachable`, 'check your network'],
    ENETUNREACH: ['the network is unreachable', 'check your network'],
    ETIMEDOUT: [`the connection to ${host} timed out`, 'check your network'],
  };
  const entry = code === undefined ? undefined : known[code];
  if (entry) {
    return new NetworkError(viaProxy ? `${entry[0]} (through the proxy ${safeProxy(context.proxy)})` : entry[0], {
      hint: entry[1],
    });
  }
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new NetworkError(`cannot reach ${host}: ${code}`, { hint: 'check the address and your network' });
  }
  return undefined;
}

/** The proxy answered CONNECT with 407: it wants a user and password before it opens a tunnel to Okta. */
export function proxyWantsCredentials(proxy: string | undefined): NetworkError {
  return new NetworkError(`the proxy ${safeProxy(proxy)} wants credentials (407)`, {
    hint: "give HTTPS_PROXY the proxy's user and password (http://user:password@host:port), or ask its admins for access",
  });
}

function mentionsProxy(message: string, proxy: string | undefined): boolean {
  if (proxy === undefined) return false;
  try {
    const url = new URL(proxy);
    return message.includes(url.hostname) || message.includes(url.port);
  } catch {
    return false;
  }
}

export function seconds(ms: number): string {
  return `${String(Math.round(ms / 100) / 10)} s`;
}

/** The 401 explanation: the causes Okta cannot tell apart, and where to make a new token. */
export function authHint(orgUrl: string): string {
  return (
    'the token was revoked, expired after 30 days unused, or its creator was deactivated; ' +
    `create a new one at ${tokenPageUrl(orgUrl)}`
  );
}

export function notOktaJson(what: string, options?: CliErrorOptions): BadResponseError {
  return new BadResponseError(`${what} (not Okta's JSON)`, {
    hint: 'check the API address; a proxy or captive portal may be answering instead of Okta',
    ...options,
  });
}
