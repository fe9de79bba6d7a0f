import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { UsageError } from '../../src/domain/errors.js';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS, keychainTimeoutMs, optionFields, parseOptions } from '../../src/domain/options.js';

const schema = z.object({ timeout: optionFields.timeout });
const timeoutOf = (raw: string | undefined): number => parseOptions(schema, raw === undefined ? {} : { timeout: raw }).timeout;

describe('--timeout: seconds from 0.1 to 600, in milliseconds inside', () => {
  it.each([
    [undefined, 15_000],
    ['15', 15_000],
    ['0.1', 100],
    ['.5', 500],
    ['2.', 2_000],
    ['1.25', 1_250],
    [' 30 ', 30_000],
    ['600', 600_000],
    ['600.0', 600_000],
  ])('%j is %d ms', (raw, ms) => {
    expect(timeoutOf(raw)).toBe(ms);
  });

  // Each of these was accepted before, and several became an instant (0 ms) or overflowing timer.
  it.each([
    '1e-9', // 0 ms after rounding
    '0.0004', // 0 ms after rounding
    '0.09',
    '0',
    '0.0',
    '-1',
    '+5',
    '1e2',
    '0x10',
    '0b1',
    'Infinity',
    'NaN',
    '',
    ' ',
    'abc',
    '15s',
    '1,5',
    '600.001',
    '601',
    '2147483648',
    '1e400',
    '\u001b[2J5',
  ])('%j is refused, naming --timeout', (raw) => {
    expect(() => timeoutOf(raw)).toThrow(UsageError);
    expect(() => timeoutOf(raw)).toThrow(/^invalid --timeout: ".*" is not a number of seconds from 0\.1 to 600$/s);
  });
});

describe('OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: whole milliseconds from 100 to 600000', () => {
  const of = (raw: string | undefined): number => keychainTimeoutMs({ OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: raw });

  it.each([
    [undefined, DEFAULT_KEYCHAIN_TIMEOUT_MS],
    ['', DEFAULT_KEYCHAIN_TIMEOUT_MS],
    ['100', 100],
    ['60000', 60_000],
    [' 5000 ', 5_000],
    ['600000', 600_000],
  ])('%j is %d ms', (raw, ms) => {
    expect(of(raw)).toBe(ms);
  });

  it.each([
    '2147483648', // past Node's 32-bit timer: it fires after 1 ms
    '2147483647',
    '600001',
    '99',
    '0',
    '-1',
    '1e4',
    '0x2710',
    '100.5',
    'Infinity',
    'NaN',
    'abc',
    '10s',
    ' ',
  ])('%j is refused, naming the variable', (raw) => {
    expect(() => of(raw)).toThrow(UsageError);
    expect(() => of(raw)).toThrow(/^invalid OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS: ".*" is not a whole number of milliseconds from 100 to 600000$/);
    try {
      of(raw);
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/unset it/);
      expect((error as UsageError).exitCode).toBe(2);
    }
  });
});
