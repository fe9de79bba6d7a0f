import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import { ADD_PROMPTS, addArgs, chooseKeychain, requireKeyring, sandboxForTest, secretToolLookup, startCli, uniqueName, useFakeOkta, usePtys, type Sandbox } from './harness.js';
import { startPty, type Pty } from './pty.js';

// The interactive flows of the contract, in a real pseudo-terminal (tmux): prompts on the terminal, masked token input,
// Ctrl-C, arrow-key menus. Every connection goes into the real Secret Service of test/run-with-keyring.sh.

beforeAll(requireKeyring);
const okta = useFakeOkta({ resetAfterEach: true });
usePtys();

const { address: ADDRESS_PROMPT, token: TOKEN_PROMPT, name: NAME_PROMPT, menu: MENU_PROMPT } = ADD_PROMPTS;
const HOW_TO = 'Security > API > Tokens > Create Token';
// A single-label host has no "-admin" sibling, so the link keeps the host as it is (acme.okta.com → acme-admin.okta.com).
const tokenPage = (): string => `https://localhost:${String(okta.port)}/admin/access/api/tokens`;

function cli(sandbox: Sandbox, args: string[], env: Record<string, string> = {}): Promise<Pty> {
  return startCli(sandbox, args, { env });
}

interface SavedRecord {
  name: string;
  orgUrl: string;
}

function savedRecords(sandbox: Sandbox): SavedRecord[] {
  const path = join(sandbox.configDir, 'connections.json');
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, 'utf8')) as { connections: SavedRecord[] }).connections;
}

/** Save a connection without a terminal, as a script would (untested: the tests below do the testing). */
async function saveConnection(sandbox: Sandbox, name: string, token: string): Promise<void> {
  const add = await sandbox.run(addArgs(name, okta.url, '--no-test'), { input: token });
  expect(add.stderr).not.toContain(token);
  expect(add.code).toBe(0);
}

/** The token must not be on the screen now, nor in anything ever sent to the terminal. */
async function expectNeverShown(pty: Pty, ...tokens: string[]): Promise<void> {
  const screen = await pty.screen();
  const raw = await pty.rawOutput();
  for (const token of tokens) {
    expect(screen).not.toContain(token);
    expect(raw).not.toContain(token);
    // A prefix catches a token split by escape sequences or echoed in part.
    expect(raw).not.toContain(token.slice(0, 12));
  }
}

/** Answer add's prompts as a user would: this org's address, the keychain, the token (until it shows masked), the name. */
async function answerAddPrompts(pty: Pty, token: string, name: string, atToken: () => void = () => undefined): Promise<void> {
  await pty.waitFor(ADDRESS_PROMPT);
  await pty.type(okta.url);
  await pty.press('Enter');
  await chooseKeychain(pty);
  await pty.waitFor(TOKEN_PROMPT);
  atToken();
  await pty.type(token);
  await pty.waitFor(`${TOKEN_PROMPT} ${'*'.repeat(token.length)}`);
  await pty.press('Enter');
  await pty.waitFor(NAME_PROMPT);
  await pty.type(name);
  await pty.press('Enter');
}

function expectInOrder(text: string, parts: string[]): void {
  const positions = parts.map((part) => ({ part, at: text.indexOf(part) }));
  for (const { part, at } of positions) expect(at, `"${part}" on the screen`).toBeGreaterThanOrEqual(0);
  expect(positions.map(({ at }) => at)).toEqual([...positions.map(({ at }) => at)].sort((a, b) => a - b));
}

describe('add in a terminal', () => {
  it('asks for the address, shows the token page, reads a masked token, then the name, and saves', async () => {
    const sandbox = sandboxForTest();
    const token = okta.addToken({ user: { login: 'ada@example.com' } });
    const name = uniqueName('tty');
    const pty = await cli(sandbox, ['add']);

    let screen = await pty.waitFor(ADDRESS_PROMPT);
    expect(screen).not.toContain(TOKEN_PROMPT);
    expect(screen).not.toContain(NAME_PROMPT);
    await pty.type(okta.url);
    await pty.press('Enter');

    await chooseKeychain(pty);
    screen = await pty.waitFor(TOKEN_PROMPT);
    expect(screen).toContain(`API address: ${okta.url}`);
    expect(screen).toContain('Create a token at https://');
    // The contract's link for this org; soft, so one wrong link does not hide the rest of the flow.
    expect.soft(screen).toContain(`Create a token at ${tokenPage()}`);
    expect(screen).toContain(HOW_TO);
    expect(screen).not.toContain(NAME_PROMPT);
    expectInOrder(screen, [ADDRESS_PROMPT, `API address: ${okta.url}`, 'Create a token at', HOW_TO, TOKEN_PROMPT]);

    await pty.type(token);
    screen = await pty.waitFor(`${TOKEN_PROMPT} ${'*'.repeat(token.length)}`);
    expect(screen).not.toContain(token);
    await pty.press('Enter');

    // The default is the org's subdomain: "localhost" for the fake.
    screen = await pty.waitFor(new RegExp(`${NAME_PROMPT} \\(localhost\\)`));
    expect(screen).not.toContain(token);
    await pty.type(name);
    await pty.press('Enter');

    expect(await pty.exitCode()).toBe(0);
    screen = await pty.waitFor(`saved ${name}`);
    expect(screen).toContain('as ada@example.com');
    expectInOrder(screen, [ADDRESS_PROMPT, `API address: ${okta.url}`, 'Create a token at', HOW_TO, TOKEN_PROMPT, NAME_PROMPT, `saved ${name}`]);
    await expectNeverShown(pty, token);

    expect(secretToolLookup(name)).toBe(token);
    expect(savedRecords(sandbox)).toEqual([expect.objectContaining({ name, orgUrl: okta.url })]);
    for (const file of sandbox.files()) expect(file.content, file.path).not.toContain(token);
  });

  it('explains invalid input and asks again, for the address, the token and the name', async () => {
    const sandbox = sandboxForTest();
    const token = okta.addToken();
    const name = uniqueName('retry');
    const pty = await cli(sandbox, ['add']);

    await pty.waitFor(ADDRESS_PROMPT);
    await pty.type('http://x.okta.com');
    await pty.press('Enter');
    await pty.waitFor('http:// is not allowed');
    expect(pty.isRunning()).toBe(true);
    expect(await pty.screen()).not.toContain(TOKEN_PROMPT);
    // Inquirer keeps the rejected text for editing: clear it, as a user would.
    await pty.press('C-u');
    await pty.type(okta.url);
    await pty.press('Enter');

    await chooseKeychain(pty);
    await pty.waitFor(TOKEN_PROMPT);
    const short = 'abc123';
    await pty.type(short);
    await pty.press('Enter');
    await pty.waitFor('the token is too short (6 characters');
    expect(await pty.screen()).not.toContain(NAME_PROMPT);
    await pty.press('C-u');
    await pty.type(token);
    await pty.waitFor(`${TOKEN_PROMPT} ${'*'.repeat(token.length)}`);
    await pty.press('Enter');

    await pty.waitFor(NAME_PROMPT);
    await pty.type('-bad name');
    await pty.press('Enter');
    await pty.waitFor('a name starts with a letter or digit');
    await pty.press('C-u');
    await pty.type(name);
    await pty.press('Enter');

    expect(await pty.exitCode()).toBe(0);
    await pty.waitFor(`saved ${name}`);
    await expectNeverShown(pty, token);
    expect(secretToolLookup(name)).toBe(token);
    expect(savedRecords(sandbox).map((record) => record.name)).toEqual([name]);
  });

  /** Go through address, an unknown token (401) and a name, up to the failed-test menu. */
  async function upToFailedTest(sandbox: Sandbox, badToken: string, name: string): Promise<Pty> {
    const pty = await cli(sandbox, ['add']);
    await answerAddPrompts(pty, badToken, name);
    const screen = await pty.waitFor(MENU_PROMPT);
    expect(screen).toMatch(/401|invalid|revoked/i);
    expectInOrder(screen, [MENU_PROMPT, 'Enter the token again', 'Enter the API address again', 'Save anyway', 'Cancel']);
    expect(secretToolLookup(name)).toBeUndefined();
    return pty;
  }

  it('after a failed test (401), "enter the token again" with a good token saves it', async () => {
    const sandbox = sandboxForTest();
    const badToken = generateToken();
    const goodToken = okta.addToken();
    const name = uniqueName('again');
    const pty = await upToFailedTest(sandbox, badToken, name);

    await pty.waitFor('❯ Enter the token again');
    await pty.press('Enter');
    // The link is shown again with the second token prompt.
    await pty.waitFor(TOKEN_PROMPT, { count: 2 });
    const screen = await pty.screen();
    expect(countOf(screen, 'Create a token at https://')).toBe(2);
    expect.soft(countOf(screen, `Create a token at ${tokenPage()}`)).toBe(2);
    await pty.type(goodToken);
    await pty.waitFor(`${TOKEN_PROMPT} ${'*'.repeat(goodToken.length)}`);
    await pty.press('Enter');
    // The name was given already: it is not asked again.

    expect(await pty.exitCode()).toBe(0);
    expect(countOf(await pty.screen(), NAME_PROMPT)).toBe(1);
    await pty.waitFor(`saved ${name}`);
    await expectNeverShown(pty, badToken, goodToken);
    expect(secretToolLookup(name)).toBe(goodToken);
    expect(savedRecords(sandbox).map((record) => record.name)).toEqual([name]);
  });

  it('after a failed test (401), "cancel" saves nothing and exits 130, as the contract says', async () => {
    const sandbox = sandboxForTest();
    const badToken = generateToken();
    const name = uniqueName('cancel');
    const pty = await upToFailedTest(sandbox, badToken, name);

    await pty.press('Down', 'Down', 'Down');
    await pty.waitFor(/❯ Cancel/);
    await pty.press('Enter');

    expect(await pty.exitCode()).toBe(130);
    const screen = await pty.waitFor('nothing was saved');
    expect(screen).not.toContain(`saved ${name}`);
    await expectNeverShown(pty, badToken);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(savedRecords(sandbox)).toEqual([]);
  });

  it('Ctrl-C at the token prompt exits 130 and saves nothing', async () => {
    const sandbox = sandboxForTest();
    const token = okta.addToken();
    const pty = await cli(sandbox, ['add']);
    await pty.waitFor(ADDRESS_PROMPT);
    await pty.type(okta.url);
    await pty.press('Enter');
    await chooseKeychain(pty);
    await pty.waitFor(TOKEN_PROMPT);
    // Half a paste, then the user gives up.
    const half = token.slice(0, 20);
    await pty.type(half);
    await pty.waitFor(`${TOKEN_PROMPT} ${'*'.repeat(half.length)}`);
    await pty.press('C-c');

    expect(await pty.exitCode()).toBe(130);
    await expectNeverShown(pty, half);
    // Nothing under the default name, nor any other.
    expect(secretToolLookup('localhost')).toBeUndefined();
    expect(savedRecords(sandbox)).toEqual([]);
    expect(existsSync(join(sandbox.configDir, 'connections.json'))).toBe(false);
  });

  it('Ctrl-C while the connection is being tested exits 130 and saves nothing', async () => {
    const sandbox = sandboxForTest();
    const token = okta.addToken();
    const name = uniqueName('int');
    const pty = await cli(sandbox, ['add']);
    // The address is checked as soon as it is typed; the test after the token is the slow one.
    await answerAddPrompts(pty, token, name, () => {
      okta.delayMs = 20_000;
    });
    await pty.waitFor(`testing ${okta.url}`);
    await pty.press('C-c');

    // Well before the fake answers: the terminal is back in cooked mode, so Ctrl-C is a SIGINT.
    expect(await pty.exitCode(10_000)).toBe(130);
    await expectNeverShown(pty, token);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(savedRecords(sandbox)).toEqual([]);
  });

  it.each([
    ['OKTA_CONNECT_NO_PROMPT', { OKTA_CONNECT_NO_PROMPT: '1' }],
    ['CI', { CI: 'true' }],
  ])('with %s set in a terminal, does not prompt and exits 2 naming the missing flags', async (_label, env) => {
    const sandbox = sandboxForTest();
    const pty = await cli(sandbox, ['add'], env);

    expect(await pty.exitCode(10_000)).toBe(2);
    const screen = await pty.screen();
    expect(screen).toContain('--org-url');
    expect(screen).toContain('--token-stdin');
    expect(screen).toContain('--name');
    expect(screen).not.toContain(ADDRESS_PROMPT);
    expect(savedRecords(sandbox)).toEqual([]);
  });
});

function countOf(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('test without --name in a terminal', () => {
  it('offers the saved names and tests the one chosen', async () => {
    const sandbox = sandboxForTest();
    const first = uniqueName('a');
    const second = uniqueName('b');
    await saveConnection(sandbox, first, okta.addToken({ user: { login: 'first@example.com' } }));
    await saveConnection(sandbox, second, okta.addToken({ user: { login: 'second@example.com' } }));

    const pty = await cli(sandbox, ['test']);
    const screen = await pty.waitFor('Which connection?');
    expectInOrder(screen, [`${first}  ${okta.url}`, `${second}  ${okta.url}`]);
    await pty.press('Down');
    await pty.waitFor(`❯ ${second}`);
    await pty.press('Enter');

    expect(await pty.exitCode()).toBe(0);
    const done = await pty.waitFor(`✓ ${second}  ${okta.url}  as second@example.com`);
    expect(done).not.toContain('first@example.com');
    const record = savedRecords(sandbox).find((saved) => saved.name === second) as { lastTest: { ok: boolean } | null } | undefined;
    expect(record?.lastTest?.ok).toBe(true);
  });

  it('with nothing saved, says so instead of offering an empty list (exit 3)', async () => {
    const sandbox = sandboxForTest();
    const pty = await cli(sandbox, ['test']);
    expect(await pty.exitCode()).toBe(3);
    const screen = await pty.screen();
    expect(screen).toContain('no connections are saved');
    expect(screen).not.toContain('Which connection?');
  });
});

describe('the pty driver', () => {
  it('sees what the terminal echoes, so the leak checks above can fail', async () => {
    const sandbox = sandboxForTest();
    const secret = generateToken();
    // A program that reads a line without turning echo off: the line discipline echoes what is typed.
    const pty = await startPty({
      env: sandbox.env,
      cwd: sandbox.cwd,
      command: [process.execPath, '-e', 'process.stdin.once("data", () => { process.exit(3); })'],
    });
    await pty.type(secret);
    await pty.press('Enter');
    expect(await pty.exitCode()).toBe(3);
    expect(await pty.screen()).toContain(secret);
    expect(await pty.rawOutput()).toContain(secret);
  });
});

describe('remove in a terminal', () => {
  it('asks for confirmation: no keeps the connection, yes removes it', async () => {
    const sandbox = sandboxForTest();
    const name = uniqueName('rm');
    const token = okta.addToken();
    await saveConnection(sandbox, name, token);

    const declined = await cli(sandbox, ['remove', '--name', name]);
    await declined.waitFor(`Delete the connection "${name}" (${okta.url})?`);
    await declined.type('n');
    await declined.press('Enter');
    expect(await declined.exitCode()).not.toBe(0);
    expect(secretToolLookup(name)).toBe(token);
    expect(savedRecords(sandbox).map((record) => record.name)).toEqual([name]);
    await declined.close();

    const accepted = await cli(sandbox, ['remove', '--name', name]);
    await accepted.waitFor(`Delete the connection "${name}" (${okta.url})?`);
    await accepted.type('y');
    await accepted.press('Enter');
    expect(await accepted.exitCode()).toBe(0);
    await accepted.waitFor(`removed ${name}`);
    await expectNeverShown(accepted, token);
    expect(secretToolLookup(name)).toBeUndefined();
    expect(savedRecords(sandbox)).toEqual([]);
  });
});
