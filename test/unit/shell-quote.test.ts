import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { doctorRun } from '../../src/commands/doctor.js';
import { shellCommand, shellQuote } from '../../src/domain/shell.js';
import { fakeContext, makeRecord, makeToken } from '../fakes/context.js';

// An empty folder for the shell to run in: a quoting bug that runs `touch pwned` leaves its mark here, nowhere else.
const scratch = mkdtempSync(join(tmpdir(), 'okta-connect-quote-'));
afterAll(() => {
  expect(readdirSync(scratch)).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
});

/** The words a POSIX shell makes of `line` (sh, not our code), each printed NUL-terminated. */
function wordsOf(line: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8', cwd: scratch, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  return out.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it.each([
    ['prod', 'prod'],
    ['https://acme.okta.com:8443', 'https://acme.okta.com:8443'],
    ['/home/ada/.config/okta-connect', '/home/ada/.config/okta-connect'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(touch pwned)', "'$(touch pwned)'"],
    ['`id`', "'`id`'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['a;b', "'a;b'"],
    ['-n', '-n'],
  ])('%j is %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it('the shell reads back every word exactly, whatever it holds (no NUL: argv cannot hold one)', () => {
    const word = fc.string({ unit: fc.oneof(fc.constantFrom(...Array.from("'\"`$\\ \t\n*?[]{}~!#&;|<>()=%@:,.-/")), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 24 })
      .filter((text) => !text.includes('\u0000'));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
        expect(wordsOf(shellCommand(words))).toEqual(words);
      }),
      { numRuns: 150 },
    );
  });
});

describe('doctor: every fix command is quoted', () => {
  it('a folder, a file and a keychain entry with shell syntax in their names: each fix reads back as the words meant', async () => {
    const dir = "/tmp/it's $(touch pwned) dir";
    const path = `${dir}/connections.json`;
    const orphan = '$(touch pwned);`id` *';
    const ctx = fakeContext({ connections: [makeRecord('prod', 'https://acme.okta.com')], secrets: { [orphan]: makeToken() } });
    const connections = { ...ctx.connections, dir, path, modes: () => Promise.resolve({ dir: 0o755, file: 0o644 }) };
    await doctorRun({ ...ctx, connections }, { json: false, test: false, timeout: 15_000, secretTimeout: 30_000 }).catch(() => undefined);
    const fixes = ctx.out
      .plain()
      .split('\n')
      .filter((line) => line.startsWith('    fix: '))
      .flatMap((line) => line.slice('    fix: '.length).replace(/\)$/, '').split('   (or: '));
    expect(fixes.map(wordsOf)).toEqual([
      ['chmod', '700', dir],
      ['chmod', '600', path],
      ['okta-connect', 'add', '--name', 'prod', '--org-url', 'https://acme.okta.com', '--force'],
      ['okta-connect', 'remove', '--name', 'prod', '--yes'],
      ['okta-connect', 'remove', '--name', orphan, '--yes'],
    ]);
  });
});
