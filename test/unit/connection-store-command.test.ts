import { describe, expect, it } from 'vitest';
import type { SecretCommandOutcome } from '../../src/connections/ports.js';
import { CliError } from '../../src/domain/errors.js';
import { REDACTED } from '../../src/domain/redact.js';
import { fakeContext, makeRecord, makeToken, type FakeContext } from '../fakes/context.js';

const ORG = 'https://acme.okta.com';
const PASS = ['pass', 'show', 'okta/prod'];
const PASS_LINE = PASS.join(' ');

/** A saved command-sourced connection "prod", the command printing a fresh token (with pass's trailing newline). */
function commandSourced(extra: Parameters<typeof fakeContext>[0] = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({
    connections: [makeRecord('prod', ORG, { secretCommand: PASS })],
    commands: { [PASS_LINE]: `${token}\n` },
    ...extra,
  });
  return { ctx, token };
}

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`);
  return error;
}

describe('resolve: the environment, then the secret command, then the keychain', () => {
  it('a command-sourced connection takes what its command prints, and never reads the keychain', async () => {
    const { ctx, token } = commandSourced({ secrets: { prod: makeToken() } });
    const connection = await ctx.connections.resolve('prod');
    expect(connection).toMatchObject({ name: 'prod', orgUrl: ORG, source: 'command', credential: { kind: 'api-token', token } });
    expect(ctx.events).toEqual(['metadata.list', `command.run ${PASS_LINE}`]);
    expect(ctx.commands.runs[0]?.timeoutMs).toBe(30_000);
  });

  it('the environment token wins over the command (which does not run)', async () => {
    const envToken = makeToken();
    const { ctx } = commandSourced({ env: { OKTA_CONNECT_PROD_TOKEN: envToken } });
    const connection = await ctx.connections.resolve('prod');
    expect(connection).toMatchObject({ source: 'env', credential: { token: envToken } });
    expect(ctx.commands.runs).toEqual([]);
  });

  it('a connection without a command reads the keychain, as before', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: token } });
    expect(await ctx.connections.resolve('prod')).toMatchObject({ source: 'keychain', credential: { token } });
    expect(ctx.commands.runs).toEqual([]);
  });

  it('--secret-timeout reaches the runner', async () => {
    const { ctx } = commandSourced();
    await ctx.connections.resolve('prod', undefined, { secretTimeoutMs: 2500 });
    expect(ctx.commands.runs[0]?.timeoutMs).toBe(2500);
  });

  it('an _ORG_URL variable pointing elsewhere is refused before the command runs (exit 2)', async () => {
    const { ctx } = commandSourced({ env: { OKTA_CONNECT_PROD_ORG_URL: 'https://evil.okta.com' } });
    const error = await failure(ctx.connections.resolve('prod'));
    expect(error.exitCode).toBe(2);
    expect(ctx.commands.runs).toEqual([]);
  });

  it('the output is registered with the redactor before it is validated', async () => {
    const printed = `${makeToken()} user: ada`;
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, `${printed}\n`);
    const error = await failure(ctx.connections.resolve('prod'));
    expect(error.exitCode).toBe(8);
    expect(error.message).toMatch(/the secret command of "prod" \(pass show okta\/prod\) printed no valid secret: .*spaces/);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain(printed.slice(0, 20));
    expect(ctx.redactor.redact(`x ${printed} y`)).toBe(`x ${REDACTED} y`);
  });

  it('each line of a multi-line output is a secret too', async () => {
    const first = makeToken();
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, `${first}\nurl: https://acme.okta.com\n`);
    await failure(ctx.connections.resolve('prod'));
    expect(ctx.redactor.redact(first)).toBe(REDACTED);
  });

  const outcomes: { outcome: SecretCommandOutcome; code: number; message: RegExp; hint: RegExp }[] = [
    { outcome: { kind: 'not-found' }, code: 8, message: /\(pass show okta\/prod\) cannot run: pass: command not found/, hint: /install pass or put it on PATH/ },
    { outcome: { kind: 'cannot-run', why: 'permission denied' }, code: 8, message: /cannot run: pass: permission denied/, hint: /executable/ },
    {
      outcome: { kind: 'exited', code: 1, lastStderrLine: 'Error: okta/prod is not in the password store.' },
      code: 8,
      message: /failed with exit code 1: Error: okta\/prod is not in the password store\.$/,
      hint: /run it yourself to see why: pass show okta\/prod/,
    },
    { outcome: { kind: 'exited', code: 127, lastStderrLine: null }, code: 8, message: /exit code 127 \(command not found\)$/, hint: /PATH/ },
    { outcome: { kind: 'killed', signal: 'SIGKILL', lastStderrLine: null }, code: 8, message: /was killed by SIGKILL$/, hint: /run it yourself/ },
    { outcome: { kind: 'timed-out', timeoutMs: 30_000 }, code: 8, message: /did not finish within 30 s, so it was stopped/, hint: /--secret-timeout/ },
    { outcome: { kind: 'too-large', limitBytes: 65_536 }, code: 8, message: /printed more than 64 KiB, so it was stopped/, hint: /head -n 1/ },
    { outcome: { kind: 'printed', stdout: '\n' }, code: 8, message: /printed nothing$/, hint: /check that the entry exists/ },
    { outcome: { kind: 'printed', stdout: 'short' }, code: 8, message: /printed no valid secret: .*too short/, hint: /was not shown/ },
    { outcome: { kind: 'interrupted' }, code: 130, message: /interrupted while the secret command of "prod"/, hint: /^$/ },
  ];
  it.each(outcomes)('$outcome.kind: exit $code, its own message and hint', async ({ outcome, code, message, hint }) => {
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, outcome);
    const error = await failure(ctx.connections.resolve('prod'));
    expect(error.exitCode).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.hint ?? '').toMatch(hint);
  });
});

describe('save, remove and the test records of a command-sourced connection', () => {
  it('save writes the metadata only: the argv, no fingerprint, nothing in the keychain', async () => {
    const token = makeToken();
    const ctx = fakeContext();
    const record = await ctx.connections.save({
      name: 'prod',
      orgUrl: ORG,
      credential: { kind: 'api-token', token },
      secretCommand: PASS,
      force: false,
      test: undefined,
    });
    expect(record).toMatchObject({ secretCommand: PASS, secretFingerprint: null });
    expect(ctx.metadata.get('prod')).toMatchObject({ secretCommand: PASS, secretFingerprint: null });
    expect(ctx.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
    expect(JSON.stringify(ctx.metadata.all())).not.toContain(token);
  });

  it('--force over a keychain connection deletes its old entry, only after the metadata is written', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: makeToken() } });
    await ctx.connections.save({ name: 'prod', orgUrl: ORG, credential: { kind: 'api-token', token: makeToken() }, secretCommand: PASS, force: true, test: undefined });
    expect(ctx.events).toEqual(['metadata.update', 'secrets.delete prod']);
    expect(ctx.secrets.entries.has('prod')).toBe(false);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
  });

  it('--force where no keychain answers still saves, with a notice for the old token left behind', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)] });
    ctx.secrets.breakAll();
    await ctx.connections.save({ name: 'prod', orgUrl: ORG, credential: { kind: 'api-token', token: makeToken() }, secretCommand: PASS, force: true, test: undefined });
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
    expect(ctx.err.plain()).toMatch(/the old token of "prod" is still in the OS keychain/);
  });

  it('without --force an existing name is refused, and nothing is written', async () => {
    const { ctx } = commandSourced();
    const error = await failure(
      ctx.connections.save({ name: 'prod', orgUrl: ORG, credential: { kind: 'api-token', token: makeToken() }, secretCommand: PASS, force: false, test: undefined }),
    );
    expect(error.exitCode).toBe(2);
    expect(ctx.metadata.updates).toBe(0);
  });

  it('remove deletes no keychain entry (one of that name belongs to something else)', async () => {
    const other = makeToken();
    const { ctx } = commandSourced({ secrets: { prod: other } });
    await ctx.connections.remove('prod');
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.secrets.entries.get('prod')).toBe(other);
    expect(ctx.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
  });

  it('saved() runs the command only when the secret is needed (remove --revoke)', async () => {
    const { ctx, token } = commandSourced();
    expect((await ctx.connections.saved('prod')).credential).toBeUndefined();
    expect(ctx.commands.runs).toEqual([]);
    expect((await ctx.connections.saved('prod', { needsSecret: true })).credential).toEqual({ kind: 'api-token', token });
  });

  it('test results and uses are recorded on it, as on a keychain connection', async () => {
    const { ctx } = commandSourced();
    const connection = await ctx.connections.resolve('prod');
    await ctx.connections.recordTests([{ connection, test: { ok: true, code: 0, latencyMs: 12, httpStatus: 200, owner: { id: '00u1', login: 'ada@acme.com' } } }]);
    expect(ctx.metadata.get('prod')).toMatchObject({ lastTest: { ok: true, latencyMs: 12 }, owner: { login: 'ada@acme.com' }, lastUsedAt: expect.any(String) as string });
  });

  it('list says source command and asks the keychain nothing for it', async () => {
    const { ctx } = commandSourced();
    const { connections, isKeychainChecked } = await ctx.connections.list(1500);
    expect(connections.map((item) => [item.name, item.source])).toEqual([['prod', 'command']]);
    expect(isKeychainChecked).toBe(true);
    expect(ctx.events).toEqual(['metadata.list']);
  });
});
