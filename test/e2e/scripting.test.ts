import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import { addArgs, BIN, isAlive, connectionsPath, disposeSandbox, envKey, expectCleanFailure, linesStarting, makeSandbox, nonEmptyLines, requireKeyring, runProcess, saveConnection, secretToolLookup, tokenVar, UNREACHABLE_DBUS, uniqueName, urlVar, useFakeOkta, useSandbox, waitFor, type RunResult, describeRun } from './harness.js';
import { fishOffers, hasProgram, installFishScript, zshOffers } from './shells.js';

/** End-to-end tests of what CI pipelines and scripts rely on: env overrides, test --all, exec, token, completion. */

const NO_KEYCHAIN = { DBUS_SESSION_BUS_ADDRESS: UNREACHABLE_DBUS };
const USERS_ME = '/api/v1/users/me';
const COMMANDS = ['add', 'test', 'list', 'remove', 'exec', 'token', 'doctor', 'completion'];
const EXEC_VARIABLES = [
  'OKTA_CLIENT_ORGURL',
  'OKTA_CLIENT_TOKEN',
  'OKTA_CLIENT_AUTHORIZATIONMODE',
  'OKTA_ORG_NAME',
  'OKTA_BASE_URL',
  'OKTA_API_TOKEN',
  'OKTA_CONNECT_CONNECTION',
];

// ---- helpers -------------------------------------------------------------------------------------------------------

/** Every file and folder under `dir`, relative. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** A shell or other program in the completion tests' environment, killed after a generous time. */
function runProgram(command: string, args: string[], options: { env: Record<string, string>; cwd: string }): Promise<RunResult> {
  return runProcess(command, args, { ...options, timeoutMs: 60_000 });
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** What the exec'd child reports about itself, as JSON on its stdout; it exits with its first argument. */
const REPORT_CHILD = `
const fs = require('node:fs');
const names = ${JSON.stringify(EXEC_VARIABLES)};
const report = {
  env: Object.fromEntries(names.map((key) => [key, process.env[key] ?? null])),
  oktaConnectVars: Object.keys(process.env).filter((key) => key.startsWith('OKTA_CONNECT_')).sort(),
  argv: fs.readFileSync('/proc/self/cmdline', 'utf8').split('\\0'),
  parentArgv: fs.readFileSync('/proc/' + process.ppid + '/cmdline', 'utf8').split('\\0'),
  stdin: fs.readFileSync(0, 'utf8'),
};
process.stdout.write(JSON.stringify(report));
process.exitCode = Number(process.argv[1] ?? '0');
`;

interface ChildReport {
  env: Record<string, string | null>;
  oktaConnectVars: string[];
  argv: string[];
  parentArgv: string[];
  stdin: string;
}

function execReport(name: string, exitCode: number): string[] {
  return ['exec', '--name', name, '--', process.execPath, '-e', REPORT_CHILD, String(exitCode)];
}

function parseReport(result: RunResult): ChildReport {
  try {
    return JSON.parse(result.stdout) as ChildReport;
  } catch {
    throw new Error(`the child printed no report:\n${describeRun(result)}`);
  }
}

// ---- shared fake ---------------------------------------------------------------------------------------------------

const fake = useFakeOkta();

// ---- env-only connections where no keychain is reachable --------------------------------------------------------------

describe('env-only connections on a machine with no keychain at all', () => {
  const sandbox = useSandbox();
  let name: string;
  let token: string;
  let env: Record<string, string>;

  beforeAll(() => {
    name = uniqueName('ci');
    token = fake.addToken();
    env = { ...NO_KEYCHAIN, [tokenVar(name)]: token, [urlVar(name)]: fake.url };
  });

  it('control: the keychain really is unreachable in this environment (saving fails with 8)', async () => {
    const probe = makeSandbox();
    try {
      const result = await probe.run(addArgs(uniqueName('nokc'), fake.url, '--no-test'), {
        input: fake.addToken(),
        env: NO_KEYCHAIN,
      });
      expectCleanFailure(result, 8);
    } finally {
      disposeSandbox(probe);
    }
  });

  it('test --name exits 0 with the env token, sent to the env org', async () => {
    const before = fake.requests.length;
    const result = await sandbox.run(['test', '--name', name], { env });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^✓ ${name}  ${fake.url.replace(/[.]/g, '\\.')}  as ${fake.loginOf(token)}`));
    const me = fake.requests.slice(before).filter((request) => request.path === USERS_ME);
    expect(me.length).toBeGreaterThanOrEqual(1);
    expect(me.every((request) => request.authorization === `SSWS ${token}`)).toBe(true);
  });

  it('list shows it with SOURCE env', async () => {
    const result = await sandbox.run(['list'], { env });
    expect(result.code, describeRun(result)).toBe(0);
    const [header, ...rows] = nonEmptyLines(result.stdout);
    expect(header?.trim().split(/\s+/).at(-1)).toBe('SOURCE');
    // The environment cannot tell "-" from "_": whichever the name is shown with, it must map to the same variables.
    const row = rows.find((line) => envKey(line.split(/\s+/)[0] ?? '') === envKey(name));
    expect(row, result.stdout).toBeDefined();
    expect(row?.trim().split(/\s+/).at(-1)).toBe('env');
    expect(row).toContain(fake.url);
  });

  it('list --json includes it with source "env"', async () => {
    const result = await sandbox.run(['list', '--json'], { env });
    expect(result.code, describeRun(result)).toBe(0);
    const items = JSON.parse(result.stdout) as { name: string; orgUrl: string; source: string }[];
    const item = items.find((candidate) => envKey(candidate.name) === envKey(name));
    expect(item, result.stdout).toMatchObject({ orgUrl: fake.url, source: 'env' });
    // The name shown works with the other commands.
    const tested = await sandbox.run(['token', '--name', item?.name ?? ''], { env });
    expect(tested.stdout, describeRun(tested)).toBe(`${token}\n`);
    expect(result.stdout).not.toContain(token);
  });

  it('token prints exactly the env token', async () => {
    const result = await sandbox.run(['token', '--name', name], { env });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe(`${token}\n`);
    expect(result.stderr).toBe('');
  });

  it('exec hands the env connection to the child', async () => {
    const result = await sandbox.run(execReport(name, 0), { env });
    expect(result.code, describeRun(result)).toBe(0);
    const report = parseReport(result);
    expect(report.env.OKTA_CLIENT_TOKEN).toBe(token);
    expect(report.env.OKTA_API_TOKEN).toBe(token);
    expect(report.env.OKTA_CLIENT_ORGURL).toBe(fake.url);
    expect(report.env.OKTA_CONNECT_CONNECTION).toBe(name);
  });

  it('writes nothing under HOME (no connections.json, no folder)', async () => {
    // Run the commands again so this holds even when this test runs alone.
    for (const args of [['test', '--name', name], ['list'], ['list', '--json'], ['token', '--name', name], execReport(name, 0)]) {
      const result = await sandbox.run(args, { env });
      expect(result.code, `${args.join(' ')}\n${describeRun(result)}`).toBe(0);
    }
    expect(existsSync(connectionsPath(sandbox))).toBe(false);
    expect(tree(sandbox.home)).toEqual([]);
  });

  it('remove of an env-only name is exit 3 with a hint to unset the variable, even without a keychain', async () => {
    const result = await sandbox.run(['remove', '--name', name, '--yes'], { env });
    expectCleanFailure(result, 3);
    const hint = linesStarting(result.stderr, 'hint: ').join('\n');
    expect(hint).toContain(tokenVar(name));
    expect(hint).toMatch(/unset/);
  });
});

describe('only the token variable set, nothing saved', () => {
  const sandbox = useSandbox();

  it.each([
    ['with the keychain reachable', {}],
    ['with no keychain', NO_KEYCHAIN],
  ])('test --name is exit 3 with a hint naming the _ORG_URL variable (%s)', async (_label, extra) => {
    const name = uniqueName('half');
    const token = fake.addToken();
    const before = fake.requests.length;
    const result = await sandbox.run(['test', '--name', name], { env: { ...extra, [tokenVar(name)]: token } });
    expectCleanFailure(result, 3);
    expect(linesStarting(result.stderr, 'hint: ').join('\n')).toContain(urlVar(name));
    expect(fake.requests.length).toBe(before);
    expect(result.stderr).not.toContain(token);
  });
});

// ---- the env token beats the keychain -----------------------------------------------------------------------------

describe('the environment beats the keychain', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();

  it('a revoked saved token: 0 with a good OKTA_CONNECT_<NAME>_TOKEN, 4 without', async () => {
    const name = uniqueName('envwins');
    const saved = fake.addToken();
    await saveConnection(sandbox, name, fake.url, saved);
    fake.revoke(saved);
    const good = fake.addToken();

    const before = fake.requests.length;
    const withEnv = await sandbox.run(['test', '--name', name], { env: { [tokenVar(name)]: good } });
    expect(withEnv.code, describeRun(withEnv)).toBe(0);
    const sent = fake.requests.slice(before).filter((request) => request.path.startsWith('/api/'));
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.every((request) => request.authorization === `SSWS ${good}`)).toBe(true);

    const without = await sandbox.run(['test', '--name', name]);
    expectCleanFailure(without, 4);
  });

  it('token, exec and list follow the env token too', async () => {
    const name = uniqueName('envwins');
    const saved = fake.addToken();
    await saveConnection(sandbox, name, fake.url, saved);
    const override = fake.addToken();
    const env = { [tokenVar(name)]: override };

    const token = await sandbox.run(['token', '--name', name], { env });
    expect(token.stdout, describeRun(token)).toBe(`${override}\n`);
    const tokenSaved = await sandbox.run(['token', '--name', name]);
    expect(tokenSaved.stdout, describeRun(tokenSaved)).toBe(`${saved}\n`);

    const exec = await sandbox.run(execReport(name, 0), { env });
    expect(exec.code, describeRun(exec)).toBe(0);
    expect(parseReport(exec).env.OKTA_CLIENT_TOKEN).toBe(override);

    const list = await sandbox.run(['list', '--json'], { env });
    const item = (JSON.parse(list.stdout) as { name: string; source: string }[]).find((entry) => entry.name === name);
    expect(item?.source).toBe('env');
    const listSaved = await sandbox.run(['list', '--json']);
    const itemSaved = (JSON.parse(listSaved.stdout) as { name: string; source: string }[]).find((entry) => entry.name === name);
    expect(itemSaved?.source).toBe('keychain');
  });

  it('add with OKTA_CONNECT_<NAME>_TOKEN set saves the given token and says on stderr that the variable wins', async () => {
    const name = uniqueName('addenv');
    const given = fake.addToken();
    const inEnv = fake.addToken();
    const result = await saveConnection(sandbox, name, fake.url, given);
    expect(result.stderr).not.toContain(tokenVar(name)); // control: no notice without the variable
    const name2 = uniqueName('addenv');
    const withVar = await sandbox.run(addArgs(name2, fake.url), {
      input: given,
      env: { [tokenVar(name2)]: inEnv },
    });
    expect(withVar.code, describeRun(withVar)).toBe(0);
    expect(secretToolLookup(name2)).toBe(given);
    const notice = withVar.stderr.split('\n').find((line) => line.includes(tokenVar(name2)));
    expect(notice, withVar.stderr).toMatch(/wins/);
    expect(withVar.stderr).not.toContain(inEnv);
  });

  it('add --json with OKTA_CONNECT_<NAME>_TOKEN set still says on stderr that the variable wins', async () => {
    const name = uniqueName('addenvj');
    const result = await sandbox.run(addArgs(name, fake.url, '--json'), {
      input: fake.addToken(),
      env: { [tokenVar(name)]: fake.addToken() },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect((JSON.parse(result.stdout) as { name: string }).name).toBe(name);
    const notice = result.stderr.split('\n').find((line) => line.includes(tokenVar(name)));
    expect(notice, `stderr:\n${result.stderr}`).toMatch(/wins/);
  });

  it('remove of an env-only name is exit 3 with a hint to unset the variable', async () => {
    const name = uniqueName('rmenv');
    const result = await sandbox.run(['remove', '--name', name, '--yes'], {
      env: { [tokenVar(name)]: fake.addToken(), [urlVar(name)]: fake.url },
    });
    expectCleanFailure(result, 3);
    const hint = linesStarting(result.stderr, 'hint: ').join('\n');
    expect(hint).toContain(tokenVar(name));
    expect(hint).toMatch(/unset/);
  });
});

describe('names with dashes', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();

  it('my-org-… is overridden by OKTA_CONNECT_MY_ORG_…_TOKEN', async () => {
    const name = uniqueName('my-org');
    const suffix = name.slice('my-org-'.length).toUpperCase();
    const variable = `OKTA_CONNECT_MY_ORG_${suffix}_TOKEN`;
    const saved = fake.addToken();
    await saveConnection(sandbox, name, fake.url, saved);
    fake.revoke(saved);
    const good = fake.addToken();
    const result = await sandbox.run(['test', '--name', name], { env: { [variable]: good } });
    expect(result.code, describeRun(result)).toBe(0);
    const token = await sandbox.run(['token', '--name', name], { env: { [variable]: good } });
    expect(token.stdout).toBe(`${good}\n`);
    // control: the dash variant of the variable is not what the contract names, and the saved token is revoked
    const wrong = await sandbox.run(['test', '--name', name], { env: { [`OKTA_CONNECT_my-org-${suffix}_TOKEN`]: good } });
    expect(wrong.code, describeRun(wrong)).toBe(4);
  });

  it('an env-only my-ci-… works from OKTA_CONNECT_MY_CI_…_TOKEN and _ORG_URL', async () => {
    const name = uniqueName('my-ci');
    const suffix = name.slice('my-ci-'.length).toUpperCase();
    const token = fake.addToken();
    const env = { ...NO_KEYCHAIN, [`OKTA_CONNECT_MY_CI_${suffix}_TOKEN`]: token, [`OKTA_CONNECT_MY_CI_${suffix}_ORG_URL`]: fake.url };
    const result = await sandbox.run(['test', '--name', name], { env });
    expect(result.code, describeRun(result)).toBe(0);
    const printed = await sandbox.run(['token', '--name', name], { env });
    expect(printed.stdout).toBe(`${token}\n`);
  });
});

// ---- exec -------------------------------------------------------------------------------------------------------------

describe('exec', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();
  let name: string;
  let token: string;

  beforeAll(async () => {
    name = uniqueName('exec');
    token = fake.addToken();
    await saveConnection(sandbox, name, fake.url, token);
  });

  it('gives the child the connection, replaces inherited values, keeps the token out of argv, passes stdin and the exit code', async () => {
    const other = uniqueName('other');
    const otherToken = generateToken();
    const inherited = {
      OKTA_CLIENT_ORGURL: 'https://inherited.okta.com',
      OKTA_CLIENT_TOKEN: 'inherited-client-token-value',
      OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
      OKTA_ORG_NAME: 'inherited',
      OKTA_BASE_URL: 'inherited.example',
      OKTA_API_TOKEN: 'inherited-api-token-value',
      OKTA_CONNECT_CONNECTION: 'inherited',
      [tokenVar(other)]: otherToken,
      [urlVar(other)]: 'https://other.okta.com',
    };
    const result = await sandbox.run(execReport(name, 42), { env: inherited, input: 'line one\nline two\n' });
    expect(result.code, describeRun(result)).toBe(42);
    const report = parseReport(result);
    expect(report.env).toEqual({
      OKTA_CLIENT_ORGURL: fake.url,
      OKTA_CLIENT_TOKEN: token,
      OKTA_CLIENT_AUTHORIZATIONMODE: 'SSWS',
      OKTA_ORG_NAME: 'localhost',
      OKTA_BASE_URL: '',
      OKTA_API_TOKEN: token,
      OKTA_CONNECT_CONNECTION: name,
    });
    expect(report.oktaConnectVars).not.toContain(tokenVar(other));
    expect(report.stdin).toBe('line one\nline two\n');
    // The token is in no argv: the child's, nor okta-connect's (the child's parent, read from /proc).
    expect(report.argv).toContain(REPORT_CHILD);
    expect(report.parentArgv).toContain(BIN);
    expect(report.parentArgv).toContain('exec');
    for (const argv of [report.argv, report.parentArgv]) {
      expect(argv.some((arg) => arg.includes(token))).toBe(false);
    }
    expect(result.stderr).not.toContain(token);
  });

  it('splits the org host: OKTA_ORG_NAME is the first label, OKTA_BASE_URL the rest', async () => {
    const envName = uniqueName('preview');
    const envToken = generateToken();
    const result = await sandbox.run(execReport(envName, 0), {
      env: { ...NO_KEYCHAIN, [tokenVar(envName)]: envToken, [urlVar(envName)]: 'https://acme-ci.oktapreview.com' },
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(parseReport(result).env).toMatchObject({
      OKTA_CLIENT_ORGURL: 'https://acme-ci.oktapreview.com',
      OKTA_ORG_NAME: 'acme-ci',
      OKTA_BASE_URL: 'oktapreview.com',
      OKTA_CLIENT_TOKEN: envToken,
      OKTA_API_TOKEN: envToken,
      OKTA_CONNECT_CONNECTION: envName,
    });
  });

  it('passes exit code 0 through as well', async () => {
    const result = await sandbox.run(execReport(name, 0));
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('a missing command is exit 127', async () => {
    const result = await sandbox.run(['exec', '--name', name, '--', `no-such-command-${uniqueName('x')}`]);
    expectCleanFailure(result, 127);
    expect(result.stderr).not.toContain(token);
  });

  it('an unknown connection is exit 3 and runs nothing', async () => {
    const marker = join(sandbox.cwd, 'ran');
    const result = await sandbox.run([
      'exec', '--name', uniqueName('nope'), '--', process.execPath, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ]);
    expectCleanFailure(result, 3);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('exec forwards signals', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();
  let name: string;
  let script: string;

  beforeAll(async () => {
    name = uniqueName('sig');
    await saveConnection(sandbox, name, fake.url, fake.addToken());
    script = join(sandbox.cwd, 'child.cjs');
    writeFileSync(
      script,
      [
        "const fs = require('node:fs');",
        "const [dir, trap] = process.argv.slice(2);",
        "if (trap === 'trap') {",
        "  for (const [signal, code] of [['SIGTERM', 43], ['SIGINT', 44], ['SIGHUP', 45]]) {",
        "    process.on(signal, () => { fs.appendFileSync(dir + '/got', signal + '\\n'); process.exit(code); });",
        '  }',
        '}',
        "fs.writeFileSync(dir + '/ready', String(process.pid));",
        'setInterval(() => undefined, 1000);',
        '',
      ].join('\n'),
    );
  });

  async function interrupt(signal: NodeJS.Signals, trap: boolean): Promise<{ code: number | null; got: string; stderr: string; childPid: number }> {
    const dir = mkdtempSync(join(sandbox.cwd, 'sig-'));
    const proc = spawn(process.execPath, [BIN, 'exec', '--name', name, '--', process.execPath, script, dir, trap ? 'trap' : 'plain'], {
      cwd: sandbox.cwd,
      env: sandbox.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    proc.stdout.resume();
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => { resolve(code); }));
    const ready = join(dir, 'ready');
    let childPid = 0;
    try {
      await waitFor(`the child's ready file (stderr so far: ${stderr})`, () => existsSync(ready) && readFileSync(ready, 'utf8') !== '');
      childPid = Number(readFileSync(ready, 'utf8'));
      proc.kill(signal);
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => setTimeout(() => { reject(new Error(`okta-connect did not exit after ${signal}`)); }, 30_000)),
      ]);
      const gotPath = join(dir, 'got');
      return { code, got: existsSync(gotPath) ? readFileSync(gotPath, 'utf8') : '', stderr, childPid };
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      if (childPid > 0 && isAlive(childPid)) process.kill(childPid, 'SIGKILL');
    }
  }

  // SIGINT is not here: the terminal delivers it to the child itself, so exec never passes it on (hardening-exec.test.ts).
  it.each([
    ['SIGTERM', 43],
    ['SIGHUP', 45],
  ] as const)('%s reaches the child once, and okta-connect exits with the child\'s code', async (signal, expected) => {
    const outcome = await interrupt(signal, true);
    expect(outcome.code, outcome.stderr).toBe(expected);
    expect(outcome.got).toBe(`${signal}\n`);
    expect(outcome.stderr).not.toMatch(/interrupted/);
    expect(isAlive(outcome.childPid)).toBe(false);
  });

  it('a child killed by the forwarded SIGTERM gives 128 + 15, like a shell', async () => {
    const outcome = await interrupt('SIGTERM', false);
    expect(outcome.code, outcome.stderr).toBe(143);
    expect(isAlive(outcome.childPid)).toBe(false);
  });
});

// ---- token ----------------------------------------------------------------------------------------------------------

describe('token', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();

  it('prints exactly the token and a newline, nothing on stderr when stdout is not a terminal', async () => {
    const name = uniqueName('tok');
    const token = fake.addToken();
    await saveConnection(sandbox, name, fake.url, token);
    const result = await sandbox.run(['token', '--name', name]);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toBe(`${token}\n`);
    expect(result.stderr).toBe('');
  });

  it('an unknown name is exit 3', async () => {
    const result = await sandbox.run(['token', '--name', uniqueName('nope')]);
    expectCleanFailure(result, 3);
  });
});

// ---- completion -------------------------------------------------------------------------------------------------------

describe('completion', () => {
  beforeAll(requireKeyring);
  const sandbox = useSandbox();
  let wrapperDir: string;
  let shellEnv: Record<string, string>;
  const saved: string[] = [];
  let otherName: string;

  beforeAll(async () => {
    for (const prefix of ['compa', 'compb']) {
      const name = uniqueName(prefix);
      await saveConnection(sandbox, name, fake.url, fake.addToken(), '--no-test');
      saved.push(name);
    }
    otherName = uniqueName('zother');
    await saveConnection(sandbox, otherName, fake.url, fake.addToken(), '--no-test');
    // `okta-connect` on PATH: the built binary in this sandbox, with the keychain unreachable.
    wrapperDir = mkdtempSync(join(tmpdir(), 'okta-connect-bin-'));
    const env = { ...sandbox.env, ...NO_KEYCHAIN };
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`).join(' ');
    writeFileSync(
      join(wrapperDir, 'okta-connect'),
      `#!/bin/sh\nexec env -i ${assignments} ${shellQuote(process.execPath)} ${shellQuote(BIN)} "$@"\n`,
      { mode: 0o755 },
    );
    shellEnv = { PATH: `${wrapperDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: sandbox.home, LANG: 'C.UTF-8' };
  });
  afterAll(() => {
    rmSync(wrapperDir, { recursive: true, force: true });
  });

  const bash = (script: string): Promise<RunResult> => runProgram('bash', ['-c', script], { env: shellEnv, cwd: sandbox.cwd });

  /** COMPREPLY for a command line whose last word is being completed. */
  async function complete(words: string[]): Promise<string[]> {
    const script = [
      'source <(okta-connect completion bash) || exit 90',
      `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
      `COMP_CWORD=${String(words.length - 1)}`,
      `COMP_LINE=${shellQuote(words.join(' '))}`,
      'COMP_POINT=${#COMP_LINE}',
      '_okta_connect || exit 91',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const result = await bash(script);
    expect(result.code, describeRun(result)).toBe(0);
    return nonEmptyLines(result.stdout).sort();
  }

  it('control: through the wrapper, the keychain is unreachable (token is exit 8)', async () => {
    const result = await runProgram(join(wrapperDir, 'okta-connect'), ['token', '--name', saved[0] ?? ''], { env: shellEnv, cwd: sandbox.cwd });
    expect(result.code, describeRun(result)).toBe(8);
  });

  it('bash: the script loads and registers the completion function', async () => {
    const result = await bash('source <(okta-connect completion bash) && complete -p okta-connect');
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/complete -F _okta_connect okta-connect/);
  });

  it('bash: completes saved names after --name from metadata alone, with the keychain unreachable', async () => {
    expect(await complete(['okta-connect', 'test', '--name', 'comp'])).toEqual([...saved].sort());
    expect(await complete(['okta-connect', 'exec', '-n', ''])).toEqual([...saved, otherName].sort());
  });

  it('bash: completes commands and flags', async () => {
    const commands = await complete(['okta-connect', '']);
    for (const command of COMMANDS) expect(commands).toContain(command);
    expect(commands.some((word) => word.startsWith('__'))).toBe(false);
    const flags = await complete(['okta-connect', 'test', '--']);
    for (const flag of ['--name', '--all', '--json', '--timeout']) expect(flags).toContain(flag);
  });

  it.each(['bash', 'zsh', 'fish', 'powershell'])('%s: the script mentions every command', async (shell) => {
    const result = await sandbox.run(['completion', shell], { env: NO_KEYCHAIN });
    expect(result.code, describeRun(result)).toBe(0);
    for (const command of COMMANDS) expect(result.stdout, `${shell} script lacks ${command}`).toMatch(new RegExp(`(^|[\\s('])${command}([\\s)']|$)`, 'm'));
  });

  it('bash: the script passes bash -n', async () => {
    const file = join(sandbox.cwd, 'okta-connect.bash');
    writeFileSync(file, (await sandbox.run(['completion', 'bash'])).stdout);
    const result = await runProgram('bash', ['-n', file], { env: shellEnv, cwd: sandbox.cwd });
    expect(result.code, describeRun(result)).toBe(0);
  });

  it.for([
    ['zsh', ['-n']],
    ['fish', ['-n']],
  ] as const)('%s: the script passes a syntax check', async ([shell, flags], context) => {
    if (!hasProgram(shell)) context.skip(`${shell} is not installed on this machine: cannot syntax-check the ${shell} script`);
    const file = join(sandbox.cwd, `okta-connect.${shell}`);
    writeFileSync(file, (await sandbox.run(['completion', shell])).stdout);
    const result = await runProgram(shell, [...flags, file], { env: shellEnv, cwd: sandbox.cwd });
    expect(result.code, describeRun(result)).toBe(0);
  });

  /** What zsh (an interactive one, the script on $fpath) or fish (the script in its completions folder) offers. */
  async function offers(shell: 'zsh' | 'fish', lines: string[]): Promise<string[][]> {
    const script = (await sandbox.run(['completion', shell], { env: NO_KEYCHAIN })).stdout;
    const configHome = join(sandbox.home, '.config');
    const env = { ...shellEnv, XDG_CONFIG_HOME: configHome };
    if (shell === 'zsh') return zshOffers(script, lines, { env, cwd: sandbox.cwd });
    installFishScript(configHome, script);
    return fishOffers(lines, { env, cwd: sandbox.cwd });
  }

  describe.each(['zsh', 'fish'] as const)('%s, for real', (shell) => {
    if (!hasProgram(shell)) {
      it.skip(`${shell} is not installed on this machine`, () => undefined);
      return;
    }

    it('completes saved names from metadata alone: as the positional name of every command that takes one, after global flags, --name and --name=', async () => {
      const all = [...saved, otherName].sort();
      const lines = ['test', 'token', 'exec', 'remove', 'rm', 'rotate'].map((command) => `okta-connect ${command} `);
      expect(await offers(shell, lines)).toEqual(lines.map(() => all));
      const [afterGlobal, afterFlag, afterEquals, afterShort, prefix, second] = await offers(shell, [
        'okta-connect --quiet --no-color test ',
        'okta-connect test --name ',
        'okta-connect exec --name=comp',
        'okta-connect token -n ',
        'okta-connect test comp',
        `okta-connect test ${otherName} `,
      ]);
      expect(afterGlobal).toEqual(all);
      expect(afterFlag).toEqual(all);
      expect(afterEquals).toEqual(shell === 'fish' ? saved.map((name) => `--name=${name}`).sort() : [...saved].sort());
      expect(afterShort).toEqual(all);
      expect(prefix).toEqual([...saved].sort());
      // One name is enough: no second one is offered (fish offers flags only after a "-").
      expect(second).toEqual(shell === 'fish' ? [] : ['--all', '--help', '--json', '--name', '--secret-timeout', '--timeout', '-a', '-n']);
    });

    it('offers no saved names after add --name, nor for a flag value such as --timeout; the value is skipped after it', async () => {
      const [addName, addEquals, timeout, afterTimeout] = await offers(shell, ['okta-connect add --name ', 'okta-connect add --name=', 'okta-connect test --timeout ', 'okta-connect test --timeout 5 ']);
      expect({ addName, addEquals, timeout }).toEqual({ addName: [], addEquals: [], timeout: [] });
      expect(afterTimeout).toEqual([...saved, otherName].sort());
    });

    it('offers commands after exec <name> --, then what the shell completes for that command (its options, files)', async () => {
      writeFileSync(join(sandbox.cwd, 'key-file.pem'), '');
      const [command, tarOption, file, secretCommand, keyFile] = await offers(shell, [
        `okta-connect exec ${saved[0] ?? ''} -- bas`,
        'okta-connect exec -- tar --crea',
        `okta-connect exec --name ${saved[0] ?? ''} -- cat key-`,
        'okta-connect add --secret-command -- tar --crea',
        'okta-connect add --oauth --private-key-file key-',
      ]);
      expect(command).toContain('bash');
      expect(command?.every((word) => word.startsWith('bas'))).toBe(true);
      expect({ tarOption, file, secretCommand, keyFile }).toEqual({ tarOption: ['--create'], file: ['key-file.pem'], secretCommand: ['--create'], keyFile: ['key-file.pem'] });
    });

    it('completes commands (also after global flags), global flags, the flags of a command and of its alias, and the shells', async () => {
      const [top, afterGlobal, testFlags, rmFlags, shells] = await offers(shell, ['okta-connect ', 'okta-connect --debug ', 'okta-connect test --', 'okta-connect rm --', 'okta-connect completion ']);
      for (const command of COMMANDS) expect(top).toContain(command);
      expect(top?.some((word) => word.startsWith('__'))).toBe(false);
      expect(afterGlobal).toEqual(expect.arrayContaining(COMMANDS));
      expect(await offers(shell, ['okta-connect --'])).toEqual([['--debug', '--help', '--no-color', '--quiet', '--version']]);
      expect(testFlags).toEqual(['--all', '--help', '--json', '--name', '--secret-timeout', '--timeout']);
      expect(rmFlags).toEqual(['--help', '--name', '--revoke', '--secret-timeout', '--timeout', '--yes']);
      expect(shells).toEqual(expect.arrayContaining(['bash', 'fish', 'powershell', 'zsh']));
    });
  });

  it('an unknown shell is exit 2', async () => {
    const result = await sandbox.run(['completion', 'nushell']);
    expectCleanFailure(result, 2);
  });
});
