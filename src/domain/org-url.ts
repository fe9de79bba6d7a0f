/** Org URL facts that need no schema library: the network adapter uses these without loading zod. */

/** Okta's own domains; any other host is accepted as a custom domain, with a notice. */
export const OKTA_DOMAINS = [
  'okta.com',
  'oktapreview.com',
  'okta-emea.com',
  'okta-gov.com',
  'okta.mil',
  'okta-miltest.com',
  'trex-gov.com',
  'trex-govcloud.com',
] as const;

export function isKnownOktaHost(host: string): boolean {
  return OKTA_DOMAINS.some((domain) => host.endsWith(`.${domain}`));
}

/** The first host label: the default connection name and Terraform's OKTA_ORG_NAME. */
export function subdomainOf(orgUrl: string): string {
  return new URL(orgUrl).hostname.split('.')[0] ?? '';
}

/**
 * The Admin Console page where tokens are created: `https://<sub>-admin.<domain>/admin/access/api/tokens` inside Okta's
 * domains. A custom domain has no Admin Console of its own: the page is on the org's Okta domain, taken from `oktaUrl`
 * (what /.well-known/okta-organization said) when known, else named in words rather than invented.
 */
export function tokenPageUrl(orgUrl: string, oktaUrl?: string | null): string {
  const url = new URL(oktaUrl ?? orgUrl);
  const [first, ...rest] = url.hostname.split('.');
  url.pathname = '/admin/access/api/tokens';
  if (isKnownOktaHost(url.hostname) && !first?.endsWith('-admin')) {
    url.hostname = [`${first ?? ''}-admin`, ...rest].join('.');
    return url.toString();
  }
  // A single label (localhost) or an address: the host itself, as a test org or a tunnel serves it.
  if (rest.length === 0 || /^[\d.]+$|^\[/.test(url.hostname)) return url.toString();
  return `https://<your-org>-admin.okta.com/admin/access/api/tokens (the Admin Console of your org's Okta domain, not ${url.host})`;
}

/** What a person probably meant by a host that is not an Okta org's: `acme` or `acme.okta` → https://acme.okta.com. */
export function suggestedOrgUrl(host: string): string | undefined {
  const labels = host.split('.');
  if (labels.length === 1 && /^[a-z0-9-]+$/.test(host) && host !== 'localhost') return `https://${host}.okta.com`;
  const match = /^([a-z0-9-]+)\.(okta|oktapreview|okta-emea)$/.exec(host);
  return match ? `https://${match[1] ?? ''}.${match[2] ?? ''}.com` : undefined;
}

/**
 * A URL without its user-info (it may hold a password), for printing, otherwise as it was written. Also for what is not
 * quite a URL: no scheme (`user:pw@acme.okta.com`), or a password with a "/" in it, which no parser reads as user-info.
 */
export function withoutUserInfo(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  const rest = text.slice(scheme.length);
  // Where user-info can end: before the first "/" when the text parses; when it does not, anywhere before a query or
  // fragment (removing too much rather than too little).
  const authority = rest.split(URL.canParse(`https://${rest}`) ? /[/?#]/ : /[?#]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  return at === -1 ? text : scheme + rest.slice(at + 1);
}

/**
 * Why a proxy address cannot be used, or undefined when it can: an http:// or https:// URL with a host (what the proxy
 * agent speaks). Never quotes the value, which may hold a password.
 */
export function proxyProblem(proxy: string): string | undefined {
  if (!URL.canParse(proxy)) return 'it is not a URL';
  const url = new URL(proxy);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the scheme ${url.protocol} is not supported: use http:// or https://`;
  if (url.hostname === '') return 'it has no host';
  return undefined;
}

/** The proxy's origin without any user-info, or a word saying it cannot be parsed. */
export function safeProxy(proxy: string | undefined): string {
  if (proxy === undefined) return '';
  try {
    return new URL(proxy).origin;
  } catch {
    return '(unparsable HTTPS_PROXY)';
  }
}
