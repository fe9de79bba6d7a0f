import { domainToUnicode } from 'node:url';
import * as z from 'zod/mini';
import { UsageError } from './errors.js';
import { OKTA_DOMAINS, isKnownOktaHost, suggestedOrgUrl } from './org-url.js';
import { secretCommandSchema } from './secret-command.js';

export { OKTA_DOMAINS, isKnownOktaHost, subdomainOf, suggestedOrgUrl, tokenPageUrl } from './org-url.js';


export const ORG_URL_HINT = 'copy the address from the Okta Admin Console, e.g. https://acme.okta.com';
export const NAME_HINT = 'use lower-case letters, digits, "-" and "_", e.g. prod or acme-preview';

/** A value that passed validation, and what the user should be told about how it was changed. */
export interface Normalised<T> {
  value: T;
  notices: string[];
}

// Letters, digits, '-' and '.' only, each label 1-63 characters: what a DNS host name may be after URL parsing.
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** What an Okta API token looks like: refused as a name, so a token typed in the wrong place is never echoed. */
export const TOKEN_SHAPED = /^00[A-Za-z0-9_-]{40}$/;

/** Every schema here is z.lazy: built on its first use, not at start-up (see optionFields). */
export const nameSchema = z.lazy(() =>
  z.pipe(
    z.pipe(
      z.string().check(
        z.refine(
          (raw: string) => !TOKEN_SHAPED.test(raw.trim()),
          'this looks like an API token, not a connection name: a token in the arguments leaks into ps and shell history',
        ),
      ),
      z.transform((raw: string) => raw.trim().toLowerCase()),
    ),
    z
      .string()
      .check(
        z.minLength(1, 'a name is required'),
        z.maxLength(64, 'a name has at most 64 characters'),
        z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a name starts with a letter or digit and has only letters, digits, "-" and "_"'),
      ),
  ),
);

/** A zod transform that may refuse its input with a message. */
function refining<T>(normalise: (raw: string, fail: (message: string) => never) => T) {
  return z.lazy(() =>
    z.pipe(
      z.string(),
      z.transform((raw: string, ctx) => {
        try {
          return normalise(raw, (message) => {
            throw new Refused(message);
          });
        } catch (error) {
          if (!(error instanceof Refused)) throw error;
          ctx.issues.push({ code: 'custom', message: error.message, input: raw });
          return z.NEVER;
        }
      }),
    ),
  );
}

class Refused extends Error {}

export const orgUrlSchema = refining((raw, fail): Normalised<string> => {
  const notices: string[] = [];
  let text = raw.trim();
  if (text === '') return fail('the API address is empty');
  if (/\{+\s*yourOktaDomain\s*\}+/i.test(text)) return fail('replace {yourOktaDomain} with your Okta domain');
  // Anything with control characters or whitespace inside cannot be a URL someone meant.
  if (/[\s\p{Cc}]/u.test(text)) return fail('the API address contains spaces or control characters');

  const scheme = /^([a-z][a-z0-9+.-]*):(\/\/)?/i.exec(text);
  const hasScheme = scheme !== null && (scheme[2] !== undefined || !/^\d/.test(text.slice(scheme[0].length)));
  if (!hasScheme) {
    text = `https://${text}`;
  } else if (scheme[1]?.toLowerCase() === 'http') {
    return fail('http:// is not allowed: Okta is only reached over https://');
  } else if (scheme[1]?.toLowerCase() !== 'https') {
    // `user:pass@host` parses as the scheme `user`: say what is really wrong.
    if (scheme[2] === undefined && /^[^/?#]*@/.test(text.slice(scheme[0].length))) {
      return fail('the API address must not contain a user name or password');
    }
    return fail(`the scheme ${scheme[1] ?? ''}: is not allowed: use https://`);
  }
  // A doubled scheme (https://https://acme.okta.com) is a paste accident.
  text = text.replace(/^https:\/\/(https?:\/\/)+/i, 'https://');

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('the API address is not a valid URL');
  }
  if (url.username !== '' || url.password !== '') return fail('the API address must not contain a user name or password');
  let host = url.hostname.toLowerCase();
  if (host === '' || host.startsWith('.') || host.endsWith('.')) return fail('the API address has no valid host name');
  const isIpv6 = host.startsWith('[');
  if (!isIpv6) {
    if (host.startsWith('xn--') || host.includes('.xn--')) {
      // Okta's own subdomains are plain ASCII, so a non-ASCII one is a look-alike; elsewhere it may be a custom domain.
      if (isKnownOktaHost(host) || looksLikeOktaDomain(host)) return fail(`the host has non-ASCII (look-alike) characters: ${host}`);
      notices.push(`the host ${host} is an internationalised name: check that it is the one you meant`);
    }
    if (!host.split('.').every((label) => HOST_LABEL.test(label))) return fail('the API address has no valid host name');
    // A DNS name has at most 253 characters: a longer host can be stored and printed, never resolved.
    if (host.length > 253) return fail(`the host name is too long (${String(host.length)} characters; at most 253)`);
  }
  if (host.endsWith('.com.com')) return fail(`the host ${host} ends in .com.com: remove the extra .com`);
  // A bare word is an org's subdomain typed alone, not a custom domain (localhost stays: test orgs and tunnels).
  const suggestion = isIpv6 ? undefined : suggestedOrgUrl(host);
  if (suggestion !== undefined && !host.includes('.')) return fail(`"${host}" is not a whole address: did you mean ${suggestion}?`);

  const labels = host.split('.');
  const first = labels[0] ?? '';
  // Only Okta's own Admin Console hosts are <org>-admin.<okta domain>: on a custom domain (sso-admin.corp.example) the
  // "-admin" is part of the name the org chose, and removing it would point the token at another host.
  if (!isIpv6 && first.endsWith('-admin') && labels.length > 1 && isKnownOktaHost(host)) {
    // Every trailing "-admin" goes, so that normalising the result again changes nothing; what is left must be a label.
    let stripped = first;
    while (stripped.endsWith('-admin')) stripped = stripped.slice(0, -'-admin'.length);
    if (!HOST_LABEL.test(stripped)) return fail('the API address has no valid host name');
    host = [stripped, ...labels.slice(1)].join('.');
    notices.push(`removed "-admin" from the host: the API is at ${host}, not the Admin Console`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    notices.push(`dropped "${url.pathname === '/' ? '' : url.pathname}${url.search}${url.hash}": the API address is the org's origin only`);
  }
  if (!isKnownOktaHost(host)) {
    notices.push(`${host} is not one of Okta's domains: it is taken as a custom domain`);
  }
  const port = url.port === '' ? '' : `:${url.port}`;
  return { value: `https://${host}${port}`, notices };
});


/** An internationalised host that reads as one of Okta's domains when its non-ASCII letters are read as Latin (acme.оkta.com). */
function looksLikeOktaDomain(host: string): boolean {
  // Code points, not UTF-16 units: one look-alike letter stands for one Latin letter.
  const shown = Array.from(domainToUnicode(host).normalize('NFKD').replace(/\p{M}/gu, ''));
  return OKTA_DOMAINS.some((domain) => {
    const want = domain.split('');
    const tail = shown.slice(-want.length);
    const before = shown[shown.length - want.length - 1];
    return (
      shown.length >= want.length &&
      (before === undefined || before === '.') &&
      tail.every((char, i) => char === want[i] || char > '\u007f')
    );
  });
}

export const tokenSchema = refining((raw, fail): Normalised<string> => {
  // A copied header (`SSWS 00…` or `Authorization: SSWS 00…`) is the token with its scheme: take the token.
  const prefixed = /^\s*(?:authorization:\s*)?ssws\s+/i.exec(raw);
  const token = (prefixed ? raw.slice(prefixed[0].length) : raw).trim();
  const prefixNotice = prefixed ? ['removed "SSWS " (the scheme of the Authorization header) from the token'] : [];
  if (token === '') return fail('the token is empty');
  if (/\{+\s*apiToken\s*\}+/i.test(token)) return fail('replace {apiToken} with your API token');
  if (/[\s\p{Cc}]/u.test(token)) return fail('the token contains spaces or control characters');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return fail('the token has characters an Okta API token never has (only A-Z, a-z, 0-9, "-" and "_")');
  if (token.length === 20 && token.startsWith('00T')) {
    return fail('this is a token id (00T…), not the token: copy the token value shown once when it was created');
  }
  if (token.length < 20) return fail(`the token is too short (${token.length} characters; Okta's are 42)`);
  if (token.length > 200) return fail(`the token is too long (${token.length} characters; Okta's are 42)`);
  const notices = TOKEN_SHAPED.test(token)
    ? []
    : ['the token does not look like an Okta API token ("00" and 40 more characters); it is tried anyway'];
  return { value: token, notices: [...prefixNotice, ...notices] };
});

/** Validate one raw value against a schema, turning its first issue into a usage error. */
export function parseValue<S extends z.ZodMiniType>(schema: S, raw: unknown, what: string, hint?: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? 'invalid value';
  return fail(`invalid ${what}: ${message}`, hint);
}

function fail(message: string, hint?: string): never {
  throw new UsageError(message, { hint });
}

export const parseName = (raw: string): string =>
  parseValue(nameSchema, raw, 'name', NAME_HINT);
export const parseOrgUrl = (raw: string): Normalised<string> =>
  parseValue(orgUrlSchema, raw, 'API address', ORG_URL_HINT);
export const parseToken = (raw: string): Normalised<string> =>
  parseValue(tokenSchema, raw, 'token', 'create a token in the Admin Console: Security > API > Tokens > Create Token');

export interface Owner {
  id: string;
  login: string | null;
  status?: string | null | undefined;
}

const isoTime = z.lazy(() => z.iso.datetime({ offset: true }));

/** A stored value must already be what the input rules make of it: a hand-edited file is checked as input is. */
function stored(normalise: (value: string) => string | undefined) {
  return z.lazy(() => z.string().check(z.refine((value: string) => normalise(value) === value, 'is not valid')));
}
const storedName = stored((value) => nameSchema.safeParse(value).data);
const storedOrgUrl = stored((value) => orgUrlSchema.safeParse(value).data?.value);

const ownerSchema = z.lazy(() => z.object({ id: z.string(), login: z.nullable(z.string()), status: z.nullish(z.string()) }));
/** `httpStatus` (added in 0.2): what the host answered, so that LAST TEST can say it in words; `reason` (0.2): below. */
const lastTestSchema = z.lazy(() =>
  z.object({
    at: isoTime,
    ok: z.boolean(),
    code: z.int(),
    latencyMs: z.number(),
    httpStatus: z._default(z.nullable(z.int()), null),
    /**
     * OAuth connections only (added in 0.2), absent otherwise: which refusal of the token endpoint failed the test
     * (`key`, `kid`, `client`, `clock`, `dpop`, `method`, `grant`, `scope`, `other`), so that LAST TEST and doctor say it
     * in its own words. Any string reads: a word from a newer version is shown by its exit code, as before.
     */
    reason: z.optional(z.string()),
  }),
);

/**
 * One saved connection, as stored in connections.json (version 2). The secret is never here: only its fingerprint,
 * which binds it to this address. Version 1 records (no `kind`, no fingerprint) read as API-token connections. A
 * `secretCommand` (an argv, checked on read as on input) makes the connection's secret the command's output, never
 * the keychain's; its fingerprint stays null, since such a secret changes by design.
 */
export const connectionRecordSchema = z.lazy(() =>
  z.object({
    name: storedName,
    kind: z._default(z.enum(['token', 'oauth']), 'token'),
    orgUrl: storedOrgUrl,
    createdAt: isoTime,
    owner: z._default(z.nullable(ownerSchema), null),
    lastTest: z._default(z.nullable(lastTestSchema), null),
    lastUsedAt: z._default(z.nullable(isoTime), null),
    secretFingerprint: z._default(z.nullable(z.string().check(z.regex(/^sha256:[0-9a-f]{16}$/))), null),
    secretCommand: z._default(z.nullable(secretCommandSchema), null),
    /**
     * OAuth connections only (added in 0.3), absent on API-token records so their files stay as they were: not secret,
     * kept here so that list shows them without reading the keychain.
     */
    clientId: z.optional(z.string()),
    scopes: z.optional(z.array(z.string())),
    keyId: z.optional(z.string()),
  }),
);
export type ConnectionRecord = z.output<typeof connectionRecordSchema>;

export const IDLE_EXPIRY_DAYS = 30;
const DAY_MS = 86_400_000;

/** Okta revokes a token unused for 30 days; every successful call renews it. */
export function idleExpiresAt(record: Pick<ConnectionRecord, 'createdAt' | 'lastUsedAt'>): string {
  const from = Date.parse(record.lastUsedAt ?? record.createdAt);
  return new Date(from + IDLE_EXPIRY_DAYS * DAY_MS).toISOString();
}

/** Whole days left before `iso`, rounded up (29.9 days left reads "in 30d"); negative once past it. */
export function daysUntil(iso: string, now: Date): number {
  const ms = Date.parse(iso) - now.getTime();
  return ms < 0 ? Math.floor(ms / DAY_MS) : Math.ceil(ms / DAY_MS);
}

/** Under a week to the idle expiry: time to warn. */
export function isExpiringSoon(iso: string, now: Date): boolean {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 && ms < 7 * DAY_MS;
}

/** Connections in name order. Names are ASCII, so code-unit order: no ICU collator to start (~8 ms of a list). */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
