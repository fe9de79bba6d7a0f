import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/io/table.js';

const green = (text: string): string => `\u001b[32m${text}\u001b[39m`;
const boldRed = (text: string): string => `\u001b[1;31m${text}\u001b[22;39m`;

describe('formatTable', () => {
  it('pads every column but the last to its widest cell, two spaces apart', () => {
    const out = formatTable(
      ['NAME', 'ORG URL', 'EXPIRES'],
      [
        ['prod', 'https://acme.okta.com', 'in 23d'],
        ['acme-preview', 'https://acme.oktapreview.com', 'likely expired'],
      ],
    );
    expect(out).toBe(
      [
        'NAME          ORG URL                       EXPIRES',
        'prod          https://acme.okta.com         in 23d',
        'acme-preview  https://acme.oktapreview.com  likely expired',
        '',
      ].join('\n'),
    );
  });

  it('a header wider than every cell sets the width', () => {
    expect(formatTable(['LAST TEST', 'X'], [['ok', '1']])).toBe('LAST TEST  X\nok         1\n');
  });

  it('ignores colour codes when measuring, and keeps them in the output', () => {
    const out = formatTable(
      ['STATUS', 'NAME'],
      [
        [green('ok'), 'prod'],
        [boldRed('failed'), 'dev'],
        ['\u001b[1mbold\u001b[0m', 'x'],
      ],
    );
    expect(out).toBe(
      [
        'STATUS  NAME',
        `${green('ok')}      prod`,
        `${boldRed('failed')}  dev`,
        '\u001b[1mbold\u001b[0m    x',
        '',
      ].join('\n'),
    );
  });

  it('has no trailing spaces, even when the last cells are empty or short', () => {
    const out = formatTable(
      ['NAME', 'OWNER', 'SOURCE'],
      [
        ['prod', '', ''],
        ['dev', 'ada@acme.com', 'env   '],
        ['x', 'bob', ''],
      ],
    );
    for (const line of out.split('\n')) expect(line).not.toMatch(/\s$/);
    expect(out).toBe(['NAME  OWNER         SOURCE', 'prod', 'dev   ada@acme.com  env', 'x     bob', ''].join('\n'));
  });

  it('with no rows prints the header alone, ending in one newline', () => {
    expect(formatTable(['NAME', 'ORG URL'], [])).toBe('NAME  ORG URL\n');
  });

  it('treats a missing cell as empty when measuring', () => {
    expect(formatTable(['A', 'B', 'C'], [['long value'], ['x', 'y', 'z']])).toBe('A           B  C\nlong value\nx           y  z\n');
  });

  it('counts a symbol such as ✓ as one column', () => {
    expect(formatTable(['OK', 'NAME'], [['✓', 'prod'], ['✗', 'dev']])).toBe('OK  NAME\n✓   prod\n✗   dev\n');
  });

  it('measures with the visible-length function it is given (e.g. for wide characters)', () => {
    const wide = (text: string): number => Array.from(text).reduce((sum, char) => sum + (/\p{Script=Han}/u.test(char) ? 2 : 1), 0);
    expect(formatTable(['NAME', 'X'], [['漢字', 'a'], ['ab', 'b']], wide)).toBe('NAME  X\n漢字  a\nab    b\n');
  });
});
