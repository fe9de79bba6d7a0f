import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUPER_ADMIN, startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import {
  connectionsPath,
  disposeSandbox,
  expectCleanFailure,
  linesStarting,
  makeSandbox,
  requireKeyring,
  uniqueName,
  usePtys,
  waitFor,
  type RunResult,
  type Sandbox,
  describeRun,
} from './harness.js';
import { fishOffers, hasProgram, installFishScript, startFish, startZsh, zshOffers } from './shells.js';

/** What okta-connect prints from values that came from outside: shell completion lists, terminal output. */

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function runBash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// What a `__complete-names` might print (a name from a hand-edited file, an older okta-connect): each line one word.
const HOSTILE = [
  '$(touch pwned-dollar)',
  '`touch pwned-backtick`',
  '$(touch${IFS}pwned-ifs)',
  '*',
  '?',
  '[a-z]*',
  '~',
  '${HOME}',
  '$((6*7))',
  '!!',
  'a b',
  'x;touch pwned-semicolon',
  "it's",
  '\\n',
  'plain-name',
];

describe('bash completion: names are data, never expanded by the shell', () => {
  let sandbox: Sandbox;
  let binDir: string;
  let script: string;

  beforeAll(async () => {
    sandbox = makeSandbox();
    const result = await sandbox.run(['completion', 'bash']);
    expect(result.code, describeRun(result)).toBe(0);
    script = join(sandbox.cwd, 'okta-connect.bash');
    writeFileSync(script, result.stdout);
    // `okta-connect` on PATH for the completion function: it prints the hostile list for __complete-names.
    binDir = mkdtempSync(join(tmpdir(), 'okta-connect-hostile-bin-'));
    const list = join(binDir, 'names.txt');
    writeFileSync(list, `${HOSTILE.join('\n')}\n`);
    writeFileSync(join(binDir, 'okta-connect'), `#!/bin/sh\n[ "$1" = __complete-names ] && exec cat ${shellQuote(list)}\nexit 2\n`, { mode: 0o755 });
    // Files the glob words would match if they were expanded.
    for (const file of ['alpha', 'beta']) writeFileSync(join(sandbox.cwd, file), '');
  });
  afterAll(() => {
    disposeSandbox(sandbox);
    rmSync(binDir, { recursive: true, force: true });
  });

  async function complete(words: string[]): Promise<string[]> {
    const result = await runBash(
      [
        `source ${shellQuote(script)} || exit 90`,
        `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
        `COMP_CWORD=${String(words.length - 1)}`,
        '_okta_connect || exit 91',
        'printf "%s\\0" "${COMPREPLY[@]}"',
      ].join('\n'),
      { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: sandbox.home, LANG: 'C.UTF-8' },
      sandbox.cwd,
    );
    expect(result.code, describeRun(result)).toBe(0);
    return result.stdout.split('\0').filter((word) => word !== '');
  }

  it('every line of __complete-names is offered as itself, and nothing runs or globs', async () => {
    expect(await complete(['okta-connect', 'test', '--name', ''])).toEqual(HOSTILE);
    expect(readdirSync(sandbox.cwd).filter((file) => file.startsWith('pwned'))).toEqual([]);
    expect(existsSync(join(sandbox.cwd, 'pwned-dollar'))).toBe(false);
  });

  it.each([
    ['$', ['$(touch pwned-dollar)', '$(touch${IFS}pwned-ifs)', '${HOME}', '$((6*7))']],
    ['*', ['*']],
    ['[', ['[a-z]*']],
    ['a', ['a b']],
    ['pl', ['plain-name']],
    ['nothing-matches', []],
  ])('the prefix %j matches literally', async (prefix, expected) => {
    expect(await complete(['okta-connect', 'exec', '-n', prefix])).toEqual(expected);
    expect(readdirSync(sandbox.cwd).filter((file) => file.startsWith('pwned'))).toEqual([]);
  });

  it('commands and flags still complete by prefix', async () => {
    expect(await complete(['okta-connect', 't'])).toEqual(['test', 'token']);
    expect(await complete(['okta-connect', 'test', '--j'])).toEqual(['--json']);
    expect(await complete(['okta-connect', 'completion', ''])).toEqual(['bash', 'zsh', 'fish', 'powershell', '--help']);
  });
});

/**
 * zsh and fish, for real: the hostile names from an `okta-connect` on PATH, offered as themselves; then, in a terminal,
 * Tab inserts them quoted and Enter hands each to okta-connect as one argument, byte for byte, with nothing run.
 */
describe.each(['zsh', 'fish'] as const)('%s completion: names are data, never expanded by the shell', (shell) => {
  if (!hasProgram(shell)) {
    it.skip(`${shell} is not installed on this machine`, () => undefined);
    return;
  }
  usePtys();
  let sandbox: Sandbox;
  let binDir: string;
  let argvFile: string;
  let env: Record<string, string>;
  let script: string;

  beforeAll(async () => {
    sandbox = makeSandbox();
    const result = await sandbox.run(['completion', shell]);
    expect(result.code, describeRun(result)).toBe(0);
    script = result.stdout;
    // `okta-connect` on PATH: the hostile list for __complete-names; anything else records its arguments, NUL-ended.
    binDir = mkdtempSync(join(tmpdir(), `okta-connect-hostile-${shell}-`));
    const list = join(binDir, 'names.txt');
    argvFile = join(binDir, 'argv');
    writeFileSync(list, `${HOSTILE.join('\n')}\n`);
    writeFileSync(join(binDir, 'okta-connect'), `#!/bin/sh\n[ "$1" = __complete-names ] && exec cat ${shellQuote(list)}\nprintf '%s\\0' "$@" > ${shellQuote(argvFile)}\n`, { mode: 0o755 });
    for (const file of ['alpha', 'beta']) writeFileSync(join(sandbox.cwd, file), '');
    const configHome = join(sandbox.home, '.config');
    if (shell === 'fish') installFishScript(configHome, script);
    env = { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: sandbox.home, XDG_CONFIG_HOME: configHome, LANG: 'C.UTF-8' };
  });
  afterAll(() => {
    disposeSandbox(sandbox);
    rmSync(binDir, { recursive: true, force: true });
  });

  const offers = (lines: string[]): Promise<string[][]> => (shell === 'zsh' ? zshOffers(script, lines, { env, cwd: sandbox.cwd }) : fishOffers(lines, { env, cwd: sandbox.cwd }));
  const pwned = (): string[] => readdirSync(sandbox.cwd).filter((file) => file.startsWith('pwned'));

  it('every line of __complete-names is offered as itself (as the name, after --name and --name=), and nothing runs or globs', async () => {
    const all = [...HOSTILE].sort();
    expect(await offers(['okta-connect test ', 'okta-connect exec --name ', 'okta-connect rotate --name=', 'okta-connect --quiet rm -n '])).toEqual([
      all,
      all,
      shell === 'fish' ? all.map((name) => `--name=${name}`) : all,
      all,
    ]);
    expect(pwned()).toEqual([]);
  });

  it.each([
    ['\\$', ['$(touch pwned-dollar)', '$(touch${IFS}pwned-ifs)', '${HOME}', '$((6*7))']],
    ['\\*', ['*']],
    ['\\[', ['[a-z]*']],
    ['a', ['a b']],
    ['a\\ ', ['a b']],
    ["it\\'", ["it's"]],
    ['pl', ['plain-name']],
    ['nothing-matches', []],
  ])('the prefix %s (as typed) matches literally', async (prefix, expected) => {
    expect(await offers([`okta-connect exec -n ${prefix}`, `okta-connect token ${prefix}`])).toEqual([[...expected].sort(), [...expected].sort()]);
    expect(pwned()).toEqual([]);
  });

  it('in a terminal, Tab inserts each name quoted and okta-connect gets it as one argument, with nothing run', async () => {
    const pty = shell === 'zsh' ? await startZsh(script, { env, cwd: sandbox.cwd, zdotdir: join(sandbox.home, 'zdot') }) : await startFish({ env, cwd: sandbox.cwd });
    await pty.waitFor(`${shell}> `);
    // Each prefix matches one name only, so Tab completes it; what then shows (in either shell's quoting) is waited for.
    const steps: [string, RegExp, string][] = [
      ['\\$\\(touch\\ p', /pwned-dollar/, '$(touch pwned-dollar)'],
      ['\\`', /pwned-backtick/, '`touch pwned-backtick`'],
      ['a', /a\\ b/, 'a b'],
      ["it\\'", /it\\'s/, "it's"],
      ['x', /pwned-semicolon/, 'x;touch pwned-semicolon'],
      ['\\[', /a-z/, '[a-z]*'],
      ['\\$\\{', /HOME/, '${HOME}'],
      ['\\!', /!\\?!/, '!!'],
    ];
    await pty.type('okta-connect exec ');
    for (const [prefix, shows] of steps) {
      await pty.type(`--name ${prefix}`);
      await pty.press('Tab');
      await pty.waitFor(shows);
      await pty.type(' ');
    }
    await pty.type('-- true');
    await pty.press('Enter');
    await waitFor('okta-connect to record its arguments', () => existsSync(argvFile));
    expect(readFileSync(argvFile, 'utf8').split('\0').slice(0, -1), await pty.screen()).toEqual(['exec', ...steps.flatMap(([, , name]) => ['--name', name]), '--', 'true']);
    expect(pwned()).toEqual([]);
  });
});

// ---- values from Okta, files and the environment reach the terminal without controls ------------------------------

const ESC = '\u001b';
const BEL = '\u0007';
/** What was injected: an OSC title change, a screen clear, an 8-bit CSI, a right-to-left override, a fake line. */
const INJECTED = `${ESC}]0;pwned title${BEL}${ESC}[2J${ESC}[H\u009b31m\u202e\u2066\u200f\u007f\nerror: fake line`;
/** Anything a terminal acts on; line breaks between lines of output are allowed, nothing else. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function unsafeIn(...texts: string[]): string[] {
  return texts.flatMap((text) => text.match(UNSAFE) ?? []).map((char) => `U+${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Nothing unsafe on stdout or stderr, and not more than one error line (a newline cannot forge one). */
function expectSafe(result: RunResult): void {
  expect(unsafeIn(result.stdout, result.stderr), describeRun(result)).toEqual([]);
  expect(linesStarting(result.stderr, 'error: ').length, describeRun(result)).toBeLessThanOrEqual(1);
  expect(result.stdout + result.stderr).not.toMatch(/^error: fake line/m);
}

describe('hostile values from Okta, files and the environment are printed without controls', () => {
  let fake: FakeOkta;
  let sandbox: Sandbox;
  let name: string;
  let added: RunResult;

  beforeAll(async () => {
    requireKeyring();
    fake = await startFakeOkta();
    sandbox = makeSandbox();
    name = uniqueName('hostile');
    const token = fake.addToken({
      user: { login: `ada${INJECTED}@acme.com`, status: `SUSPENDED${INJECTED}` },
      roles: [{ type: 'SUPER_ADMIN', label: `Super${INJECTED} Administrator` }, SUPER_ADMIN],
    });
    // A status other than Okta's exact SUSPENDED: the fake answers users/me, and the warning quotes the status.
    added = await sandbox.run(['add', '--name', name, '--org-url', fake.url, '--token-stdin'], { input: token });
    expect(added.code, describeRun(added)).toBe(0);
  });
  afterAll(async () => {
    await sandbox.run(['remove', '--name', name, '--yes']);
    await fake.close();
    disposeSandbox(sandbox);
  });
  afterEach(() => {
    fake.behaviour = 'okta';
  });

  it('add: the saved line (owner, roles)', () => {
    expectSafe(added);
    expect(added.stdout).toMatch(/as ada error: fake line@acme\.com \(Super error: fake line Administrator \+1\)/);
  });

  it('test: the result line (owner, roles) and the warning (status)', async () => {
    const result = await sandbox.run(['test', '--name', name]);
    expect(result.code, describeRun(result)).toBe(0);
    expectSafe(result);
    expect(result.stdout).toContain('@acme.com');
    expect(result.stderr).toMatch(/the token's owner is SUSPENDED/);
  });

  it('what was saved holds no control character, and list and list --json show none', async () => {
    const file = readFileSync(connectionsPath(sandbox), 'utf8');
    expect(unsafeIn(file)).toEqual([]);
    expect(file).not.toMatch(/\\u001b|\\u0007/);
    for (const args of [['list'], ['list', '--json']]) {
      const result = await sandbox.run(args);
      expect(result.code, describeRun(result)).toBe(0);
      expectSafe(result);
      expect(result.stdout).toContain('@acme.com');
    }
  });

  it('a hand-edited connections.json: list shows its owner without controls', async () => {
    const path = connectionsPath(sandbox);
    const original = readFileSync(path, 'utf8');
    try {
      const data = JSON.parse(original) as { connections: { name: string; owner: { login: string } | null }[] };
      for (const connection of data.connections) {
        if (connection.owner) connection.owner.login = `eve${INJECTED}`;
      }
      writeFileSync(path, JSON.stringify(data), { mode: 0o600 });
      for (const args of [['list'], ['list', '--json']]) {
        const result = await sandbox.run(args);
        expect(result.code, describeRun(result)).toBe(0);
        expectSafe(result);
        expect(result.stdout).toContain('eve');
      }
    } finally {
      writeFileSync(path, original, { mode: 0o600 });
    }
  });

  it('Okta error text (errorCode, errorSummary): test, test --all and test --json', async () => {
    fake.behaviour = 'error-text';
    fake.errorText = { status: 500, errorCode: `E0000009${INJECTED}`, errorSummary: `Internal${INJECTED} Server Error` };
    const single = await sandbox.run(['test', '--name', name]);
    expect(expectCleanFailure(single, 7)).toMatch(/Internal.* Server Error/);
    expectSafe(single);
    const all = await sandbox.run(['test', '--all']);
    expect(all.code, describeRun(all)).toBe(7);
    expectSafe(all);
    expect(all.stdout).toMatch(/Internal.* Server Error/);
    const json = await sandbox.run(['test', '--name', name, '--json']);
    expect(json.code, describeRun(json)).toBe(7);
    expectSafe(json);
    const parsed = JSON.parse(json.stdout) as { error: { message: string; oktaErrorCode: string } };
    expect(unsafeIn(parsed.error.message, parsed.error.oktaErrorCode)).toEqual([]);
  });

  it('a redirect whose Location holds C1 controls (bytes 0x80-0x9f) and a password', async () => {
    fake.behaviour = 'redirect';
    fake.redirectTo = 'https://user:hunter2@evil.example/\u009b2J\u009d0;pwned\u009c\u0085x';
    const result = await sandbox.run(['test', '--name', name]);
    expect(expectCleanFailure(result, 7)).toMatch(/redirects to https:\/\/evil\.example\//);
    expectSafe(result);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('OKTA_CONNECT_<NAME>_ORG_URL with a password or escapes: never printed as it is', async () => {
    const envName = uniqueName('envui');
    const key = envName.toUpperCase().replace(/-/g, '_');
    const env = {
      [`OKTA_CONNECT_${key}_TOKEN`]: fake.addToken(),
      [`OKTA_CONNECT_${key}_ORG_URL`]: `https://user:hunter2@localhost:${String(fake.port)}`,
    };
    for (const args of [['list'], ['list', '--json'], ['doctor'], ['test', '--name', envName]]) {
      const result = await sandbox.run(args, { env });
      expectSafe(result);
      expect(result.stdout + result.stderr, describeRun(result)).not.toContain('hunter2');
      if (args[0] === 'list') expect(result.stdout).toContain(`https://localhost:${String(fake.port)}`);
    }
    const escaped = { ...env, [`OKTA_CONNECT_${key}_ORG_URL`]: `https://acme.okta.com${INJECTED}` };
    for (const args of [['list'], ['doctor'], ['test', '--name', envName]]) expectSafe(await sandbox.run(args, { env: escaped }));
  });

  it('a config folder whose path holds escapes: doctor and the error printer show it without them', async () => {
    const dir = join(sandbox.home, `cfg${INJECTED}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'connections.json'), '{"version": 1, "connections": [', { mode: 0o644 });
    const env = { OKTA_CONNECT_CONFIG_DIR: dir };
    const doctor = await sandbox.run(['doctor'], { env });
    expectSafe(doctor);
    expect(doctor.stdout).toContain('cfg');
    const list = await sandbox.run(['list'], { env });
    expect(expectCleanFailure(list, 2)).toMatch(/cfg.*corrupt/);
    expectSafe(list);
  });
});
