import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRecord } from '../../src/domain/connection.js';
import { OKTA_DOMAINS, isKnownOktaHost, nameSchema, orgUrlSchema, tokenSchema } from '../../src/domain/connection.js';
import { fileMetadataStore } from '../../src/adapters/metadata.js';

const NUM_RUNS = 300;
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
/** Whitespace and control characters of several kinds, ASCII and not. */
const badChar = fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\u0000', '\u001b', '\u007f', '\u0085', '\u00a0', '\u2028', '\u3000', '\ufeff');
const edgeSpace = fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\u00a0', '\ufeff');

// Org URLs: pieces a user might paste, in every combination, plus fully random text.
const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/);
const oktaHost = fc
  .tuple(label, fc.constantFrom('', '', '-admin', '-ADMIN', '-admin-admin'), fc.constantFrom(...OKTA_DOMAINS))
  .map(([sub, admin, domain]) => `${sub}${admin}.${domain}`);
const unicodeHost = fc
  .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), fc.constantFrom('okta.com', 'example.com', 'de'))
  .map(([sub, domain]) => `${sub}.${domain}`);
const host = fc.oneof(
  { weight: 4, arbitrary: fc.mixedCase(oktaHost) },
  { weight: 2, arbitrary: fc.mixedCase(fc.domain()) },
  { weight: 1, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6().map((ip) => `[${ip}]`) },
  { weight: 1, arbitrary: fc.constantFrom('localhost', 'acme.okta.com.com', '-x.okta.com', 'a..okta.com') },
  { weight: 1, arbitrary: unicodeHost },
);
const scheme = fc.constantFrom('', '', 'https://', 'HTTPS://', 'https://https://', 'https:', '//', 'http://', 'ftp://');
const userInfo = fc.constantFrom('', '', '', 'user@', 'user:pass@');
const port = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 70_000 }).map((p) => `:${String(p)}`));
const rest = fc.oneof(
  fc.constant(''),
  fc.constant('/'),
  fc.webPath(),
  fc.webQueryParameters().map((query) => `?${query}`),
  fc.webFragments().map((fragment) => `#${fragment}`),
);
const pastedUrl = fc
  .tuple(edgeSpace, scheme, userInfo, host, port, rest, edgeSpace)
  .map((parts) => parts.join(''));
const anyUrl = fc.oneof(
  { weight: 6, arbitrary: pastedUrl },
  { weight: 1, arbitrary: fc.webUrl({ validSchemes: ['https', 'http'], withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

const anyName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[ \t]?[A-Za-z0-9][A-Za-z0-9_-]{0,66}[ \t]?$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) },
);
const anyToken = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(edgeSpace, fc.stringMatching(/^[A-Za-z0-9_-]{15,205}$/), edgeSpace).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.stringMatching(/^00T[A-Za-z0-9_-]{15,20}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 18, maxLength: 60 }) },
);

/** A value with one bad character put strictly inside it (not at either end, where trimming may remove it). */
const withInnerBadChar = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(valid.filter((text) => text.length >= 2), badChar, fc.nat())
    .map(([text, bad, at]) => {
      const index = 1 + (at % (text.length - 1));
      return text.slice(0, index) + bad + text.slice(index);
    });

/** Runs a property and checks that enough generated values were accepted for it to mean something. */
function checkAccepted(arbitrary: fc.Arbitrary<string>, accept: (raw: string) => string | undefined, check: (value: string, raw: string) => void): void {
  let accepted = 0;
  fc.assert(
    fc.property(arbitrary, (raw) => {
      const value = accept(raw);
      if (value === undefined) return;
      accepted += 1;
      check(value, raw);
    }),
    { numRuns: NUM_RUNS },
  );
  expect(accepted).toBeGreaterThan(NUM_RUNS / 5);
}

const acceptUrl = (raw: string): string | undefined => {
  const result = orgUrlSchema.safeParse(raw);
  return result.success ? result.data.value : undefined;
};
const acceptName = (raw: string): string | undefined => {
  const result = nameSchema.safeParse(raw);
  return result.success ? result.data : undefined;
};
const acceptToken = (raw: string): string | undefined => {
  const result = tokenSchema.safeParse(raw);
  return result.success ? result.data.value : undefined;
};

describe('org URL properties', () => {
  it('normalising an accepted address again gives the same value, with nothing more to drop or strip', () => {
    checkAccepted(anyUrl, acceptUrl, (value) => {
      const again = orgUrlSchema.safeParse(value);
      expect(again.success).toBe(true);
      if (!again.success) return;
      expect(again.data.value).toBe(value);
      expect(again.data.notices.join('\n')).not.toMatch(/dropped|removed "-admin"/);
    });
  });

  it('an accepted address is https:// + a lower-case host + an optional port, and nothing else', () => {
    const shape = /^https:\/\/(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
    checkAccepted(anyUrl, acceptUrl, (value) => {
      expect(value).toMatch(shape);
      expect(new URL(value).origin).toBe(value);
      // "-admin" is removed inside Okta's domains only: a custom domain keeps its name.
      if (isKnownOktaHost(new URL(value).hostname)) expect(new URL(value).hostname.split('.')[0]).not.toMatch(/-admin$/);
      expect(value).not.toMatch(/\.com\.com(?::\d+)?$/);
      // Okta's own hosts are plain ASCII: an internationalised one is a look-alike.
      const { hostname } = new URL(value);
      if (isKnownOktaHost(hostname)) expect(hostname).not.toMatch(/(^|\.)xn--/);
    });
  });

  it('"-admin" goes from the first label inside Okta\'s domains only; any other host is kept as typed', () => {
    const adminHost = fc
      .tuple(label, fc.constantFrom('-admin', '-ADMIN', '-admin-admin'), fc.oneof(fc.constantFrom(...OKTA_DOMAINS), fc.domain()))
      .map(([sub, admin, domain]) => `${sub}${admin}.${domain}`);
    checkAccepted(adminHost, acceptUrl, (value, raw) => {
      const typed = raw.toLowerCase();
      const first = typed.split('.')[0] ?? '';
      if (isKnownOktaHost(typed)) expect(value).toBe(`https://${first.replace(/(-admin)+$/, '')}${typed.slice(first.length)}`);
      else expect(value).toBe(`https://${typed}`);
    });
  });

  it('an accepted address has no whitespace or control characters', () => {
    checkAccepted(anyUrl, acceptUrl, (value) => {
      expect(value).not.toMatch(WHITESPACE_OR_CONTROL);
    });
  });

  it('an address with whitespace or a control character inside is refused', () => {
    const valid = fc.tuple(scheme.filter((s) => !s.startsWith('http:') && !s.startsWith('ftp')), fc.mixedCase(oktaHost), rest).map((p) => p.join(''));
    fc.assert(
      fc.property(withInnerBadChar(valid), (raw) => {
        expect(orgUrlSchema.safeParse(raw).success).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('name properties', () => {
  it('an accepted name matches the contract pattern and is the input trimmed and lower-cased', () => {
    checkAccepted(anyName, acceptName, (value, raw) => {
      expect(value).toMatch(/^[a-z0-9][a-z0-9_-]{0,63}$/);
      expect(value).toBe(raw.trim().toLowerCase());
      expect(acceptName(value)).toBe(value);
    });
  });

  it('a name with whitespace or a control character inside is refused', () => {
    fc.assert(
      fc.property(withInnerBadChar(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{1,40}$/)), (raw) => {
        expect(nameSchema.safeParse(raw).success).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('token properties', () => {
  it('an accepted token is the trimmed input, 20 to 200 url-safe characters, never a token id', () => {
    checkAccepted(anyToken, acceptToken, (value, raw) => {
      expect(value).toBe(raw.trim());
      expect(value).toMatch(/^[A-Za-z0-9_-]{20,200}$/);
      expect(value).not.toMatch(WHITESPACE_OR_CONTROL);
      expect(value.length === 20 && value.startsWith('00T')).toBe(false);
    });
  });

  it('a token with whitespace or a control character inside is refused', () => {
    fc.assert(
      fc.property(withInnerBadChar(fc.stringMatching(/^[A-Za-z0-9_-]{20,60}$/)), (raw) => {
        expect(tokenSchema.safeParse(raw).success).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('metadata round trip', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'okc-prop-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('whatever is accepted is saved and read back unchanged', async () => {
    let run = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        anyName,
        anyUrl,
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.option(fc.record({ id: fc.string({ unit: 'grapheme' }), login: fc.option(fc.string({ unit: 'grapheme' })) })),
        async (rawName, rawUrl, created, owner) => {
          const name = acceptName(rawName);
          const orgUrl = acceptUrl(rawUrl);
          if (name === undefined || orgUrl === undefined) return;
          accepted += 1;
          run += 1;
          const store = fileMetadataStore(join(root, String(run)));
          const record: ConnectionRecord = {
            name,
            kind: 'token',
            orgUrl,
            createdAt: created.toISOString(),
            owner,
            lastTest: null,
            lastUsedAt: null,
            secretFingerprint: null,
            secretCommand: null,
          };
          const other: ConnectionRecord = { ...record, name: name === 'other' ? 'other-2' : 'other' };
          await store.update(() => [other]);
          await store.update((connections) => [...connections, record]);
          const saved = await store.list();
          expect(saved).toHaveLength(2);
          expect(saved.find((connection) => connection.name === name)).toEqual(record);
          expect(await fileMetadataStore(join(root, String(run))).list()).toEqual(saved);
        },
      ),
      { numRuns: 60 },
    );
    expect(accepted).toBeGreaterThan(5);
  });
});
