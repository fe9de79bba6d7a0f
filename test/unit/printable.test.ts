import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withoutUserInfo } from '../../src/domain/org-url.js';
import { listItem, ownerText } from '../../src/connections/views.js';
import { jsonText, printable } from '../../src/domain/printable.js';

const ESC = '\u001b';
/** Anything a terminal acts on, or that makes text read other than it is. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** What hostile servers and files were seen (or could be) sending, and what must be left of it. */
const HOSTILE: [string, string, string][] = [
  ['an OSC title change (BEL)', `ada${ESC}]0;pwned\u0007@acme.com`, 'ada@acme.com'],
  ['an OSC title change (ST)', `ada${ESC}]2;pwned${ESC}\\@acme.com`, 'ada@acme.com'],
  ['an OSC 8 hyperlink', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
  ['a screen clear and cursor home', `${ESC}[2J${ESC}[Hada`, 'ada'],
  ['colours', `${ESC}[31;1mred${ESC}[0m`, 'red'],
  ['a private-mode CSI (hide the cursor)', `${ESC}[?25lada`, 'ada'],
  ['a terminal reset (ESC c)', `${ESC}cada`, 'ada'],
  ['a charset switch (ESC ( 0)', `${ESC}(0ada`, 'ada'],
  ['a DCS string', `${ESC}P1$r${ESC}\\ada`, 'ada'],
  ['an APC string', `${ESC}_payload${ESC}\\ada`, 'ada'],
  ['an 8-bit CSI', '\u009b2Jada', 'ada'],
  ['an 8-bit OSC ended by an 8-bit ST', '\u009d0;pwned\u009cada', 'ada'],
  ['an unterminated OSC', `ada${ESC}]0;pwned`, 'ada0;pwned'],
  ['a lone ESC at the end', `ada${ESC}`, 'ada'],
  ['a right-to-left override', 'ada\u202emoc.emca@', 'adamoc.emca@'],
  ['bidi isolates and marks', '\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061cd', 'abcd'],
  ['embeddings', '\u202aa\u202bb\u202cc\u202dd', 'abcd'],
  ['DEL and backspaces (overwrite what was printed)', 'admin\u0008\u0008\u0008\u0008\u0008guest\u007f', 'adminguest'],
  ['a carriage return (overwrite the line)', 'ok\rFAILED', 'ok FAILED'],
  ['a newline with a fake error line', 'ada\nerror: fake', 'ada error: fake'],
  ['a tab', 'a\tb', 'a b'],
  ['NUL and BEL', 'a\u0000b\u0007c', 'abc'],
  ['C1 controls', 'a\u0085b\u0090c\u009fd', 'abcd'],
];

describe('printable', () => {
  it.each(HOSTILE)('%s', (_what, raw, shown) => {
    expect(printable(raw)).toBe(shown);
    expect(printable(raw)).not.toMatch(UNSAFE);
  });

  it.each([['ada@acme.com'], ['Super Administrator'], ['Zoë Ñúñez 管理者 😀'], ['']])('leaves %j as it is', (text) => {
    expect(printable(text)).toBe(text);
  });

  it('nothing it returns is unsafe, whatever it is given, and it changes nothing the second time', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom(ESC, `${ESC}[`, `${ESC}]`, '\u009b', '\u009d', '\u0007', `${ESC}\\`, '\u009c', '\u202e', '\r', '\n'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const shown = printable(pieces.join(''));
        expect(shown).not.toMatch(UNSAFE);
        expect(printable(shown)).toBe(shown);
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonText', () => {
  it('escapes DEL, C1 and bidi characters, which JSON.stringify leaves raw, and the value reads back the same', () => {
    const value = { login: `a${ESC}[2J\u009b2J\u007f\u202e\u2066b`, n: 1 };
    const text = jsonText(value);
    // Pretty-printed: line breaks between members are the only control characters left.
    expect(text.replace(/\n/g, '')).not.toMatch(UNSAFE);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('withoutUserInfo', () => {
  it.each([
    ['https://user:hunter2@acme.okta.com', 'https://acme.okta.com'],
    ['https://user:hunter2@acme.okta.com:8443/path?q=1', 'https://acme.okta.com:8443/path?q=1'],
    ['https://hunter2@acme.okta.com', 'https://acme.okta.com'],
    ['user:hunter2@acme.okta.com', 'acme.okta.com'],
    ['https://user:pa/ss@acme.okta.com', 'https://acme.okta.com'],
    ['https://us@r:p@ss@acme.okta.com', 'https://acme.okta.com'],
    ['http://user:hunter2@proxy.corp:3128', 'http://proxy.corp:3128'],
    ['https://acme.okta.com', 'https://acme.okta.com'],
    ['https://acme.okta.com/users/ada@acme.com', 'https://acme.okta.com/users/ada@acme.com'],
    ['https://acme.okta.com/?login=ada@acme.com', 'https://acme.okta.com/?login=ada@acme.com'],
    ['not a url', 'not a url'],
  ])('%j is shown as %j', (raw, shown) => {
    expect(withoutUserInfo(raw)).toBe(shown);
    expect(withoutUserInfo(raw)).not.toMatch(/hunter2|pa\/ss|p@ss/);
  });
});

describe('what the commands print of an owner', () => {
  it('ownerText removes controls from a login and role labels however they arrived (a gateway, a file)', () => {
    const text = ownerText({ owner: { id: '00u1', login: `ada${ESC}]0;t\u0007${ESC}[2J@acme.com`, status: 'ACTIVE' }, roles: [`Org\u202e Admin${ESC}c`] });
    expect(text).toBe('as ada@acme.com (Org Admin)');
  });

  it('listItem shows an address from the environment normalised, or without its user-info when it is not valid', () => {
    const item = (orgUrl: string): string => listItem({ name: 'x', kind: 'token', orgUrl, source: 'env', record: undefined }).orgUrl;
    expect(item('ACME.okta.com/')).toBe('https://acme.okta.com');
    expect(item('https://user:hunter2@acme.okta.com')).toBe('https://acme.okta.com');
    expect(item(`https://acme.okta.com${ESC}]0;t\u0007`)).toBe('https://acme.okta.com');
  });
});
