import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  IDLE_EXPIRY_DAYS,
  OKTA_DOMAINS,
  daysUntil,
  idleExpiresAt,
  isExpiringSoon,
  isKnownOktaHost,
  nameSchema,
  orgUrlSchema,
  parseName,
  parseOrgUrl,
  parseToken,
  parseValue,
  subdomainOf,
  tokenPageUrl,
  tokenSchema,
} from '../../src/domain/connection.js';
import { clientIdVar, envConnectionKeys, envKey, keyIdVar, orgUrlVar, privateKeyVar, scopesVar, tokenVar } from '../../src/domain/env-overrides.js';
import { envOverride } from '../../src/connections/resolve.js';
import {
  AuthError,
  BadResponseError,
  CancelledError,
  CliError,
  ExitCode,
  KeychainError,
  NetworkError,
  NotFoundError,
  PermissionError,
  UsageError,
} from '../../src/domain/errors.js';
import { REDACTED, redact } from '../../src/domain/redact.js';

/** A token shaped like Okta's ("00" + 40 url-safe characters), made at run time so no file holds one. */
const oktaLikeToken = (): string => '00' + randomBytes(30).toString('base64url').slice(0, 40);
/** `length` url-safe characters that do not start with "00". */
const urlSafe = (length: number, prefix = 'x'): string =>
  (prefix + randomBytes(length).toString('base64url')).slice(0, length);

const DAY_MS = 86_400_000;

/** The usage error a parse function throws, for assertions on its message and exit code. */
function usageErrorOf(parse: () => unknown): UsageError {
  try {
    parse();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError, but the value was accepted');
}

describe('name', () => {
  const accepted: [string, string][] = [
    ['prod', 'prod'],
    ['PROD', 'prod'],
    ['Acme-Preview', 'acme-preview'],
    ['my_org', 'my_org'],
    ['0', '0'],
    ['9lives', '9lives'],
    ['a-', 'a-'],
    ['a_', 'a_'],
    ['a--b__c', 'a--b__c'],
    [' prod ', 'prod'],
    ['a'.repeat(64), 'a'.repeat(64)],
    ['Z' + '-'.repeat(63), 'z' + '-'.repeat(63)],
  ];
  it.each(accepted)('accepts %j as %j', (raw, expected) => {
    expect(parseName(raw)).toBe(expected);
    expect(nameSchema.parse(raw)).toBe(expected);
  });

  const refused: [string, RegExp][] = [
    ['', /a name is required/],
    ['   ', /a name is required/],
    ['-prod', /starts with a letter or digit/],
    ['_prod', /starts with a letter or digit/],
    ['a'.repeat(65), /at most 64 characters/],
    ['pr od', /only letters, digits/],
    ['prod!', /only letters, digits/],
    ['acme.okta', /only letters, digits/],
    ['a/b', /only letters, digits/],
    ['pröd', /only letters, digits/],
    ['é', /only letters, digits/],
    ['a\tb', /only letters, digits/],
    ['a\u0000b', /only letters, digits/],
    ['$(whoami)', /only letters, digits/],
    ['../etc', /only letters, digits/],
  ];
  it.each(refused)('refuses %j', (raw, message) => {
    const error = usageErrorOf(() => parseName(raw));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^invalid name: /);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/lower-case letters/);
  });
});

describe('org URL: accepted', () => {
  const CUSTOM = /is not one of Okta's domains: it is taken as a custom domain/;
  const ADMIN = /removed "-admin" from the host/;
  const IDN = /internationalised name/;
  const dropped = (what: string): RegExp => new RegExp(`dropped "${what.replace(/[?#/]/g, '\\$&')}"`);

  const accepted: [string, string, RegExp[]][] = [
    ['acme.okta.com', 'https://acme.okta.com', []],
    ['  acme.okta.com \n', 'https://acme.okta.com', []],
    ['\tacme.okta.com\r\n', 'https://acme.okta.com', []],
    ['https://acme.okta.com', 'https://acme.okta.com', []],
    ['HTTPS://ACME.OKTA.COM', 'https://acme.okta.com', []],
    ['https://Acme.OktaPreview.com', 'https://acme.oktapreview.com', []],
    ['https:acme.okta.com', 'https://acme.okta.com', []],
    ['//acme.okta.com', 'https://acme.okta.com', []],
    ['https://acme.okta.com/', 'https://acme.okta.com', []],
    ['https://acme.okta.com?', 'https://acme.okta.com', []],
    ['https://acme.okta.com/#', 'https://acme.okta.com', []],
    ['https://acme.okta.com/admin/dashboard', 'https://acme.okta.com', [dropped('/admin/dashboard')]],
    ['acme.okta.com/api/v1/', 'https://acme.okta.com', [dropped('/api/v1/')]],
    ['https://acme.okta.com?fromURI=x', 'https://acme.okta.com', [dropped('?fromURI=x')]],
    ['https://acme.okta.com/#/home', 'https://acme.okta.com', [dropped('#/home')]],
    ['https://acme.okta.com/oauth2/default?a=1#b', 'https://acme.okta.com', [dropped('/oauth2/default?a=1#b')]],
    ['https://acme-admin.okta.com', 'https://acme.okta.com', [ADMIN]],
    ['ACME-ADMIN.oktapreview.com', 'https://acme.oktapreview.com', [ADMIN]],
    [
      'https://acme-admin.okta.com/admin/access/api/tokens',
      'https://acme.okta.com',
      [ADMIN, dropped('/admin/access/api/tokens')],
    ],
    ['acme-admin-admin.okta.com', 'https://acme.okta.com', [ADMIN]],
    ['admin-admin.okta.com', 'https://admin.okta.com', [ADMIN]],
    ['dev-123456-admin.okta.com', 'https://dev-123456.okta.com', [ADMIN]],
    ['https://acme.okta.com:8443', 'https://acme.okta.com:8443', []],
    ['acme.okta.com:8443', 'https://acme.okta.com:8443', []],
    ['acme.okta.com:8443/x', 'https://acme.okta.com:8443', [dropped('/x')]],
    ['https://acme.okta.com:08443', 'https://acme.okta.com:8443', []],
    ['https://acme.okta.com:443', 'https://acme.okta.com', []],
    ['https://https://acme.okta.com', 'https://acme.okta.com', []],
    ['https://HTTPS://acme.okta.com/', 'https://acme.okta.com', []],
    ['https://https://https://acme.okta.com', 'https://acme.okta.com', []],
    ['https://http://acme.okta.com', 'https://acme.okta.com', []],
    ['login.example.com', 'https://login.example.com', [CUSTOM]],
    ['https://sso.acme.co.uk/app', 'https://sso.acme.co.uk', [dropped('/app'), CUSTOM]],
    ['okta.com.example.com', 'https://okta.com.example.com', [CUSTOM]],
    ['acme.okta.com.evil.net', 'https://acme.okta.com.evil.net', [CUSTOM]],
    ['evilokta.com', 'https://evilokta.com', [CUSTOM]],
    ['localhost:8443', 'https://localhost:8443', [CUSTOM]],
    ['127.0.0.1:9443', 'https://127.0.0.1:9443', [CUSTOM]],
    ['https://[::1]:8443/x', 'https://[::1]:8443', [dropped('/x'), CUSTOM]],
    // "-admin" is Okta's Admin Console only inside Okta's domains; a custom domain keeps the name its org chose.
    ['login-admin.example.com', 'https://login-admin.example.com', [CUSTOM]],
    ['https://sso-admin.corp.example/app', 'https://sso-admin.corp.example', [dropped('/app'), CUSTOM]],
    ['SSO-ADMIN-ADMIN.corp.example', 'https://sso-admin-admin.corp.example', [CUSTOM]],
    ['acme-admin.okta.com.evil.net', 'https://acme-admin.okta.com.evil.net', [CUSTOM]],
    ['acme-admin.xokta.com', 'https://acme-admin.xokta.com', [CUSTOM]],
    ['acme-admin.okta.com:8443', 'https://acme.okta.com:8443', [ADMIN]],
    ['acme-admin.okta-emea.com', 'https://acme.okta-emea.com', [ADMIN]],
    ['acme-admin.trex-govcloud.com', 'https://acme.trex-govcloud.com', [ADMIN]],
    ['bücher.de', 'https://xn--bcher-kva.de', [IDN, CUSTOM]],
    // Full-width letters are folded to ASCII by URL parsing (IDNA), so this is the real Okta host.
    ['ａｃｍｅ.okta.com', 'https://acme.okta.com', []],
    // A zero-width space is dropped by IDNA mapping: nothing invisible survives into the value.
    ['acme\u200b.okta.com', 'https://acme.okta.com', []],
    ['https://ac%6De.okta.com', 'https://acme.okta.com', []],
  ];
  it.each(accepted)('accepts %j as %j', (raw, value, notices) => {
    const result = parseOrgUrl(raw);
    expect(result.value).toBe(value);
    expect(result.notices).toHaveLength(notices.length);
    notices.forEach((notice, index) => {
      expect(result.notices[index]).toMatch(notice);
    });
  });

  it.each(OKTA_DOMAINS.map((domain) => [domain]))('accepts a subdomain of %s without a notice', (domain) => {
    expect(parseOrgUrl(`Acme.${domain.toUpperCase()}`)).toEqual({ value: `https://acme.${domain}`, notices: [] });
    expect(isKnownOktaHost(`acme.${domain}`)).toBe(true);
    expect(isKnownOktaHost(`acme.x${domain}`)).toBe(false);
  });
});

describe('org URL: refused', () => {
  const USER_INFO = /must not contain a user name or password/;
  const NO_HOST = /no valid host name|not a valid URL/;
  const LOOK_ALIKE = /non-ASCII \(look-alike\) characters/;
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['\n\t', /empty/],
    ['{yourOktaDomain}', /replace \{yourOktaDomain\}/],
    ['https://{yourOktaDomain}/api/v1', /replace \{yourOktaDomain\}/],
    ['{{yourOktaDomain}}', /replace \{yourOktaDomain\}/],
    ['https://{ yourOktaDomain }', /replace \{yourOktaDomain\}/],
    ['http://acme.okta.com', /http:\/\/ is not allowed/],
    ['HTTP://acme.okta.com:443', /http:\/\/ is not allowed/],
    ['http://https://acme.okta.com', /http:\/\/ is not allowed/],
    ['http:acme.okta.com', /http:\/\/ is not allowed/],
    ['ftp://acme.okta.com', /the scheme ftp: is not allowed/],
    ['wss://acme.okta.com', /the scheme wss: is not allowed/],
    ['file:///etc/passwd', /the scheme file: is not allowed/],
    ['javascript:alert(1)', /the scheme javascript: is not allowed/],
    ['acme.okta.com:abc', /is not allowed: use https:\/\//],
    ['acme.okta.com.com', /ends in \.com\.com/],
    ['https://ACME.OKTA.COM.COM/', /ends in \.com\.com/],
    ['acme.com.com:8443', /ends in \.com\.com/],
    ['https://user:pass@acme.okta.com', USER_INFO],
    ['https://user@acme.okta.com', USER_INFO],
    ['user@acme.okta.com', USER_INFO],
    ['user:pass@acme.okta.com', USER_INFO],
    ['https://acme.okta.com@evil.com', USER_INFO],
    ['https://', NO_HOST],
    ['https:///', NO_HOST],
    // A bare subdomain is refused with the address it probably stands for, not taken as a custom domain.
    ['acme', /"acme" is not a whole address: did you mean https:\/\/acme\.okta\.com\?/],
    ['https://acme/', /"acme" is not a whole address: did you mean https:\/\/acme\.okta\.com\?/],
    ['a-admin', /"a-admin" is not a whole address: did you mean/],
    ['https://acme..okta.com', NO_HOST],
    ['https://.okta.com', NO_HOST],
    ['https://acme.okta.com.', NO_HOST],
    ['https://-acme.okta.com', NO_HOST],
    ['https://acme-.okta.com', NO_HOST],
    ['acme_x.okta.com', NO_HOST],
    ['https://-admin.okta.com', NO_HOST],
    ['x--admin.okta.com', NO_HOST],
    [`${'a'.repeat(64)}.okta.com`, NO_HOST],
    ['https://acme.okta.com:99999', NO_HOST],
    ['https://acme.okta.com:abc', NO_HOST],
    ['https://acme.okta.com%2F', NO_HOST],
    ['https://acme okta.com', /spaces or control characters/],
    ['acme.okta.com\u0000', /spaces or control characters/],
    ['acme\u0007.okta.com', /spaces or control characters/],
    ['acme.okta.com/a b', /spaces or control characters/],
    ['acme\u00a0.okta.com', /spaces or control characters/],
    // Look-alikes: Cyrillic а/о/е, Greek ο, and Latin letters with marks, in an Okta host or in Okta's domain itself.
    ['https://\u0430cme.okta.com', LOOK_ALIKE],
    ['\u0430cme-admin.okta.com', LOOK_ALIKE],
    ['ácme.oktapreview.com', LOOK_ALIKE],
    ['acme.\u043ekta.com', LOOK_ALIKE],
    ['acme.\u03bfkta.com', LOOK_ALIKE],
    ['acme.okta.c\u043em', LOOK_ALIKE],
    ['acme.oktaprevi\u0435w.com', LOOK_ALIKE],
    ['acme.öktä.com', LOOK_ALIKE],
    ['\u043ekta.com', LOOK_ALIKE],
  ];
  it.each(refused)('refuses %j', (raw, message) => {
    const error = usageErrorOf(() => parseOrgUrl(raw));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^invalid API address: /);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/https:\/\/acme\.okta\.com/);
    expect(orgUrlSchema.safeParse(raw).success).toBe(false);
  });
});

describe('token', () => {
  const LOOKS_ODD = /does not look like an Okta API token/;

  it.each([
    ['SSWS ', (token: string) => `SSWS ${token}`],
    ['ssws (any case), then tabs', (token: string) => `ssws\t\t${token}`],
    ['a whole copied header', (token: string) => `Authorization: SSWS ${token}\n`],
  ])('takes the token out of %s with a notice, not "contains spaces"', (_label, paste) => {
    const token = oktaLikeToken();
    expect(parseToken(paste(token))).toEqual({ value: token, notices: ['removed "SSWS " (the scheme of the Authorization header) from the token'] });
  });

  it('accepts an Okta-shaped token without a notice', () => {
    const token = oktaLikeToken();
    expect(parseToken(token)).toEqual({ value: token, notices: [] });
  });

  const accepted: [string, () => string, boolean][] = [
    ['trims surrounding whitespace', () => ' \t' + oktaLikeToken() + '\r\n', false],
    ['trims a byte-order mark and no-break spaces', () => '\ufeff\u00a0' + oktaLikeToken(), false],
    ['20 characters', () => urlSafe(20), true],
    ['200 characters', () => urlSafe(200), true],
    ['21 characters starting 00T', () => '00T' + urlSafe(18), true],
    ['20 characters starting 00t', () => '00t' + urlSafe(17), true],
    ['"00" + 39 characters', () => oktaLikeToken().slice(0, 41), true],
    ['"00" + 41 characters', () => oktaLikeToken() + 'x', true],
    ['42 characters not starting 00', () => urlSafe(42), true],
    ['only "-" and "_"', () => '-_'.repeat(21), true],
  ];
  it.each(accepted)('accepts %s', (_label, make, hasNotice) => {
    const raw = make();
    const result = parseToken(raw);
    expect(result.value).toBe(raw.trim());
    expect(result.notices).toHaveLength(hasNotice ? 1 : 0);
    if (hasNotice) expect(result.notices[0]).toMatch(LOOKS_ODD);
  });

  const refused: [string, () => string, RegExp][] = [
    ['empty', () => '', /the token is empty/],
    ['only whitespace', () => ' \n\t ', /the token is empty/],
    ['the {apiToken} placeholder', () => '{apiToken}', /replace \{apiToken\}/],
    ['a header with the placeholder', () => 'SSWS {apiToken}', /replace \{apiToken\}/],
    ['an inner space', () => { const t = oktaLikeToken(); return t.slice(0, 20) + ' ' + t.slice(20); }, /spaces or control/],
    ['an inner tab', () => { const t = oktaLikeToken(); return t.slice(0, 20) + '\t' + t.slice(20); }, /spaces or control/],
    ['an inner newline', () => { const t = oktaLikeToken(); return t.slice(0, 20) + '\n' + t.slice(20); }, /spaces or control/],
    ['an inner NUL', () => { const t = oktaLikeToken(); return t.slice(0, 20) + '\u0000' + t.slice(20); }, /spaces or control/],
    ['an inner DEL', () => { const t = oktaLikeToken(); return t.slice(0, 20) + '\u007f' + t.slice(20); }, /spaces or control/],
    ['an inner no-break space', () => oktaLikeToken() + '\u00a0x', /spaces or control/],
    ['an "SSWS " prefix followed by more than the token', () => 'SSWS ' + oktaLikeToken() + ' x', /spaces or control/],
    ['a zero-width space', () => oktaLikeToken() + '\u200b', /characters an Okta API token never has/],
    ['a dot', () => oktaLikeToken() + '.', /characters an Okta API token never has/],
    ['a plus', () => oktaLikeToken() + '+', /characters an Okta API token never has/],
    ['a slash', () => oktaLikeToken() + '/', /characters an Okta API token never has/],
    ['base64 padding', () => oktaLikeToken() + '==', /characters an Okta API token never has/],
    ['surrounding quotes', () => `"${oktaLikeToken()}"`, /characters an Okta API token never has/],
    ['an accented letter', () => oktaLikeToken() + 'é', /characters an Okta API token never has/],
    ['a look-alike letter', () => oktaLikeToken().slice(0, 41) + '\u0430', /characters an Okta API token never has/],
    ['19 characters', () => urlSafe(19), /too short \(19 characters/],
    ['1 character', () => 'a', /too short \(1 characters/],
    ['201 characters', () => urlSafe(201), /too long \(201 characters/],
    ['a token id (00T + 17)', () => '00T' + urlSafe(17), /token id \(00T…\), not the token/],
    ['a token id with whitespace around', () => ' 00T' + urlSafe(17) + '\n', /token id/],
  ];
  it.each(refused)('refuses %s', (_label, make, message) => {
    const error = usageErrorOf(() => parseToken(make()));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/^invalid token: /);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/Security > API > Tokens/);
    expect(tokenSchema.safeParse(make()).success).toBe(false);
  });

  it('never puts the refused token in the message', () => {
    const token = oktaLikeToken() + '!';
    const error = usageErrorOf(() => parseToken(token));
    expect(error.message).not.toContain(token.slice(0, 20));
  });
});

describe('parseValue', () => {
  it('refuses a value that is not a string with a usage error', () => {
    const error = usageErrorOf(() => parseValue(nameSchema, 42, 'name', 'a hint'));
    expect(error.message).toMatch(/^invalid name: /);
    expect(error.hint).toBe('a hint');
  });
});

describe('tokenPageUrl and subdomainOf', () => {
  const pages: [string, string][] = [
    ['https://acme.okta.com', 'https://acme-admin.okta.com/admin/access/api/tokens'],
    ['https://acme.oktapreview.com', 'https://acme-admin.oktapreview.com/admin/access/api/tokens'],
    ['https://dev-123.okta-emea.com', 'https://dev-123-admin.okta-emea.com/admin/access/api/tokens'],
    ['https://acme.okta.com:8443', 'https://acme-admin.okta.com:8443/admin/access/api/tokens'],
    ['https://localhost:8443', 'https://localhost:8443/admin/access/api/tokens'],
  ];
  it.each(pages)('token page of %s is %s', (orgUrl, page) => {
    expect(tokenPageUrl(orgUrl)).toBe(page);
  });

  it('a custom domain has no Admin Console of its own: the link is never invented', () => {
    expect(tokenPageUrl('https://login.acme.com')).toBe(
      "https://<your-org>-admin.okta.com/admin/access/api/tokens (the Admin Console of your org's Okta domain, not login.acme.com)",
    );
    expect(tokenPageUrl('https://sso-admin.corp.example')).not.toMatch(/sso-admin-admin|sso\.corp/);
  });

  it("with the org's Okta URL (from /.well-known/okta-organization), a custom domain gets the real link", () => {
    expect(tokenPageUrl('https://login.acme.com', 'https://acme.okta.com')).toBe('https://acme-admin.okta.com/admin/access/api/tokens');
  });

  const subdomains: [string, string][] = [
    ['https://acme.okta.com', 'acme'],
    ['https://dev-123.oktapreview.com:8443', 'dev-123'],
    ['https://localhost', 'localhost'],
    ['https://sso.acme.co.uk', 'sso'],
  ];
  it.each(subdomains)('subdomain of %s is %s', (orgUrl, sub) => {
    expect(subdomainOf(orgUrl)).toBe(sub);
  });

  it('the default name of a normalised address is a valid name', () => {
    expect(parseName(subdomainOf(parseOrgUrl('Dev-123-Admin.okta.com/x').value))).toBe('dev-123');
  });
});

describe('idle expiry', () => {
  const created = '2025-03-01T12:00:00.000Z';

  it('is createdAt + 30 days when the token was never used', () => {
    expect(IDLE_EXPIRY_DAYS).toBe(30);
    expect(idleExpiresAt({ createdAt: created, lastUsedAt: null })).toBe('2025-03-31T12:00:00.000Z');
  });

  it('is lastUsedAt + 30 days once the token was used', () => {
    expect(idleExpiresAt({ createdAt: created, lastUsedAt: '2025-04-10T08:30:00.000Z' })).toBe('2025-05-10T08:30:00.000Z');
  });

  it('crosses a leap day', () => {
    expect(idleExpiresAt({ createdAt: '2024-02-15T00:00:00.000Z', lastUsedAt: null })).toBe('2024-03-16T00:00:00.000Z');
  });

  const expires = '2025-03-31T12:00:00.000Z';
  const at = (offsetMs: number): Date => new Date(Date.parse(expires) - offsetMs);
  const days: [string, number, number, boolean][] = [
    ['30 days left', 30 * DAY_MS, 30, false],
    ['29.9 days left', 29.9 * DAY_MS, 30, false],
    ['23 days left', 23 * DAY_MS, 23, false],
    ['exactly 7 days left', 7 * DAY_MS, 7, false],
    ['just under 7 days left', 7 * DAY_MS - 1, 7, true],
    ['4 days left', 4 * DAY_MS, 4, true],
    ['1 ms left', 1, 1, true],
    ['at the moment of expiry', 0, 0, true],
    ['1 ms past', -1, -1, false],
    ['1 day past', -DAY_MS, -1, false],
    ['1.5 days past', -1.5 * DAY_MS, -2, false],
  ];
  it.each(days)('%s: daysUntil %#', (_label, leftMs, expectedDays, soon) => {
    expect(daysUntil(expires, at(leftMs))).toBe(expectedDays);
    expect(isExpiringSoon(expires, at(leftMs))).toBe(soon);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret', () => {
    const a = oktaLikeToken();
    const b = oktaLikeToken();
    const text = `first ${a}, again ${a}; other=${b}.`;
    const out = redact(text, [a, b]);
    expect(out).toBe(`first ${REDACTED}, again ${REDACTED}; other=${REDACTED}.`);
    expect(out).not.toContain(a);
    expect(out).not.toContain(b);
  });

  it('redacts a token inside a header line the SDK might print', () => {
    const token = oktaLikeToken();
    expect(redact(`TypeError: invalid header "Authorization: SSWS ${token}\n"`, new Set([token]))).toBe(
      `TypeError: invalid header "Authorization: SSWS ${REDACTED}\n"`,
    );
  });

  const untouched: [string, string[]][] = [
    ['no secrets', []],
    ['an empty secret', ['']],
    ['a secret that is not in the text', ['not-in-the-text']],
  ];
  it('removes a short secret too: whatever was read from a store is redacted, whatever its length', () => {
    expect(redact('token sh X in the quick brown fox', ['sh X'])).toBe('token [REDACTED] in the quick brown fox');
  });

  it('removes a secret that contains another whole, not in pieces', () => {
    expect(redact('k=abcdef0123456789', ['0123', 'abcdef0123456789'])).toBe('k=[REDACTED]');
  });

  it.each(untouched)('leaves the text alone with %s', (_label, secrets) => {
    expect(redact('the quick brown fox', secrets)).toBe('the quick brown fox');
  });

  it('redacts a secret of exactly 8 characters', () => {
    expect(redact('key=abcdefgh;', ['abcdefgh'])).toBe(`key=${REDACTED};`);
  });

  it('treats a secret as text, not a pattern', () => {
    expect(redact('a.b.c.d.e.f.g.h and aXbXcXdXeXfXgXh', ['a.b.c.d.e.f.g.h'])).toBe(`${REDACTED} and aXbXcXdXeXfXgXh`);
  });
});

describe('environment overrides', () => {
  const keys: [string, string][] = [
    ['prod', 'PROD'],
    ['my-org', 'MY_ORG'],
    ['a_b-c', 'A_B_C'],
    ['0x', '0X'],
    ['acme--preview', 'ACME__PREVIEW'],
  ];
  it.each(keys)('the key of %s is %s', (name, key) => {
    expect(envKey(name)).toBe(key);
    expect(tokenVar(name)).toBe(`OKTA_CONNECT_${key}_TOKEN`);
    expect(orgUrlVar(name)).toBe(`OKTA_CONNECT_${key}_ORG_URL`);
  });

  it('finds the connections named in the environment, sorted and once each', () => {
    const env = {
      OKTA_CONNECT_PROD_TOKEN: 'x',
      OKTA_CONNECT_PROD_ORG_URL: 'https://acme.okta.com',
      OKTA_CONNECT_MY_ORG_ORG_URL: 'https://my.okta.com',
      OKTA_CONNECT_ACME_PREVIEW_TOKEN: 'y',
      OKTA_CONNECT_1ST_TOKEN: 'z',
      OKTA_CONNECT_EMPTY_TOKEN: '',
      OKTA_CONNECT_UNSET_TOKEN: undefined,
      OKTA_CONNECT_NO_PROMPT: '1',
      OKTA_CONNECT_CONFIG_DIR: '/tmp/x',
      OKTA_CONNECT__TOKEN: 'x',
      okta_connect_lower_token: 'x',
      OKTA_CONNECT_PROD_TOKEN_FILE: 'x',
      OKTA_CLIENT_TOKEN: 'x',
      PATH: '/usr/bin',
    };
    expect(envConnectionKeys(env)).toEqual(['1ST', 'ACME_PREVIEW', 'MY_ORG', 'PROD']);
  });

  it('finds a name that itself ends in "-token" or "-org-url"', () => {
    expect(envConnectionKeys({ [tokenVar('prod-token')]: 'x' })).toEqual(['PROD_TOKEN']);
    expect(envConnectionKeys({ [orgUrlVar('x-org-url')]: 'https://x.okta.com' })).toEqual(['X_ORG_URL']);
  });

  it('gives back the key of every valid name through its variables', () => {
    for (const name of ['prod', 'my-org', 'a', '9', 'a_b', 'z-'.repeat(32)]) {
      expect(envConnectionKeys({ [tokenVar(name)]: 'x' })).toEqual([envKey(name)]);
      expect(envConnectionKeys({ [orgUrlVar(name)]: 'x' })).toEqual([envKey(name)]);
    }
  });

  it('is empty for an empty environment', () => {
    expect(envConnectionKeys({})).toEqual([]);
  });

  it('finds an OAuth connection by any of its variables, so that a partial set is reported rather than ignored', () => {
    for (const variable of [clientIdVar, privateKeyVar, scopesVar, keyIdVar]) {
      expect(envConnectionKeys({ [variable('ci-svc')]: 'x' })).toEqual(['CI_SVC']);
    }
  });
});

describe('the environment connection of a name (envOverride)', () => {
  const orgUrl = 'https://acme.okta.com';
  const usage = (env: Record<string, string>): string => {
    try {
      envOverride({ [orgUrlVar('ci')]: orgUrl, ...env }, 'ci');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return `${(error as UsageError).message} | ${(error as UsageError).hint ?? ''}`;
    }
    return 'no error';
  };
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const oauth = { [clientIdVar('ci')]: '0oa1234567890abcdefg', [privateKeyVar('ci')]: key, [scopesVar('ci')]: 'okta.users.read' };

  it('takes a whole OAuth set, and says which variable the key came from', () => {
    const override = envOverride({ [orgUrlVar('ci')]: orgUrl, ...oauth }, 'ci');
    expect(override.credential?.kind).toBe('oauth');
    expect(override.secretVar).toBe(privateKeyVar('ci'));
    expect(envOverride({ [tokenVar('ci')]: oktaLikeToken() }, 'ci').secretVar).toBe(tokenVar('ci'));
  });

  it.each([
    [{ [clientIdVar('ci')]: '0oa1234567890abcdefg' }, /^OKTA_CONNECT_CI_CLIENT_ID is set but OKTA_CONNECT_CI_PRIVATE_KEY and OKTA_CONNECT_CI_SCOPES are not set \| set OKTA_CONNECT_CI_PRIVATE_KEY \(the private key, PEM or JWK\) and OKTA_CONNECT_CI_SCOPES \(the Okta API scopes\) too/],
    [{ ...oauth, [scopesVar('ci')]: '' }, /^OKTA_CONNECT_CI_CLIENT_ID is set but OKTA_CONNECT_CI_SCOPES is empty \| set OKTA_CONNECT_CI_SCOPES \(the Okta API scopes\) too, or unset OKTA_CONNECT_CI_CLIENT_ID$/],
    [{ [clientIdVar('ci')]: '0oa1234567890abcdefg', [scopesVar('ci')]: 'okta.users.read', [privateKeyVar('ci')]: '' }, /^OKTA_CONNECT_CI_CLIENT_ID is set but OKTA_CONNECT_CI_PRIVATE_KEY is empty \| set OKTA_CONNECT_CI_PRIVATE_KEY \(the private key, PEM or JWK\) too/],
    [{ [clientIdVar('ci')]: '0oa1234567890abcdefg', [privateKeyVar('ci')]: '' }, /^OKTA_CONNECT_CI_CLIENT_ID is set but OKTA_CONNECT_CI_PRIVATE_KEY is empty and OKTA_CONNECT_CI_SCOPES is not set \|/],
    [{ ...oauth, [privateKeyVar('ci')]: '{"keys":[null]}' }, /^OKTA_CONNECT_CI_PRIVATE_KEY: the JWK set's key is not a JSON object/],
    [{ ...oauth, [privateKeyVar('ci')]: key.trim().replace(/\n/g, '\\n') }, /^OKTA_CONNECT_CI_PRIVATE_KEY: the PEM private key holds "\\n" sequences .*\| .*instead of newlines.*; or unset OKTA_CONNECT_CI_PRIVATE_KEY$/],
    [{ [privateKeyVar('ci')]: key }, /^OKTA_CONNECT_CI_PRIVATE_KEY is set but OKTA_CONNECT_CI_CLIENT_ID is not \| set OKTA_CONNECT_CI_CLIENT_ID/],
    [{ [scopesVar('ci')]: 'okta.users.read' }, /^OKTA_CONNECT_CI_SCOPES is set but OKTA_CONNECT_CI_CLIENT_ID is not/],
    [{ [keyIdVar('ci')]: 'kid-1' }, /^OKTA_CONNECT_CI_KEY_ID is set but OKTA_CONNECT_CI_CLIENT_ID is not/],
    [{ ...oauth, [scopesVar('ci')]: 'okta.users.read users.read' }, /^OKTA_CONNECT_CI_SCOPES: "users\.read" is not an Okta API scope .*or unset OKTA_CONNECT_CI_SCOPES$/],
    [{ ...oauth, [clientIdVar('ci')]: 'has spaces in it' }, /^OKTA_CONNECT_CI_CLIENT_ID: /],
    [{ ...oauth, [privateKeyVar('ci')]: '{"kty":"EC"}' }, /^OKTA_CONNECT_CI_PRIVATE_KEY: this JWK is a public key/],
    [{ ...oauth, [keyIdVar('ci')]: 'two words' }, /^OKTA_CONNECT_CI_KEY_ID: the key id has spaces/],
    [{ ...oauth, [tokenVar('ci')]: 'x' }, /^OKTA_CONNECT_CI_TOKEN and OKTA_CONNECT_CI_CLIENT_ID are both set/],
  ])('refuses %o, naming the variable', (env, message) => {
    const said = usage(env);
    expect(said).toMatch(message);
    expect(said).not.toContain(key.split('\n')[1]);
    // --generate-key is a flag of add: a key given in the environment cannot be generated instead.
    expect(said).not.toMatch(/generate-key/);
  });
});

describe('errors', () => {
  const classes: [keyof typeof ExitCode, CliError, number][] = [
    ['usage', new UsageError('m'), 2],
    ['notFound', new NotFoundError('m'), 3],
    ['auth', new AuthError('m'), 4],
    ['permission', new PermissionError('m'), 5],
    ['network', new NetworkError('m'), 6],
    ['badResponse', new BadResponseError('m'), 7],
    ['keychain', new KeychainError('m'), 8],
    ['interrupted', new CancelledError(), 130],
  ];
  it.each(classes)('%s errors exit with the contract code', (codeName, error, exitCode) => {
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(exitCode);
    expect(ExitCode[codeName]).toBe(exitCode);
  });

  it('the exit-code table holds the contract codes', () => {
    expect(ExitCode).toMatchObject({
      ok: 0,
      internal: 1,
      usage: 2,
      notFound: 3,
      auth: 4,
      permission: 5,
      network: 6,
      badResponse: 7,
      keychain: 8,
      interrupted: 130,
    });
  });

  it('keeps the hint, the HTTP details and the cause', () => {
    const cause = new Error('inner');
    const error = new AuthError('rejected', { hint: 'h', httpStatus: 401, oktaErrorCode: 'E0000011', oktaErrorId: 'id1', cause });
    expect(error.name).toBe('AuthError');
    expect(error.hint).toBe('h');
    expect(error.details).toEqual({ httpStatus: 401, oktaErrorCode: 'E0000011', oktaErrorId: 'id1' });
    expect(error.cause).toBe(cause);
  });

});
