import { beforeAll, describe, expect, it } from 'vitest';
import { ADD_PROMPTS, addArgs, chooseKeychain, describeRun, expectCleanFailure, requireKeyring, secretToolLookup, storedConnection, uniqueName, startCli, useFakeOkta, usePtys, useSandbox, type Sandbox } from './harness.js';
import type { Pty } from './pty.js';

// The user's journey through mistakes (issue 11), as a new user meets it: a real terminal (tmux), a real keychain and an
// HTTPS Okta stand-in. Each test is one mistake the tool used to let through.

beforeAll(requireKeyring);
const okta = useFakeOkta({ resetAfterEach: true });
const slow = useFakeOkta();
const sandbox = useSandbox();
usePtys();

const { address: ADDRESS_PROMPT, token: TOKEN_PROMPT, menu: MENU_PROMPT } = ADD_PROMPTS;

function terminal(box: Sandbox, args: string[], width = 100): Promise<Pty> {
  return startCli(box, args, { width });
}

async function saved(name: string, token: string, orgUrl = okta.url): Promise<void> {
  const result = await sandbox.run(addArgs(name, orgUrl), { input: token });
  expect(result.code, describeRun(result)).toBe(0);
}

describe('1. a revoked token: the hint names the connection, and rotate replaces only its token', () => {
  it('test c2 on a revoked token says okta-connect rotate c2; rotate saves the new token into c2 and leaves acme alone', async () => {
    const acme = uniqueName('acme');
    const c2 = uniqueName('c2');
    const acmeToken = okta.addToken();
    const c2Token = okta.addToken();
    await saved(acme, acmeToken);
    await saved(c2, c2Token);
    okta.revoke(c2Token);
    const failed = await sandbox.run(['test', c2]);
    const error = expectCleanFailure(failed, 4);
    expect(error).toContain(c2);
    expect(failed.stderr).toContain(`okta-connect rotate ${c2}`);
    expect(failed.stderr).not.toMatch(/add --force/);

    const fresh = okta.addToken();
    const pty = await terminal(sandbox, ['rotate', c2, '--revoke-old']);
    await pty.waitFor('New API token (input masked):');
    await pty.type(fresh);
    await pty.press('Enter');
    await pty.waitFor(`rotated ${c2}`);
    expect(await pty.exitCode()).toBe(0);
    expect(secretToolLookup(c2)).toBe(fresh);
    expect(secretToolLookup(acme)).toBe(acmeToken);
    expect((await sandbox.run(['test', c2])).code).toBe(0);
    expect((await pty.rawOutput()).includes(fresh.slice(0, 12))).toBe(false);
  });

  it('add --force of an existing name in a terminal asks "replace …?" with the old address and owner; No changes nothing', async () => {
    const name = uniqueName('acme');
    const token = okta.addToken({ user: { login: 'ada-journey@example.com' } });
    await saved(name, token);
    const pty = await terminal(sandbox, ['add', name, '--force', '--org-url', okta.url]);
    await pty.waitFor(`Replace ${name} (${okta.url}, owner ada-journey@example.com)?`);
    await pty.type('n');
    await pty.press('Enter');
    await pty.waitFor('not replaced');
    expect(await pty.exitCode()).toBe(130);
    expect(secretToolLookup(name)).toBe(token);
  });
});

describe('4. the address is checked as soon as it is typed', () => {
  it('a bare subdomain and a host that is not Okta are caught at the address question, before the token', async () => {
    const box = sandbox;
    const pty = await terminal(box, ['add']);
    await pty.waitFor(ADDRESS_PROMPT);
    await pty.type('acme');
    await pty.press('Enter');
    await pty.waitFor('"acme" is not a whole address: did you mean https://acme.okta.com?');
    await pty.press('C-u');
    await pty.type('https://localhost:1');
    await pty.press('Enter');
    const screen = await pty.waitFor(/✗ localhost:1 refused the connection|✗ [^\n]*localhost:1/);
    expect(screen).not.toContain(TOKEN_PROMPT);
    await pty.waitFor(ADDRESS_PROMPT, { count: 2 });
    await pty.press('C-c');
    expect(await pty.exitCode()).toBe(130);
  });
});

describe('6. after a failed test, re-entering one value keeps the other', () => {
  it('a 401 preselects "enter the token again"; choosing the address keeps the token, which then works there', async () => {
    const name = uniqueName('retry');
    const token = okta.addToken();
    const pty = await terminal(sandbox, ['add', '--name', name, '--org-url', slow.url]);
    await chooseKeychain(pty);
    await pty.waitFor(TOKEN_PROMPT);
    await pty.type(token);
    await pty.press('Enter');
    const menu = await pty.waitFor(MENU_PROMPT);
    expect(menu).toMatch(/❯ Enter the token again/);
    await pty.press('Down');
    await pty.press('Enter');
    await pty.waitFor(ADDRESS_PROMPT);
    await pty.type(okta.url);
    await pty.press('Enter');
    await pty.waitFor(`saved ${name}`);
    expect(await pty.exitCode()).toBe(0);
    // One token prompt only: it was kept.
    expect((await pty.screen()).split(TOKEN_PROMPT).length - 1).toBe(1);
    expect(storedConnection(sandbox, name)?.orgUrl).toBe(okta.url);
    expect(secretToolLookup(name)).toBe(token);
  });

  it('Cancel exits 130 and saves nothing', async () => {
    const name = uniqueName('cancel');
    const pty = await terminal(sandbox, ['add', '--name', name, '--org-url', okta.url]);
    await chooseKeychain(pty);
    await pty.waitFor(TOKEN_PROMPT);
    await pty.type(okta.addToken().replace(/^00/, '00x'));
    await pty.press('Enter');
    await pty.waitFor(MENU_PROMPT);
    await pty.press('Down', 'Down', 'Down');
    await pty.press('Enter');
    expect(await pty.exitCode()).toBe(130);
    expect(storedConnection(sandbox, name)).toBeUndefined();
  });
});

describe('13. test --all prints each line as soon as that connection is done', () => {
  it('in a terminal, the fast connections show while a slow one is still running; then an aligned table and a summary', async () => {
    const box = sandbox;
    const fastName = uniqueName('fast');
    const slowName = uniqueName('slow');
    await saved(fastName, okta.addToken());
    await saved(slowName, slow.addToken(), slow.url);
    slow.delayMs = 2_500;
    try {
      const pty = await terminal(box, ['test', '--all', '--timeout', '60'], 160);
      const early = await pty.waitFor(new RegExp(`✓ ${fastName}`), { timeoutMs: 20_000 });
      expect(early).not.toMatch(/connections OK/);
      expect(pty.isRunning()).toBe(true);
      const done = await pty.waitFor(/connections OK/, { timeoutMs: 60_000 });
      const lines = done.split('\n').filter((line) => line.startsWith('✓ '));
      expect(new Set(lines.map((line) => line.indexOf('https://'))).size).toBe(1);
    } finally {
      slow.delayMs = 0;
    }
  }, 90_000);
});

describe('2. two config folders never touch each other\'s secrets', () => {
  it('a folder chosen with OKTA_CONNECT_CONFIG_DIR has its own keychain service: no silent replace, no orphans listed', async () => {
    const name = uniqueName('shared');
    const mine = okta.addToken();
    await saved(name, mine);
    const other = `${sandbox.home}/other-config`;
    const theirs = okta.addToken();
    const added = await sandbox.run(addArgs(name, okta.url), { input: theirs, env: { OKTA_CONNECT_CONFIG_DIR: other } });
    expect(added.code, describeRun(added)).toBe(0);
    expect(secretToolLookup(name)).toBe(mine);
    const doctor = await sandbox.run(['doctor', '--json'], { env: { OKTA_CONNECT_CONFIG_DIR: other } });
    expect(doctor.stdout).not.toMatch(/a token in the keychain with no saved connection/);
    expect((await sandbox.run(['token', name], { env: { OKTA_CONNECT_CONFIG_DIR: other } })).stdout.trim()).toBe(theirs);
  });
});

describe('10-12, 17. names the way gh and aws-vault users type them', () => {
  it('positional names, ls and rm, -v, exec without --, OKTA_CONNECT_NAME, --quiet', async () => {
    const name = uniqueName('pos');
    const token = okta.addToken();
    await saved(name, token);
    expect((await sandbox.run(['test', name])).code).toBe(0);
    expect((await sandbox.run(['token', name])).stdout.trim()).toBe(token);
    expect((await sandbox.run(['token'], { env: { OKTA_CONNECT_NAME: name } })).stdout.trim()).toBe(token);
    const exec = await sandbox.run(['exec', name, '--', 'sh', '-c', 'printf %s "$OKTA_CONNECT_CONNECTION"']);
    expect(exec.stdout).toBe(name);
    expect(expectCleanFailure(await sandbox.run(['exec', '--name', name, 'ls', '-la']), 2)).toMatch(/put -- before the command/);
    expect((await sandbox.run(['ls'])).stdout).toContain(name);
    expect((await sandbox.run(['-v'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const loud = await sandbox.run(['test', name]);
    expect(loud.stderr).toMatch(/Super Administrator/);
    const quiet = await sandbox.run(['--quiet', 'test', name]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/Super Administrator/);
    expect((await sandbox.run(['test', name], { env: { OKTA_CONNECT_QUIET: '1' } })).stderr).not.toMatch(/Super Administrator/);
    const removed = await sandbox.run(['rm', name, '--yes']);
    expect(removed.code, describeRun(removed)).toBe(0);
  });
});

describe('14. list fits the terminal', () => {
  it('at 60 columns: no line wraps, the address cut with …, OWNER gone', async () => {
    const name = uniqueName('narrow');
    await saved(name, okta.addToken());
    const pty = await terminal(sandbox, ['list'], 60);
    const screen = await pty.waitFor(name);
    expect(await pty.exitCode()).toBe(0);
    const lines = screen.split('\n').filter((line) => line.trim() !== '' && !line.includes('[pty'));
    expect(lines[0]).toMatch(/^NAME/);
    expect(lines[0]).not.toContain('OWNER');
    for (const line of lines) expect(line.trimEnd().length).toBeLessThanOrEqual(60);
  });
});

describe('16. Ctrl-C during a spinner, and No at a confirmation', () => {
  it('Ctrl-C while testing clears the spinner line and prints the usual error line (exit 130)', async () => {
    const name = uniqueName('spin');
    await saved(name, slow.addToken(), slow.url);
    slow.delayMs = 10_000;
    try {
      const pty = await terminal(sandbox, ['test', name]);
      await pty.waitFor(`testing ${name}…`);
      await pty.press('C-c');
      expect(await pty.exitCode(10_000)).toBe(130);
      const screen = await pty.screen();
      expect(screen).toMatch(/^error: interrupted: nothing was left half-written$/m);
      expect(screen).toMatch(/^hint: /m);
      expect(screen).not.toMatch(/testing [^\n]*error:/);
    } finally {
      slow.delayMs = 0;
    }
  });

  it('No at remove prints "not removed" without an error line, exit 130', async () => {
    const name = uniqueName('keep');
    await saved(name, okta.addToken());
    const pty = await terminal(sandbox, ['remove', name]);
    await pty.waitFor(`Delete the connection "${name}"`);
    await pty.type('n');
    await pty.press('Enter');
    await pty.waitFor('not removed');
    expect(await pty.exitCode()).toBe(130);
    expect(await pty.screen()).not.toMatch(/error:/);
    expect(storedConnection(sandbox, name)).toBeDefined();
  });
});
