import { describe, expect, it } from 'vitest';
import { run } from '../../../src/main.js';
import { CliError, NetworkError } from '../../../src/domain/errors.js';
import {
  CTRL_C,
  NEVER_ENDING,
  fakeContext,
  makeRecord,
  makeToken,
  type FakeContext,
  type FakeContextOptions,
} from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const STACK_LINE = /^\s+at /m;
const BUG_HINT = /^hint: this is a bug in okta-connect: please report it/m;

/** `prod` saved at ORG with a token that works. */
function withProd(extra: FakeContextOptions = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token }, ...extra });
  ctx.gateway.token(ORG, token);
  return { ctx, token };
}

/** stderr as lines, spinner and colour removed. */
function errLines(ctx: FakeContext): string[] {
  return ctx.err.plain().split('\n').filter((line) => line !== '');
}

describe('run: help and version', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the usage on stdout and exits 0', async (flag) => {
    const ctx = fakeContext();
    expect(await run([flag], () => ctx, ctx.version)).toBe(0);
    expect(ctx.out.text()).toMatch(/^Usage: okta-connect/);
    for (const command of ['add', 'test', 'list', 'remove']) expect(ctx.out.text()).toContain(command);
    expect(ctx.err.text()).toBe('');
  });

  it.each([['--version'], ['-v']])('%s prints the version and exits 0', async (flag) => {
    const ctx = fakeContext({ version: '1.2.3' });
    expect(await run([flag], () => ctx, ctx.version)).toBe(0);
    expect(ctx.out.text()).toBe('1.2.3\n');
  });

  it.each(['add', 'test', 'list', 'remove'])('%s --help exits 0 with an example', async (command) => {
    const ctx = fakeContext();
    expect(await run([command, '--help'], () => ctx, ctx.version)).toBe(0);
    expect(ctx.out.text()).toMatch(new RegExp(`^Usage: okta-connect ${command}`));
    expect(ctx.out.text()).toMatch(new RegExp(`Examples?:\\n\\s+okta-connect ${command}`));
    expect(ctx.err.text()).toBe('');
  });

  it('add --help says how to give the token, never as an argument', async () => {
    const ctx = fakeContext();
    await run(['add', '--help'], () => ctx, ctx.version);
    expect(ctx.out.text()).toContain('--token-stdin');
    expect(ctx.out.text()).not.toMatch(/--token </);
  });
});

describe('run: usage errors from commander', () => {
  it.each([
    { case: 'unknown option', argv: ['list', '--bogus'], says: /unknown option '--bogus'/ },
    { case: 'unknown command', argv: ['frobnicate'], says: /unknown command 'frobnicate'/ },
    { case: 'missing option value', argv: ['test', '--name'], says: /--name <name>.*missing/ },
    { case: 'extra argument', argv: ['list', 'extra'], says: /too many arguments/ },
  ])('$case: exit 2, one error line and one hint line', async ({ argv, says }) => {
    const ctx = fakeContext();
    expect(await run(argv, () => ctx, ctx.version)).toBe(2);
    const lines = errLines(ctx);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(says);
    expect(lines[0]).not.toMatch(/^error: error:/);
    expect(lines[1]).toMatch(/^hint: \S/);
    expect(ctx.out.text()).toBe('');
  });

  it.each([
    { case: '--token <value>', argv: (token: string) => ['add', '--name', 'prod', '--token', token] },
    { case: '--token=<value>', argv: (token: string) => ['add', '--token=' + token, '--org-url', ORG] },
    { case: '--token on test', argv: (token: string) => ['test', '--name', 'prod', '--token', token] },
  ])('$case: exit 2, says why there is no --token flag, never echoes the value', async ({ argv }) => {
    const token = makeToken();
    const ctx = fakeContext();
    expect(await run(argv(token), () => ctx, ctx.version)).toBe(2);
    const [error, hint] = errLines(ctx);
    expect(error).toMatch(/^error: there is no --token flag/);
    expect(error).toMatch(/ps/);
    expect(error).toMatch(/shell history/);
    expect(hint).toMatch(/^hint: .*--token-stdin/);
    expect(ctx.err.text() + ctx.out.text()).not.toContain(token);
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it.each([
    { case: '--token-stdin=<value>', argv: (token: string) => ['add', `--token-stdin=${token}`] },
    { case: 'a mistyped --tokn=<value>', argv: (token: string) => ['add', `--tokn=${token}`] },
  ])('$case: exit 2 and the value is not echoed', async ({ argv }) => {
    const token = makeToken();
    const ctx = fakeContext();
    expect(await run(argv(token), () => ctx, ctx.version)).toBe(2);
    expect(errLines(ctx)[0]).toMatch(/^error: /);
    expect(ctx.err.text() + ctx.out.text()).not.toContain(token);
  });
});

describe('run: the error printer', () => {
  it('prints "error: …" and "hint: …" on stderr, no stack trace, and returns the code', async () => {
    const { ctx } = withProd();
    expect(await run(['test', '--name', 'nope'], () => ctx, ctx.version)).toBe(3);
    const lines = errLines(ctx);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: no connection named "nope"/);
    expect(lines[1]).toMatch(/^hint: /);
    expect(ctx.err.text()).not.toMatch(STACK_LINE);
    expect(ctx.out.text()).toBe('');
  });

  it.each([
    { case: '--debug', argv: ['--debug', 'test', '--name', 'nope'], env: {} },
    { case: '--debug after the command', argv: ['test', '--name', 'nope', '--debug'], env: {} },
    { case: 'DEBUG=okta-connect', argv: ['test', '--name', 'nope'], env: { DEBUG: 'other,okta-connect' } },
  ])('with $case the stack trace follows', async ({ argv, env }) => {
    const { ctx } = withProd({ env });
    expect(await run(argv, () => ctx, ctx.version)).toBe(3);
    expect(errLines(ctx)[0]).toMatch(/^error: no connection named "nope"/);
    expect(errLines(ctx)[1]).toMatch(/^hint: /);
    expect(ctx.err.text()).toMatch(STACK_LINE);
  });

  it('a failed test through run prints the one-line error and returns its code', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token } });
    ctx.gateway.org(ORG); // 401
    expect(await run(['test', '--name', 'prod'], () => ctx, ctx.version)).toBe(4);
    const lines = errLines(ctx);
    expect(lines[0]).toMatch(/^error: prod: .*401/);
    expect(lines[1]).toMatch(/^hint: /);
    expect(ctx.err.text()).not.toContain(token);
  });

  it('removes every secret seen in this run from the message and the hint, and keeps them on one line', async () => {
    const { ctx, token } = withProd();
    ctx.gateway.token(ORG, token, {
      whoAmIError: new NetworkError(`cannot reach acme.okta.com with\nSSWS ${token}`, { hint: `retry without ${token}` }),
    });
    expect(await run(['test', '--name', 'prod'], () => ctx, ctx.version)).toBe(6);
    const lines = errLines(ctx);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: .*cannot reach acme\.okta\.com with SSWS \[REDACTED\]$/);
    expect(lines[1]).toBe('hint: retry without [REDACTED]');
    expect(ctx.err.text()).not.toContain(token);
  });

  it('an SDK TypeError carrying the token is exit 1, redacted, with the bug hint (and a redacted stack with --debug)', async () => {
    for (const debug of [false, true]) {
      const { ctx, token } = withProd();
      const sdkError = new TypeError(`Invalid character in header content ["authorization"]: SSWS ${token}`);
      ctx.gateway.token(ORG, token, { whoAmIError: sdkError });
      expect(await run([...(debug ? ['--debug'] : []), 'test', '--name', 'prod'], () => ctx, ctx.version)).toBe(1);
      expect(errLines(ctx)[0]).toMatch(/^error: .*SSWS \[REDACTED\]/);
      expect(ctx.err.text()).toMatch(BUG_HINT);
      expect(ctx.err.text()).not.toContain(token);
      expect(STACK_LINE.test(ctx.err.text())).toBe(debug);
    }
  });

  it('an unexpected throw (not a CliError) is exit 1 with the bug hint, no stack unless --debug', async () => {
    for (const debug of [false, true]) {
      const ctx = fakeContext();
      ctx.metadata.failList = new TypeError("Cannot read properties of undefined (reading 'name')");
      expect(await run([...(debug ? ['--debug'] : []), 'list'], () => ctx, ctx.version)).toBe(1);
      const lines = errLines(ctx);
      expect(lines[0]).toBe("error: Cannot read properties of undefined (reading 'name')");
      expect(lines[1]).toMatch(BUG_HINT);
      expect(STACK_LINE.test(ctx.err.text())).toBe(debug);
      expect(ctx.out.text()).toBe('');
    }
  });

  it('an internal CliError keeps its own hint', async () => {
    const ctx = fakeContext();
    ctx.metadata.failList = new CliError(1, 'unexpected error from the Okta SDK', { hint: 'run again with --debug and report it' });
    expect(await run(['list'], () => ctx, ctx.version)).toBe(1);
    expect(errLines(ctx)).toEqual(['error: unexpected error from the Okta SDK', 'hint: run again with --debug and report it']);
  });
});

describe('run: commands end to end over the fakes', () => {
  it('add without a terminal: flags and stdin save the connection, exit 0', async () => {
    const token = makeToken();
    const ctx = fakeContext({ stdin: `${token}\n` });
    ctx.gateway.token(ORG, token);
    expect(await run(['add', '--name', 'prod', '--org-url', ORG, '--token-stdin'], () => ctx, ctx.version)).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.out.plain()).toMatch(/^✓ saved prod/);
    expect(ctx.err.text() + ctx.out.text()).not.toContain(token);
  });

  it('add without a terminal and without flags: exit 2 naming the flags, no wait for input', async () => {
    const ctx = fakeContext({ stdin: NEVER_ENDING });
    expect(await run(['add'], () => ctx, ctx.version)).toBe(2);
    expect(errLines(ctx)[0]).toMatch(/^error: missing --org-url.*--token-stdin.*--name/);
    expect(ctx.stdin.wasRead).toBe(false);
  });

  it('add in a terminal asks and saves, exit 0', async () => {
    const token = makeToken();
    const ctx = fakeContext({ tty: true, answers: ['acme.okta.com', 'keychain', token, 'prod'] });
    ctx.gateway.token(ORG, token);
    expect(await run(['add'], () => ctx, ctx.version)).toBe(0);
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.err.text() + ctx.out.text()).not.toContain(token);
  });

  it('Ctrl-C at a prompt is exit 130 with one error line', async () => {
    const ctx = fakeContext({ tty: true, answers: [CTRL_C] });
    expect(await run(['add'], () => ctx, ctx.version)).toBe(130);
    expect(errLines(ctx).filter((line) => line.startsWith('error: '))).toHaveLength(1);
    expect(ctx.err.text()).not.toMatch(STACK_LINE);
    expect(ctx.metadata.all()).toEqual([]);
  });

  it('the exit code a command returns (not throws) is passed through: test --all', async () => {
    const { ctx } = withProd();
    expect(await run(['test', '--all'], () => ctx, ctx.version)).toBe(0);
    const failing = withProd({ connections: [makeRecord('prod', ORG), makeRecord('zz', 'https://other.okta.com')] });
    failing.ctx.secrets.entries.set('zz', makeToken());
    failing.ctx.gateway.org('https://other.okta.com'); // zz's token is unknown there: 401
    expect(await run(["test", "--all"], () => failing.ctx, failing.ctx.version)).toBe(4);
  });

  it('--no-color is accepted before the command', async () => {
    const { ctx } = withProd();
    expect(await run(['--no-color', 'list'], () => ctx, ctx.version)).toBe(0);
    expect(ctx.out.text()).toMatch(/^NAME/);
  });

  it('remove without a terminal and without --yes: exit 2 through run', async () => {
    const { ctx } = withProd();
    expect(await run(['remove', '--name', 'prod'], () => ctx, ctx.version)).toBe(2);
    expect(ctx.metadata.get('prod')).toBeDefined();
  });

  it('list --json through run', async () => {
    const { ctx, token } = withProd();
    expect(await run(['list', '--json'], () => ctx, ctx.version)).toBe(0);
    expect(JSON.parse(ctx.out.text())).toMatchObject([{ name: 'prod', orgUrl: ORG, source: 'keychain' }]);
    expect(ctx.out.text()).not.toContain(token);
  });
});
