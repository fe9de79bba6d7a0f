import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import { addArgs, BASE_ENV, describeRun, disposeSandbox, envKey, escapeRegExp, forgetSecrets, linesStarting, makeSandbox, requireKeyring, stackFrames, uniqueName, useFakeOkta, type RunOptions, type RunResult, type Sandbox, type SandboxOptions } from './harness.js';

/**
 * The bad-input corpus: every command, table-driven. Each case runs in its own copy of a sandbox seeded (by a real `add`)
 * with one connection, and must fail the documented way (exit code, one `error:` and one `hint:` line, no stack, no
 * secret echoed, no raw control character) while leaving connections.json and the keychain byte-for-byte as they were.
 */

/** The machine is shared and loaded: one spawn may take seconds. A case that waits on stdin still fails at this bound. */
const RUN_BOUND_MS = 45_000;
const CASE_TIMEOUT_MS = 150_000;
/** Most CLI processes this file runs at once. */
const MAX_PROCESSES = 4;

beforeAll(requireKeyring);
const fake = useFakeOkta();

// ---- Running the CLI -------------------------------------------------------------------------------------------------

/** A counting semaphore: a released slot is handed straight to the next waiter, so the bound always holds. */
function limiter(max: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}
const slot = limiter(MAX_PROCESSES);

/** The corpus's sandboxes: a generous keychain timeout, and runs killed at RUN_BOUND_MS. */
const CORPUS_SANDBOX: SandboxOptions = { env: BASE_ENV, timeoutMs: RUN_BOUND_MS };

/** A run of the CLI in a slot of the limiter. */
function runCli(sandbox: Sandbox, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return slot(() => sandbox.run(args, options));
}

// ---- What the real Secret Service holds (secret-tool, not our code) --------------------------------------------------

function secretTool(args: string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile('secret-tool', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      resolve({ ok: error === null, stdout });
    });
  });
}

async function lookup(name: string): Promise<string | null> {
  const result = await secretTool(['lookup', 'service', 'okta-connect', 'username', name]);
  return result.ok ? result.stdout : null;
}

/**
 * `secret-tool search --all service okta-connect`, cut into its items (path, label, secret, created, modified), keeping
 * the items of `names` only: the other cases and groups of this file share its keyring. The label @napi-rs/keyring
 * writes names the account. secret-tool fails as a whole when another process deletes an item during the search (tried
 * again, then fatal), and prints the `schema` line of a just-created item only some of the time (left out of the
 * comparison).
 */
async function searchItems(names: string[]): Promise<string[]> {
  const labels = new Set(names.map((name) => `label = keyring:${name}@okta-connect`));
  const kept = ['[', 'label = ', 'secret = ', 'created = ', 'modified = '];
  for (let attempt = 1; ; attempt += 1) {
    const result = await secretTool(['search', '--all', 'service', 'okta-connect']);
    if (result.ok || attempt === 10) {
      expect(result.ok, 'secret-tool search --all service okta-connect kept failing').toBe(true);
      return result.stdout
        .split(/^(?=\[)/m)
        .map((item) => item.split('\n').filter((line) => kept.some((prefix) => line.startsWith(prefix))))
        .filter((lines) => lines.some((line) => labels.has(line)))
        .map((lines) => lines.join('\n'))
        .sort();
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

// ---- State snapshots -------------------------------------------------------------------------------------------------

interface Snapshot {
  /** Every file in the config folder (connections.json, and any lock or temp file left behind): mode and bytes. */
  configDir: Record<string, string> | 'absent';
  lookups: Record<string, string | null>;
  search: string[];
}

async function snapshot(sandbox: Sandbox, names: string[]): Promise<Snapshot> {
  let configDir: Snapshot['configDir'] = 'absent';
  if (existsSync(sandbox.configDir)) {
    configDir = { '.': `mode ${(statSync(sandbox.configDir).mode & 0o777).toString(8)}` };
    for (const file of readdirSync(sandbox.configDir).sort()) {
      const path = join(sandbox.configDir, file);
      configDir[file] = `mode ${(statSync(path).mode & 0o777).toString(8)} ${readFileSync(path).toString('base64')}`;
    }
  }
  const lookups: Record<string, string | null> = {};
  for (const name of names) lookups[name] = await lookup(name);
  return { configDir, lookups, search: await searchItems(names) };
}

// ---- The corpus ------------------------------------------------------------------------------------------------------

/** One group's seeded connection (saved by `add`), and what one case adds to it. */
interface World {
  url: string;
  seed: string;
  seedToken: string;
  /** A valid name that is saved nowhere. */
  fresh: string;
  /** A valid token, saved nowhere, for the add cases' stdin. */
  token: string;
  /** A token-shaped value typed where it does not belong (argv). */
  typed: string;
}

interface Case {
  what: string;
  args: (w: World) => string[];
  /** stdin's whole content; closed at once (empty) when neither this nor keepStdinOpen is given. */
  stdin?: (w: World) => string;
  keepStdinOpen?: boolean;
  env?: (w: World) => Record<string, string>;
  /** Change the sandbox after seeding (e.g. corrupt connections.json); the snapshot is taken after this. */
  prepare?: (sandbox: Sandbox) => void;
  code: number;
  /** What the error line must say (or, for an exit-0 case, stdout). */
  says?: (w: World) => RegExp;
  /** Values besides the seed's and the case's tokens that must not be echoed. */
  secrets?: (w: World) => string[];
  /** Names besides the seed and `fresh` whose keychain entries must not change. */
  names?: (w: World) => string[];
}

const url = (w: World): string => w.url;
/** A second connection, from the environment only: with two, a command without a name has none to default to. */
const secondConnection = (w: World): Record<string, string> => ({ OKTA_CONNECT_OTHER_TOKEN: w.token, OKTA_CONNECT_OTHER_ORG_URL: w.url });
/** An untested `add` into the case's org. */
const addNoTest = (name: string, w: World, ...extra: string[]): string[] => addArgs(name, url(w), '--no-test', ...extra);
/** `n` url-safe characters, made at run time. */
const chars = (n: number): string => randomBytes(n).toString('base64url').slice(0, n);
const corrupt = (sandbox: Sandbox): void => {
  writeFileSync(join(sandbox.configDir, 'connections.json'), '{"version": 1, "connections": [', { mode: 0o600 });
};
const newer = (sandbox: Sandbox): void => {
  writeFileSync(join(sandbox.configDir, 'connections.json'), '{"version": 3, "connections": []}\n', { mode: 0o600 });
};
const NAME_RULE = /invalid name: /;
const BAD_URL = /invalid API address: /;
const BAD_TOKEN = /invalid token: /;
const BAD_TIMEOUT = /invalid --timeout/;
const NO_TOKEN_FLAG = /there is no --token flag/;

const addNameCases: Case[] = [
  { what: 'a leading dash (--name=-prod)', args: (w) => ['add', '--name=-prod', '--org-url', url(w), '--token-stdin', '--no-test'], stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: 'a leading dash as a separate argument', args: (w) => addNoTest('-prod', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: 'a leading underscore', args: (w) => addNoTest('_prod', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: '65 characters', args: (w) => addNoTest('a'.repeat(65), w), stdin: (w) => w.token, code: 2, says: () => /at most 64/ },
  { what: 'a space inside', args: (w) => addNoTest('my prod', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: 'a slash', args: (w) => addNoTest('acme/prod', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: '".."', args: (w) => addNoTest('..', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: 'Unicode letters', args: (w) => addNoTest('prød', w), stdin: (w) => w.token, code: 2, says: () => NAME_RULE },
  { what: 'empty', args: (w) => addNoTest('', w), stdin: (w) => w.token, code: 2, says: () => /a name is required/ },
  { what: 'a 100 KB name', args: (w) => addNoTest('a'.repeat(100 * 1024), w), stdin: (w) => w.token, code: 2, says: () => /at most 64/ },
  {
    what: "the seed's name in upper case (lower-cased: it exists) without --force",
    args: (w) => addNoTest(w.seed.toUpperCase(), w),
    stdin: (w) => w.token,
    code: 2,
    says: (w) => new RegExp(`"${escapeRegExp(w.seed)}" exists already`),
  },
  {
    what: 'an existing name without --force: the hint says names cannot be renamed',
    args: (w) => addNoTest(w.seed, w),
    stdin: (w) => w.token,
    code: 2,
    says: (w) => new RegExp(`"${escapeRegExp(w.seed)}" exists already`),
  },
];

const hugeLabel = (): string => `https://${'a'.repeat(100 * 1024)}.okta.com`;
/** 100 KB of labels that are each valid: only the host's length (DNS allows 253) is wrong. */
const hugeHost = (): string => `https://${`${'a'.repeat(60)}.`.repeat(1700)}okta.com`;

const addUrlCases: Case[] = [
  { what: 'http:', args: (w) => addArgs(w.fresh, 'http://acme.okta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /http:\/\/ is not allowed/ },
  { what: 'ftp:', args: (w) => addArgs(w.fresh, 'ftp://acme.okta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /scheme ftp: is not allowed/ },
  { what: 'javascript:', args: (w) => addArgs(w.fresh, 'javascript:alert(1)', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /scheme javascript: is not allowed/ },
  { what: '{yourOktaDomain}', args: (w) => addArgs(w.fresh, 'https://{yourOktaDomain}', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /\{yourOktaDomain\}/ },
  { what: 'a host ending .com.com', args: (w) => addArgs(w.fresh, 'https://acme.okta.com.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /\.com\.com/ },
  {
    what: 'user:pass@ after https:// (the password is not echoed)',
    args: (w) => addArgs(w.fresh, 'https://admin:hunter2-pw@acme.okta.com', '--no-test'),
    stdin: (w) => w.token,
    code: 2,
    says: () => /user name or password/,
    secrets: () => ['hunter2-pw'],
  },
  {
    what: 'user:pass@ without a scheme (the password is not echoed)',
    args: (w) => addArgs(w.fresh, 'admin:hunter2-pw@acme.okta.com', '--no-test'),
    stdin: (w) => w.token,
    code: 2,
    says: () => /user name or password/,
    secrets: () => ['hunter2-pw'],
  },
  { what: 'empty', args: (w) => addArgs(w.fresh, '', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /the API address is empty/ },
  { what: 'only spaces', args: (w) => addArgs(w.fresh, '   ', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /the API address is empty/ },
  { what: 'a space inside', args: (w) => addArgs(w.fresh, 'acme .okta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /spaces or control characters/ },
  { what: 'a BEL control character', args: (w) => addArgs(w.fresh, 'https://acme\u0007.okta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /spaces or control characters/ },
  { what: 'an ESC sequence in the path', args: (w) => addArgs(w.fresh, 'https://acme.okta.com/\u001b[2J', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /spaces or control characters/ },
  { what: 'a Cyrillic а in the subdomain of okta.com', args: (w) => addArgs(w.fresh, 'https://\u0430cme.okta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /look-alike/ },
  { what: 'a Cyrillic о in "okta"', args: (w) => addArgs(w.fresh, 'https://acme.\u043ekta.com', '--no-test'), stdin: (w) => w.token, code: 2, says: () => /look-alike/ },
  { what: 'a 100 KB label', args: (w) => addArgs(w.fresh, hugeLabel(), '--no-test'), stdin: (w) => w.token, code: 2, says: () => BAD_URL },
  { what: 'a 100 KB host of valid labels (DNS names have at most 253 characters)', args: (w) => addArgs(w.fresh, hugeHost(), '--no-test'), stdin: (w) => w.token, code: 2, says: () => BAD_URL },
  { what: 'https:// and no host', args: (w) => addArgs(w.fresh, 'https://', '--no-test'), stdin: (w) => w.token, code: 2, says: () => BAD_URL },
  { what: 'a port out of range', args: (w) => addArgs(w.fresh, 'https://acme.okta.com:99999', '--no-test'), stdin: (w) => w.token, code: 2, says: () => BAD_URL },
];

/** The case's valid token with something spliced in at position 21. */
const spliced = (w: World, inner: string): string => `${w.token.slice(0, 21)}${inner}${w.token.slice(21)}`;
/** An add of a fresh name whose token on stdin is refused; the value is never echoed (unless it is a placeholder). */
const addToken = (stdin: (w: World) => string, says: RegExp, what: string, isSecret = true): Case => ({
  what,
  args: (w) => addNoTest(w.fresh, w),
  stdin,
  code: 2,
  says: () => says,
  secrets: (w) => (isSecret ? [stdin(w)] : []),
});

const addTokenCases: Case[] = [
  addToken(() => '', /stdin was empty/, 'empty stdin'),
  addToken(() => '  \n\t \r\n', /stdin was empty/, 'only whitespace'),
  addToken((w) => spliced(w, ' '), /spaces or control characters/, 'a space inside'),
  addToken((w) => spliced(w, '\u0007'), /spaces or control characters/, 'a BEL (\\u0007) inside'),
  addToken((w) => spliced(w, '\u001b[31m'), /spaces or control characters/, 'an ESC sequence (\\u001b) inside'),
  addToken((w) => spliced(w, '\u0000'), /spaces or control characters/, 'a NUL inside'),
  addToken(() => '{apiToken}', /\{apiToken\}/, '{apiToken}', false),
  addToken(() => chars(19), /too short \(19 characters/, '19 characters'),
  addToken(() => `00${chars(199)}`, /too long \(201 characters/, '201 characters'),
  addToken(() => `00T${chars(17)}`, /token id/, 'a 20-character 00T… token id'),
  addToken((w) => spliced(w, 'é').slice(0, 42), /characters an Okta API token never has/, 'a non-ASCII letter'),
  addToken(() => `00${chars(1024 * 1024)}`, /stdin held more than 64 KiB/, 'a 1 MB value (over the 64 KiB stdin limit)'),
  // A pasted `SSWS <token>` is taken (with a notice); a header with more after the token is still refused.
  addToken((w) => `SSWS ${w.token} extra`, /spaces or control characters/, 'an Authorization header with more after the token'),
  addToken((w) => `${w.token}\n${generateToken()}\n`, /spaces or control characters/, 'two tokens on two lines'),
  addToken((w) => `"${w.token}"`, /characters an Okta API token never has/, 'the token in quotes'),
  {
    what: 'a bad token with --force over the existing connection leaves it as it was',
    args: (w) => addNoTest(w.seed, w, '--force'),
    stdin: (w) => spliced(w, ' '),
    code: 2,
    says: () => BAD_TOKEN,
  },
];

const addFlagCases: Case[] = [
  {
    what: '--token <value>',
    args: (w) => ['add', '--name', w.fresh, '--org-url', url(w), '--token', w.typed],
    code: 2,
    says: () => NO_TOKEN_FLAG,
    secrets: (w) => [w.typed],
  },
  {
    what: '--token=<value>',
    args: (w) => ['add', '--name', w.fresh, '--org-url', url(w), `--token=${w.typed}`],
    code: 2,
    says: () => NO_TOKEN_FLAG,
    secrets: (w) => [w.typed],
  },
  { what: '--token <value> before the command', args: (w) => ['--token', w.typed, 'add', '--name', w.fresh], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
  { what: '--token-stdin=<value>', args: (w) => ['add', '--name', w.fresh, '--org-url', url(w), `--token-stdin=${w.typed}`], code: 2, says: () => /unknown option/, secrets: (w) => [w.typed] },
  { what: 'a mistyped --tokn=<value>', args: (w) => ['add', '--name', w.fresh, `--tokn=${w.typed}`], code: 2, says: () => /unknown option/, secrets: (w) => [w.typed] },
  { what: 'the token as a stray argument', args: (w) => ['add', '--name', w.fresh, '--org-url', url(w), w.typed], code: 2, says: () => /an argument looks like an API token/, secrets: (w) => [w.typed] },
  { what: 'an unknown flag', args: (w) => [...addNoTest(w.fresh, w), '--verbose'], stdin: (w) => w.token, code: 2, says: () => /unknown option '--verbose'/ },
  { what: '--name without a value', args: () => ['add', '--name'], code: 2, says: () => /--name <name>' argument missing/ },
  { what: '--timeout 0', args: (w) => addNoTest(w.fresh, w, '--timeout', '0'), stdin: (w) => w.token, code: 2, says: () => BAD_TIMEOUT },
  { what: '--timeout abc', args: (w) => addNoTest(w.fresh, w, '--timeout', 'abc'), stdin: (w) => w.token, code: 2, says: () => BAD_TIMEOUT },
  { what: '--timeout -1', args: (w) => addNoTest(w.fresh, w, '--timeout', '-1'), stdin: (w) => w.token, code: 2, says: () => BAD_TIMEOUT },
  {
    what: 'no --token-stdin and no terminal: names the flag, does not wait on an open stdin',
    args: (w) => ['add', '--name', w.fresh, '--org-url', url(w), '--no-test'],
    keepStdinOpen: true,
    code: 2,
    says: () => /missing --token-stdin/,
  },
  {
    what: 'nothing given and no terminal: names every missing flag, does not wait on an open stdin',
    args: () => ['add'],
    keepStdinOpen: true,
    code: 2,
    says: () => /missing --org-url <url>, --token-stdin .*, --name <name>/,
  },
  {
    what: 'an existing name with --token-stdin: refused before stdin is read (stdin open)',
    args: (w) => addNoTest(w.seed, w),
    keepStdinOpen: true,
    code: 2,
    says: () => /exists already/,
  },
  { what: 'an invalid name with --token-stdin: refused before stdin is read (stdin open)', args: (w) => addNoTest('bad name', w), keepStdinOpen: true, code: 2, says: () => NAME_RULE },
  {
    what: 'an http: address with --token-stdin: refused before stdin is read (stdin open)',
    args: (w) => addArgs(w.fresh, 'http://acme.okta.com'),
    keepStdinOpen: true,
    code: 2,
    says: () => /http:\/\//,
  },
  { what: '--timeout 0 with --token-stdin: refused before stdin is read (stdin open)', args: (w) => addNoTest(w.fresh, w, '--timeout', '0'), keepStdinOpen: true, code: 2, says: () => BAD_TIMEOUT },
  { what: 'into a corrupt connections.json (left untouched, no token saved)', args: (w) => addNoTest(w.fresh, w), stdin: (w) => w.token, prepare: corrupt, code: 2, says: () => /is corrupt/ },
  { what: 'into a connections.json of a newer version', args: (w) => addNoTest(w.fresh, w), stdin: (w) => w.token, prepare: newer, code: 2, says: () => /newer okta-connect/ },
];

const testCases: Case[] = [
  { what: 'neither a name nor --all, two connections, no terminal', args: () => ['test'], env: secondConnection, keepStdinOpen: true, code: 2, says: () => /missing --name \(or --all\)/ },
  { what: '--name and --all together', args: (w) => ['test', '--name', w.seed, '--all'], code: 2, says: () => /--name and --all cannot be used together/ },
  { what: 'an unknown name (stdin open)', args: (w) => ['test', '--name', w.fresh], keepStdinOpen: true, code: 3, says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`) },
  {
    what: 'an unknown name in upper case is looked up lower-cased',
    args: (w) => ['test', '--name', w.fresh.toUpperCase()],
    code: 3,
    says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`),
  },
  { what: 'an invalid name', args: () => ['test', '--name', 'Bad Name!'], code: 2, says: () => NAME_RULE },
  { what: '".."', args: () => ['test', '--name', '..'], code: 2, says: () => NAME_RULE },
  { what: '--timeout 0', args: (w) => ['test', '--name', w.seed, '--timeout', '0'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--timeout abc', args: (w) => ['test', '--name', w.seed, '--timeout', 'abc'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--timeout -1', args: (w) => ['test', '--name', w.seed, '--timeout', '-1'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--timeout 601', args: () => ['test', '--all', '--timeout', '601'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--token <value>', args: (w) => ['test', '--name', w.seed, '--token', w.typed], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
  { what: '--name without a value', args: () => ['test', '--name'], code: 2, says: () => /argument missing/ },
  { what: 'an unknown flag', args: (w) => ['test', '--name', w.seed, '--retries', '3'], code: 2, says: () => /unknown option '--retries'/ },
  {
    what: 'OKTA_CONNECT_<NAME>_TOKEN set to {apiToken}',
    args: (w) => ['test', '--name', w.seed],
    env: (w) => ({ [`OKTA_CONNECT_${envKey(w.seed)}_TOKEN`]: '{apiToken}' }),
    code: 2,
    says: () => /_TOKEN: invalid token: replace \{apiToken\}/,
  },
  {
    what: 'OKTA_CONNECT_<NAME>_ORG_URL set to an http: address',
    args: (w) => ['test', '--name', w.seed],
    env: (w) => ({ [`OKTA_CONNECT_${envKey(w.seed)}_ORG_URL`]: 'http://acme.okta.com' }),
    code: 2,
    says: () => /_ORG_URL: invalid API address: http:\/\//,
  },
  { what: '--all with a corrupt connections.json', args: () => ['test', '--all'], prepare: corrupt, code: 2, says: () => /is corrupt/ },
];

const listCases: Case[] = [
  { what: 'an unknown flag', args: () => ['list', '--all'], code: 2, says: () => /unknown option '--all'/ },
  { what: 'an extra argument', args: () => ['list', 'prod'], code: 2, says: () => /too many arguments for 'list'/ },
  { what: '--token <value>', args: (w) => ['list', '--token', w.typed], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
  { what: '--json=<value>', args: () => ['list', '--json=yes'], code: 2, says: () => /unknown option '--json=…'/ },
  { what: 'with stdin open: answers without reading it', args: () => ['list'], keepStdinOpen: true, code: 0, says: (w) => new RegExp(`^${escapeRegExp(w.seed)} `, 'm') },
  { what: '--json with stdin open: answers without reading it', args: () => ['list', '--json'], keepStdinOpen: true, code: 0, says: (w) => new RegExp(`"name": "${escapeRegExp(w.seed)}"`) },
  { what: 'a corrupt connections.json', args: () => ['list'], prepare: corrupt, code: 2, says: () => /is corrupt: it is not valid JSON/ },
];

const removeCases: Case[] = [
  { what: 'without --yes and without a terminal (stdin open)', args: (w) => ['remove', '--name', w.seed], keepStdinOpen: true, code: 2, says: () => /--yes is required/ },
  {
    what: "the seed's name in upper case without --yes: found (lower-cased), still refused",
    args: (w) => ['remove', '--name', w.seed.toUpperCase()],
    code: 2,
    says: () => /--yes is required/,
  },
  { what: 'without --name', args: () => ['remove', '--yes'], code: 2, says: () => /missing --name/ },
  { what: '--name without a value', args: () => ['remove', '--name'], code: 2, says: () => /argument missing/ },
  { what: 'an unknown name', args: (w) => ['remove', '--name', w.fresh, '--yes'], code: 3, says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`) },
  { what: 'an invalid name', args: () => ['remove', '--name', 'acme/prod', '--yes'], code: 2, says: () => NAME_RULE },
  { what: '--timeout 0 with --yes removes nothing', args: (w) => ['remove', '--name', w.seed, '--yes', '--timeout', '0'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--revoke --timeout abc removes nothing', args: (w) => ['remove', '--name', w.seed, '--yes', '--revoke', '--timeout', 'abc'], code: 2, says: () => BAD_TIMEOUT },
  { what: '--yes with a corrupt connections.json removes no token', args: (w) => ['remove', '--name', w.seed, '--yes'], prepare: corrupt, code: 2, says: () => /is corrupt/ },
  { what: '--token <value>', args: (w) => ['remove', '--name', w.seed, '--yes', '--token', w.typed], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
];

const execCases: Case[] = [
  { what: 'no command', args: (w) => ['exec', '--name', w.seed], code: 2, says: () => /missing the command to run/ },
  { what: 'a command without --', args: (w) => ['exec', w.seed, 'true'], code: 2, says: () => /put -- before the command/ },
  { what: 'a command with options, without --', args: (w) => ['exec', '--name', w.seed, 'ls', '-la'], code: 2, says: () => /put -- before the command/ },
  { what: 'an empty command', args: (w) => ['exec', '--name', w.seed, '--', ''], code: 2, says: () => /missing the command to run/ },
  { what: 'no name, two connections', args: () => ['exec', '--', 'true'], env: secondConnection, code: 2, says: () => /missing --name/ },
  { what: '--name without a value', args: () => ['exec', '--name'], code: 2, says: () => /argument missing/ },
  { what: 'an unknown name (stdin open)', args: (w) => ['exec', '--name', w.fresh, '--', 'true'], keepStdinOpen: true, code: 3, says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`) },
  { what: 'an invalid name', args: () => ['exec', '--name', '..', '--', 'true'], code: 2, says: () => NAME_RULE },
  { what: '--token <value>', args: (w) => ['exec', '--name', w.seed, '--token', w.typed, '--', 'true'], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
  {
    what: 'an invalid OKTA_CONNECT_<NAME>_TOKEN: the command is not run',
    args: (w) => ['exec', '--name', w.seed, '--', 'true'],
    env: (w) => ({ [`OKTA_CONNECT_${envKey(w.seed)}_TOKEN`]: 'too-short' }),
    code: 2,
    says: () => /_TOKEN: invalid token: the token is too short/,
  },
];

const tokenCases: Case[] = [
  { what: 'no name, two connections', args: () => ['token'], env: secondConnection, code: 2, says: () => /missing --name/ },
  { what: 'an unknown name (stdin open)', args: (w) => ['token', '--name', w.fresh], keepStdinOpen: true, code: 3, says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`) },
  { what: 'an unknown name in upper case', args: (w) => ['token', '--name', w.fresh.toUpperCase()], code: 3, says: (w) => new RegExp(`no connection named "${escapeRegExp(w.fresh)}"`) },
  { what: 'an invalid name', args: () => ['token', '--name', 'my prod'], code: 2, says: () => NAME_RULE },
  { what: 'a second, different name: the token is not printed', args: (w) => ['token', '--name', w.seed, 'extra'], code: 2, says: () => /two different names given/ },
  { what: 'an invalid OKTA_CONNECT_NAME', args: () => ['token'], env: () => ({ OKTA_CONNECT_NAME: 'no way!' }), code: 2, says: () => /OKTA_CONNECT_NAME: invalid name/ },
  {
    what: 'an http: OKTA_CONNECT_<NAME>_ORG_URL: the token is not printed',
    args: (w) => ['token', '--name', w.seed],
    env: (w) => ({ [`OKTA_CONNECT_${envKey(w.seed)}_ORG_URL`]: 'http://acme.okta.com' }),
    code: 2,
    says: () => /_ORG_URL: invalid API address/,
  },
  { what: '--token <value>', args: (w) => ['token', '--name', w.seed, '--token', w.typed], code: 2, says: () => NO_TOKEN_FLAG, secrets: (w) => [w.typed] },
];

const doctorCases: Case[] = [
  { what: 'an unknown flag', args: () => ['doctor', '--fix'], code: 2, says: () => /unknown option '--fix'/ },
  { what: 'an extra argument', args: () => ['doctor', 'keychain'], code: 2, says: () => /too many arguments for 'doctor'/ },
  { what: '--json=<value>', args: () => ['doctor', '--json=1'], code: 2, says: () => /unknown option '--json=…'/ },
  { what: '--name (doctor checks everything)', args: (w) => ['doctor', '--name', w.seed], code: 2, says: () => /unknown option '--name'/ },
];

const completionCases: Case[] = [
  { what: 'an unknown shell', args: () => ['completion', 'tcsh'], code: 2, says: () => /unknown shell "tcsh"/ },
  { what: 'no shell', args: () => ['completion'], code: 2, says: () => /missing required argument 'shell'/ },
  { what: 'an empty shell', args: () => ['completion', ''], code: 2, says: () => /unknown shell ""/ },
  { what: 'a shell in upper case', args: () => ['completion', 'BASH'], code: 2, says: () => /unknown shell "BASH"/ },
  { what: 'two shells', args: () => ['completion', 'bash', 'zsh'], code: 2, says: () => /too many arguments for 'completion'/ },
  { what: 'bash with stdin open: answers without reading it', args: () => ['completion', 'bash'], keepStdinOpen: true, code: 0, says: () => /complete -F _okta_connect okta-connect/ },
];

const globalCases: Case[] = [
  { what: 'an unknown command', args: () => ['login'], code: 2, says: () => /unknown command 'login'/ },
  { what: 'an unknown global flag', args: () => ['--verbose', 'list'], code: 2, says: () => /unknown option '--verbose'/ },
  // The unknown-option path never echoes what follows "="; a token pasted as the command must not be echoed either.
  { what: 'a token pasted as the command is not echoed', args: (w) => [w.typed], code: 2, says: () => /unknown command/, secrets: (w) => [w.typed] },
];

const groups: { group: string; cases: Case[] }[] = [
  { group: 'add: names', cases: addNameCases },
  { group: 'add: org URLs', cases: addUrlCases },
  { group: 'add: tokens on stdin', cases: addTokenCases },
  { group: 'add: flags and stdin', cases: addFlagCases },
  { group: 'test', cases: testCases },
  { group: 'list', cases: listCases },
  { group: 'remove', cases: removeCases },
  { group: 'exec', cases: execCases },
  { group: 'token', cases: tokenCases },
  { group: 'doctor', cases: doctorCases },
  { group: 'completion', cases: completionCases },
  { group: 'no command', cases: globalCases },
];

// ---- The checks ------------------------------------------------------------------------------------------------------

/** A seeded sandbox: one connection saved by a real `add`, its token checked in the Secret Service. */
interface Seeded {
  sandbox: Sandbox;
  seed: string;
  seedToken: string;
}

async function seedSandbox(): Promise<Seeded> {
  const sandbox = makeSandbox(CORPUS_SANDBOX);
  const seed = uniqueName('corpus');
  const seedToken = fake.addToken();
  const result = await runCli(sandbox, addArgs(seed, fake.url, '--no-test'), { input: seedToken });
  expect(result.code, result.stderr).toBe(0);
  expect(await lookup(seed)).toBe(seedToken);
  return { sandbox, seed, seedToken };
}

/** A new sandbox holding a copy of the seeded config folder (the seed's token is in the file's keyring already). */
function copyOf(seeded: Seeded): Sandbox {
  const sandbox = makeSandbox(CORPUS_SANDBOX);
  cpSync(seeded.sandbox.configDir, sandbox.configDir, { recursive: true });
  chmodSync(sandbox.configDir, 0o700);
  chmodSync(join(sandbox.configDir, 'connections.json'), 0o600);
  return sandbox;
}

/** The names a case's arguments give to --name, as the CLI would look them up (lower-cased, trimmed). */
function namesIn(args: string[]): string[] {
  const names: string[] = [];
  args.forEach((arg, index) => {
    const value = arg === '--name' ? args[index + 1] : arg.startsWith('--name=') ? arg.slice('--name='.length) : undefined;
    if (value !== undefined && value.length <= 200) names.push(value.trim().toLowerCase());
  });
  return names;
}

/** A secret shows up whole, or as a 16-character piece of its middle (a truncated echo). */
function leaks(text: string, secret: string): boolean {
  if (secret.trim().length < 8) return false;
  const middle = secret.length > 32 ? secret.slice(Math.floor(secret.length / 2) - 8, Math.floor(secret.length / 2) + 8) : secret;
  return text.includes(secret) || text.includes(middle);
}

/** describeRun with the case's arguments shown, and long arguments and outputs cut short (the corpus feeds 1 MB values). */
function describeCase(args: string[], result: RunResult): string {
  const shown = args.map((arg) => (arg.length > 80 ? `${arg.slice(0, 40)}…(${String(arg.length)} chars)` : JSON.stringify(arg))).join(' ');
  const clip = (text: string): string => (text.length > 2000 ? `${text.slice(0, 2000)}…` : text);
  return describeRun({ ...result, stdout: clip(result.stdout), stderr: clip(result.stderr) }, `okta-connect ${shown}`);
}

/** Control characters but the newline: what a terminal would act on (BEL, ESC sequences, a carriage return…). */
function hasRawControl(text: string): boolean {
  return Array.from(text).some((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && char !== '\n') || code === 0x7f;
  });
}

async function checkCase(seeded: Seeded, c: Case): Promise<void> {
  const w: World = { url: fake.url, seed: seeded.seed, seedToken: seeded.seedToken, fresh: uniqueName('corpus'), token: generateToken(), typed: generateToken() };
  const sandbox = copyOf(seeded);
  const args = c.args(w);
  const names = [...new Set([w.seed, w.fresh, ...namesIn(args), ...(c.names?.(w) ?? [])])];
  try {
    c.prepare?.(sandbox);
    const before = await snapshot(sandbox, names);
    // The snapshot must see the seed, or comparing it would prove nothing.
    expect(before.lookups[w.seed]).toBe(w.seedToken);
    expect(before.search.filter((item) => item.includes(`secret = ${w.seedToken}`))).toHaveLength(1);

    const stdin = c.stdin?.(w);
    const result = await runCli(sandbox, args, {
      ...(stdin === undefined ? {} : { input: stdin }),
      keepStdinOpen: c.keepStdinOpen === true,
      env: c.env?.(w) ?? {},
    });
    const context = describeCase(args, result);

    expect(result.timedOut, context).toBe(false);
    expect(result.code, context).toBe(c.code);
    expect(stackFrames(result.stderr), context).toEqual([]);
    const errors = linesStarting(result.stderr, 'error: ');
    if (c.code === 0) {
      expect(errors, context).toEqual([]);
      if (c.says) expect(result.stdout, context).toMatch(c.says(w));
    } else {
      expect(errors, context).toHaveLength(1);
      expect(linesStarting(result.stderr, 'hint: '), context).toHaveLength(1);
      expect(result.stdout, context).toBe('');
      if (c.says) expect(errors[0], context).toMatch(c.says(w));
    }
    // Nothing echoed raw to the terminal, nothing huge echoed back, no secret echoed.
    expect(hasRawControl(result.stderr), context).toBe(false);
    expect(result.stderr.length, context).toBeLessThan(4096);
    for (const secret of [w.seedToken, w.token, ...(c.secrets?.(w) ?? [])]) {
      expect(leaks(result.stdout + result.stderr, secret), `${context}\nechoes a secret`).toBe(false);
    }
    // Bad input never reaches the network with a token.
    expect(fake.requests.filter((request) => [w.seedToken, w.token].some((token) => request.authorization?.includes(token) === true))).toEqual([]);

    expect(await snapshot(sandbox, names), context).toEqual(before);
  } finally {
    disposeSandbox(sandbox);
    // A case that wrongly saved something must not leave it in the file's keyring, where the other cases look.
    await forgetSecrets(names.filter((name) => name !== w.seed));
  }
}

describe.each(groups)('bad input: $group', ({ cases }) => {
  let seeded: Seeded;
  beforeAll(async () => {
    seeded = await seedSandbox();
  }, CASE_TIMEOUT_MS);
  afterAll(async () => {
    await forgetSecrets([seeded.seed]);
    disposeSandbox(seeded.sandbox);
  });

  it.concurrent.each(cases)('$what', async (c) => {
    await checkCase(seeded, c);
  }, CASE_TIMEOUT_MS);
});

describe('the corpus', () => {
  it('has at least 60 cases, across every command', () => {
    const all = groups.flatMap((group) => group.cases);
    expect(all.length).toBeGreaterThanOrEqual(60);
    const commands = new Set(groups.map((group) => group.group.split(':')[0]));
    for (const command of ['add', 'test', 'list', 'remove', 'exec', 'token', 'doctor', 'completion']) expect(commands).toContain(command);
  });

  // A comparison that cannot see a change would pass every case above: show that it sees one in each store.
  it('its state comparison sees a change to the metadata and to the keychain', async () => {
    const seeded = await seedSandbox();
    try {
      const names = [seeded.seed];
      const before = await snapshot(seeded.sandbox, names);
      const replaced = fake.addToken();
      const forced = await runCli(seeded.sandbox, addArgs(seeded.seed, fake.url, '--no-test', '--force'), { input: replaced });
      expect(forced.code, forced.stderr).toBe(0);
      const afterForce = await snapshot(seeded.sandbox, names);
      expect(afterForce.lookups).not.toEqual(before.lookups);
      expect(afterForce.search).not.toEqual(before.search);
      const removed = await runCli(seeded.sandbox, ['remove', '--name', seeded.seed, '--yes']);
      expect(removed.code, removed.stderr).toBe(0);
      const afterRemove = await snapshot(seeded.sandbox, names);
      expect(afterRemove.configDir).not.toEqual(afterForce.configDir);
      expect(afterRemove.lookups[seeded.seed]).toBeNull();
      expect(afterRemove.search).toEqual([]);
    } finally {
      await forgetSecrets([seeded.seed]);
      disposeSandbox(seeded.sandbox);
    }
  }, CASE_TIMEOUT_MS);

  // Likewise the open-stdin cases: a command that does read stdin must be caught waiting, not reported as an exit.
  it('its open stdin keeps a command that reads stdin waiting until it is killed', async () => {
    const sandbox = makeSandbox(CORPUS_SANDBOX);
    const name = uniqueName('corpus');
    try {
      const result = await runCli(sandbox, addArgs(name, fake.url, '--no-test'), { keepStdinOpen: true, timeoutMs: 4_000 });
      expect(result.timedOut, result.stderr).toBe(true);
      expect(result.signal).toBe('SIGKILL');
      expect(await lookup(name)).toBeNull();
    } finally {
      await forgetSecrets([name]);
      disposeSandbox(sandbox);
    }
  }, CASE_TIMEOUT_MS);
});
