import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftAfter, uniqueSleep } from '../fixtures/processes.js';
import { gpg, makePassStore, requirePass, stopAgent, type PassStore } from '../fixtures/pass-store.js';
import {
  connectionsPath,
  describeRun,
  expectCleanFailure,
  findLeaks,
  readConnections,
  requireKeyring,
  ROOT,
  BIN,
  RUN_TIMEOUT_MS,
  runProcess,
  secretToolLookup,
  uniqueName,
  useFakeOkta,
  useSandbox,
  type RunResult,
} from './harness.js';

// Secret commands (issue 13) against a real secret manager: pass, with a GPG key made for the run in a temporary
// GNUPGHOME and a store in a temporary PASSWORD_STORE_DIR. Everything okta-connect prints or writes is leak-scanned.

const fake = useFakeOkta();
let root = '';

let store: PassStore | undefined;
let locked: PassStore | undefined;

beforeAll(() => {
  requireKeyring();
  requirePass();
  root = mkdtempSync(join(tmpdir(), 'okc-pass-'));
  store = makePassStore(root, 'open');
  // A key WITH a passphrase, and no way to ask for it: the agent forgets what key generation cached, and its pinentry
  // is a program that fails at once (a machine where nobody can type the passphrase).
  locked = makePassStore(root, 'locked', 'correct horse battery staple');
  stopAgent(locked.env.GNUPGHOME);
  writeFileSync(join(locked.env.GNUPGHOME, 'gpg-agent.conf'), 'pinentry-program /bin/false\n');
}, 60_000);

afterAll(() => {
  stopAgent(store?.env.GNUPGHOME);
  stopAgent(locked?.env.GNUPGHOME);
  rmSync(root, { recursive: true, force: true });
});

function passStore(): PassStore {
  if (!store) throw new Error('no pass store');
  return store;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('pass: add --secret-command -- pass show okta/prod, then test, exec, token', () => {
  const sandbox = useSandbox();
  let name = '';
  let entry = '';
  let token = '';
  const tokens: string[] = [];
  /** Every run of this block, for the leak scan at its end (token's own stdout is left out). */
  const outputs: RunResult[] = [];
  const run = async (args: string[]): Promise<RunResult> => {
    const result = await sandbox.run(args, { env: passStore().env });
    outputs.push(result);
    return result;
  };

  beforeAll(() => {
    name = uniqueName('pass');
    entry = `okta/${name}`;
    token = fake.addToken();
    tokens.push(token);
    passStore().insert(entry, token);
  });

  it('add runs the command once, tests the token it printed, saves the metadata only: nothing in the keychain', async () => {
    const before = fake.requests.length;
    const result = await run(['add', '--name', name, '--org-url', fake.url, '--secret-command', '--', 'pass', 'show', entry]);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain(`saved ${name}`);
    expect(fake.requests.slice(before).some((request) => request.authorization === `SSWS ${token}`)).toBe(true);
    expect(secretToolLookup(name)).toBeUndefined();
    const saved = readConnections(sandbox)?.connections.find((connection) => connection.name === name);
    expect(saved).toMatchObject({ name, orgUrl: fake.url, secretCommand: ['pass', 'show', entry], secretFingerprint: null, lastTest: { ok: true } });
  });

  it('test, exec and token use what pass prints', async () => {
    const test = await run(['test', '--name', name]);
    expect(test.code, describeRun(test)).toBe(0);
    expect(test.stdout).toMatch(new RegExp(`^✓ ${name} {2}${fake.url.replace(/[.]/g, '\\.')} {2}as `));

    const exec = await run(['exec', '--name', name, '--', 'sh', '-c', 'printf %s "$OKTA_CLIENT_TOKEN" | sha256sum']);
    expect(exec.code, describeRun(exec)).toBe(0);
    expect(exec.stdout.split(' ')[0]).toBe(sha256(token));

    const printed = await sandbox.run(['token', '--name', name], { env: passStore().env });
    expect(printed.code, describeRun(printed)).toBe(0);
    expect(printed.stdout).toBe(`${token}\n`);
    outputs.push({ ...printed, stdout: '' });
  });

  it('a token rotated in pass is picked up on the next run, with no okta-connect step', async () => {
    const rotated = fake.addToken();
    tokens.push(rotated);
    passStore().insert(entry, rotated);
    const entryOf = fake.tokens.get(token);
    if (entryOf) entryOf.revoked = true;
    const before = fake.requests.length;
    const test = await run(['test', '--name', name]);
    expect(test.code, describeRun(test)).toBe(0);
    const sent = fake.requests.slice(before).map((request) => request.authorization).filter(Boolean);
    expect(sent).toContain(`SSWS ${rotated}`);
    expect(sent).not.toContain(`SSWS ${token}`);
    token = rotated;
  });

  it('list shows SOURCE command; list --json adds secretCommand; neither runs the command', async () => {
    const list = await run(['list']);
    expect(list.code, describeRun(list)).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${name} .* command$`, 'm'));
    const json = await run(['list', '--json']);
    const items = JSON.parse(json.stdout) as { name: string; source: string; secretCommand?: string[] }[];
    expect(items.find((item) => item.name === name)).toMatchObject({ source: 'command', secretCommand: ['pass', 'show', entry] });
  });

  it('doctor runs the command once and says it printed a valid token, without printing it', async () => {
    const doctor = await run(['doctor']);
    expect(doctor.stdout).toContain(`✓ connection ${name}: ${fake.url}, pass show ${entry} printed a valid token`);
  });

  it('an entry removed from pass: its message reaches stderr, exit 8 with the exit code and that line', async () => {
    passStore().remove(entry);
    const test = await run(['test', '--name', name]);
    const error = expectCleanFailure(test, 8);
    expect(test.stderr).toMatch(new RegExp(`^Error: ${entry} is not in the password store\\.$`, 'm'));
    expect(error).toBe(`error: the secret command of "${name}" (pass show ${entry}) failed with exit code 1: Error: ${entry} is not in the password store.`);
    passStore().insert(entry, token);
  });

  it('remove deletes the connection, asks the keychain for nothing, and leaves the pass entry alone', async () => {
    const remove = await run(['remove', '--name', name, '--yes']);
    expect(remove.code, describeRun(remove)).toBe(0);
    expect(readConnections(sandbox)?.connections.map((connection) => connection.name)).not.toContain(name);
    expect(execFileSync('pass', ['show', entry], { env: { ...process.env, ...passStore().env }, encoding: 'utf8' })).toBe(`${token}\n`);
  });

  it('no token leaked: stdout, stderr, files under HOME, connections.json', () => {
    for (const secret of tokens) expect(findLeaks(secret, sandbox, outputs)).toEqual([]);
    expect(readFileSync(connectionsPath(sandbox), 'utf8')).not.toMatch(/00[A-Za-z0-9_-]{40}/);
  });
});

describe('pass fails: a missing entry, a locked key', () => {
  const sandbox = useSandbox();

  it('add of a missing entry: pass says so on stderr, exit 8, nothing saved', async () => {
    const name = uniqueName('missing');
    const result = await sandbox.run(['add', '--name', name, '--org-url', fake.url, '--secret-command', '--', 'pass', 'show', 'okta/no-such-entry'], {
      env: passStore().env,
    });
    const error = expectCleanFailure(result, 8);
    expect(result.stderr).toContain('Error: okta/no-such-entry is not in the password store.');
    expect(error).toMatch(/failed with exit code 1: Error: okta\/no-such-entry is not in the password store\.: nothing was saved$/);
    expect(readConnections(sandbox)).toBeUndefined();
  });

  it('a locked key with no pinentry: gpg fails, its stderr reaches the user, exit 8', async () => {
    if (!locked) throw new Error('no locked store');
    const token = fake.addToken();
    locked.insert('okta/prod', token);
    const name = uniqueName('locked');
    const started = performance.now();
    const result = await sandbox.run(['add', '--name', name, '--org-url', fake.url, '--secret-command', '--', 'pass', 'show', 'okta/prod'], { env: locked.env });
    const error = expectCleanFailure(result, 8);
    expect(result.stderr).toMatch(/^gpg: .*decryption failed/m);
    expect(error).toMatch(/\(pass show okta\/prod\) failed with exit code 2: gpg: .*decryption failed/);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });
});

describe('commands that misbehave', () => {
  const sandbox = useSandbox();
  let scripts = '';
  beforeAll(() => {
    scripts = mkdtempSync(join(root, 'scripts-'));
  });

  /** A secret command whose behaviour the test changes underneath: `sh <file>`. */
  function script(body: string): string[] {
    const path = join(scripts, `${uniqueName('s')}.sh`);
    writeFileSync(path, `${body}\n`);
    chmodSync(path, 0o700);
    return ['sh', path];
  }

  function rewrite(argv: string[], body: string): void {
    writeFileSync(argv[1] ?? '', `${body}\n`);
  }

  /** A connection saved with a command that prints a working token (kept in a file beside the script). */
  async function saved(): Promise<{ name: string; argv: string[]; token: string }> {
    const token = fake.addToken();
    const file = join(scripts, `${uniqueName('t')}.txt`);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const argv = script(`cat '${file}'`);
    const name = uniqueName('cmd');
    const add = await sandbox.run(['add', '--name', name, '--org-url', fake.url, '--secret-command', '--', ...argv]);
    expect(add.code, describeRun(add)).toBe(0);
    return { name, argv, token };
  }

  it('a command that hangs is stopped at --secret-timeout, with what it started: no orphan process', async () => {
    const { name, argv } = await saved();
    const child = uniqueSleep();
    const grandchild = uniqueSleep();
    rewrite(argv, `sleep ${grandchild} & sleep ${child}; wait`);
    const started = performance.now();
    const result = await sandbox.run(['test', '--name', name, '--secret-timeout', '1']);
    const elapsed = performance.now() - started;
    const error = expectCleanFailure(result, 8);
    expect(error).toMatch(/did not finish within 1 s, so it was stopped/);
    // One second for the command, the rest for starting node on a busy two-core machine.
    expect(elapsed).toBeLessThan(8000);
    expect(await leftAfter(child)).toEqual([]);
    expect(await leftAfter(grandchild)).toEqual([]);
  });

  it('a command that prints 20 MB is stopped at 64 KiB with a clear error, fast', async () => {
    const { name, argv } = await saved();
    rewrite(argv, 'head -c 20971520 /dev/zero');
    const started = performance.now();
    const result = await sandbox.run(['token', '--name', name]);
    expect(performance.now() - started).toBeLessThan(8000);
    const error = expectCleanFailure(result, 8);
    expect(error).toMatch(/printed more than 64 KiB, so it was stopped/);
  });

  it.each([
    { case: 'a command that is not installed', argv: () => ['okta-connect-no-such-secret-tool', 'read'], why: /cannot run: okta-connect-no-such-secret-tool: command not found/ },
    { case: 'a command that prints nothing', argv: () => script('true'), why: /printed nothing/ },
    { case: 'a command that prints no token', argv: () => script("echo 'Username: ada'"), why: /printed no valid secret: .*spaces/ },
    { case: 'a command killed by a signal', argv: () => script('kill -KILL $$'), why: /was killed by SIGKILL/ },
  ])('add refuses $case: exit 8, its own message, nothing saved', async ({ argv, why }) => {
    const result = await sandbox.run(['add', '--name', uniqueName('bad'), '--org-url', fake.url, '--secret-command', '--', ...argv()]);
    const error = expectCleanFailure(result, 8);
    expect(error).toMatch(why);
    expect(readConnections(sandbox)?.connections.filter((connection) => connection.name.startsWith('bad-')) ?? []).toEqual([]);
  });

  it('an argv that holds a token is refused (exit 2): never run, never saved, never printed', async () => {
    const token = fake.addToken();
    const marker = join(scripts, 'ran');
    const result = await sandbox.run(['add', '--name', uniqueName('leak'), '--org-url', fake.url, '--secret-command', '--', 'sh', '-c', `touch ${marker}; echo ${token}`]);
    const error = expectCleanFailure(result, 2);
    expect(error).toMatch(/argument 2 of the secret command looks like an API token/);
    expect(() => readFileSync(marker)).toThrow();
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });
});

describe('test --all over a keychain, an environment and a command-sourced connection', () => {
  const sandbox = useSandbox();

  it('each is read from its own place and tested; one line each, then the summary', async () => {
    const keychain = { name: uniqueName('keychain'), token: fake.addToken() };
    const command = { name: uniqueName('command'), token: fake.addToken() };
    // Environment-only: named from the variable, lower-cased (OKTA_CONNECT_CI_1A2B_TOKEN is ci_1a2b).
    const ci = { name: uniqueName('ci').replace(/-/g, '_'), token: fake.addToken() };
    const saveKeychain = await sandbox.run(['add', '--name', keychain.name, '--org-url', fake.url, '--token-stdin'], { input: keychain.token });
    expect(saveKeychain.code, describeRun(saveKeychain)).toBe(0);
    passStore().insert(`okta/${command.name}`, command.token);
    const saveCommand = await sandbox.run(['add', '--name', command.name, '--org-url', fake.url, '--secret-command', '--', 'pass', 'show', `okta/${command.name}`], {
      env: passStore().env,
    });
    expect(saveCommand.code, describeRun(saveCommand)).toBe(0);
    const key = ci.name.toUpperCase();
    const env = { ...passStore().env, [`OKTA_CONNECT_${key}_TOKEN`]: ci.token, [`OKTA_CONNECT_${key}_ORG_URL`]: fake.url };

    const list = await sandbox.run(['list'], { env });
    const all = await sandbox.run(['test', '--all'], { env });
    if (process.env.OKTA_CONNECT_SHOW_TEST_ALL === '1') {
      process.stderr.write(`\n$ okta-connect list\n${list.stdout}${list.stderr}$ okta-connect test --all\n${all.stdout}${all.stderr}\n`);
    }
    expect(all.code, describeRun(all)).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    // Each line as soon as its connection is done (the contract's test --all), so in no fixed order.
    expect(lines.map((line) => line.split('  ')[0]).sort()).toEqual([`✓ ${ci.name}`, `✓ ${command.name}`, `✓ ${keychain.name}`].sort());
    expect(all.stderr).toMatch(/^3 of 3 connections OK$/m);
    const rows = list.stdout.trimEnd().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
    const sources = Object.fromEntries(rows.map((cells): [string, string] => [cells[0] ?? '', cells.at(-1) ?? '']));
    expect(sources).toEqual({ [keychain.name]: 'keychain', [command.name]: 'command', [ci.name]: 'env' });
    expect(secretToolLookup(keychain.name)).toBe(keychain.token);
    expect(secretToolLookup(command.name)).toBeUndefined();
    for (const secret of [keychain.token, command.token, ci.token]) {
      expect(findLeaks(secret, sandbox, [saveKeychain, saveCommand, list, all])).toEqual([]);
    }
  });
});

describe('the README recipe for pass', () => {
  const sandbox = useSandbox();
  // Before the sandbox goes (after hooks run last-declared first): the agent that the recipe's gpg started in its HOME.
  afterAll(() => {
    stopAgent(join(sandbox.home, '.gnupg'));
  });

  /** bash running a script file in a fresh shell (no profile, no rc), the script's stdin given. */
  function bash(script: string, env: Record<string, string>, input: string): Promise<RunResult> {
    const file = join(sandbox.cwd, 'recipe.sh');
    writeFileSync(file, script);
    return runProcess('bash', ['--noprofile', '--norc', '-e', file], { cwd: sandbox.cwd, env, input, timeoutMs: RUN_TIMEOUT_MS });
  }

  it('works as it stands in a fresh shell with a fresh HOME (only the org address is the fake Okta)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- recipe: pass -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'the README has the pass recipe').toBeDefined();
    const script = (block ?? '').replaceAll('https://acme.okta.com', fake.url);
    // The user's own GPG key, made as the recipe's comment says (without the passphrase prompt), in ~/.gnupg.
    const gnupg = join(sandbox.home, '.gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    gpg(gnupg, ['--passphrase', '', '--quick-gen-key', 'Ada <ada@acme.com>', 'future-default', 'default', 'never']);
    // okta-connect on PATH, as an installed command is.
    const bin = join(sandbox.home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'okta-connect'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
    const token = fake.addToken();

    const result = await bash(script, { ...sandbox.env, PATH: `${bin}:${sandbox.env.PATH ?? ''}` }, `${token}\n${token}\n`);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^✓ saved prod {2}/m);
    expect(result.stdout).toMatch(/^✓ prod {2}https:\/\/localhost:\d+ {2}as /m);
    expect(result.stdout).toMatch(/^prod .* command$/m);
    expect(readConnections(sandbox)?.connections).toMatchObject([{ name: 'prod', secretCommand: ['pass', 'show', 'okta/prod'] }]);
    expect(findLeaks(token, sandbox, [result])).toEqual([]);
  });
});
