import { describe, expect, it } from 'vitest';
import { doctorOptionsSchema, doctorRun } from '../../../src/commands/doctor.js';
import { execOptionsSchema, execRun } from '../../../src/commands/exec.js';
import { listOptionsSchema, listRun } from '../../../src/commands/list.js';
import { removeOptionsSchema, removeRun } from '../../../src/commands/remove.js';
import { testOptionsSchema, testRun } from '../../../src/commands/test.js';
import { tokenOptionsSchema, tokenRun } from '../../../src/commands/token.js';
import { parseOptions } from '../../../src/domain/options.js';
import { exitOf, fakeContext, makeRecord, makeToken, visibleText, type FakeContext, type FakeContextOptions } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const PASS = ['pass', 'show', 'okta/prod'];
const PASS_LINE = PASS.join(' ');

/** A saved command-sourced connection "prod" whose command prints a token that works at ORG. */
function commandSourced(extra: FakeContextOptions = {}): { ctx: FakeContext; token: string } {
  const token = makeToken();
  const ctx = fakeContext({ connections: [makeRecord('prod', ORG, { secretCommand: PASS })], commands: { [PASS_LINE]: `${token}\n` }, ...extra });
  ctx.gateway.token(ORG, token);
  return { ctx, token };
}

describe('use time: test, token, exec, remove --revoke run the command', () => {
  it('test: the command runs, the token it printed is tested, the result recorded', async () => {
    const { ctx, token } = commandSourced();
    const { code } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.gateway.tokensSent()).toContain(token);
    expect(ctx.out.plain()).toMatch(/^✓ prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com/);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: true });
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('test: a rejected token says to update it in the secret manager', async () => {
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, makeToken());
    const { code, error } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { name: 'prod' })));
    expect(code).toBe(4);
    expect(error?.hint).toMatch(/the token came from pass show okta\/prod: update it in your secret manager/);
  });

  it('test --secret-timeout reaches the command; a failure is exit 8', async () => {
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, { kind: 'timed-out', timeoutMs: 2000 });
    const { code, error } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { name: 'prod', secretTimeout: '2' })));
    expect(code).toBe(8);
    expect(ctx.commands.runs[0]?.timeoutMs).toBe(2000);
    expect(error?.message).toMatch(/did not finish within 2 s/);
    expect(ctx.gateway.calls).toEqual([]);
  });

  it('test --all: a keychain, an environment and a command-sourced connection, each from its own place', async () => {
    const [keychainToken, envToken, commandToken] = [makeToken(), makeToken(), makeToken()];
    const ctx = fakeContext({
      env: { OKTA_CONNECT_CI_TOKEN: envToken, OKTA_CONNECT_CI_ORG_URL: ORG },
      connections: [makeRecord('kc', ORG), makeRecord('prod', ORG, { secretCommand: PASS })],
      secrets: { kc: keychainToken },
      commands: { [PASS_LINE]: commandToken },
    });
    ctx.gateway.token(ORG, keychainToken).token(ORG, envToken).token(ORG, commandToken);
    const { code } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { all: true })));
    expect(code).toBe(0);
    expect(ctx.out.plain().split('\n').filter(Boolean).map((line) => line.split('  ')[0])).toEqual(['✓ ci', '✓ kc', '✓ prod']);
    expect(ctx.err.plain()).toMatch(/3 of 3 connections OK/);
    expect(new Set(ctx.gateway.tokensSent())).toEqual(new Set([envToken, keychainToken, commandToken]));
    expect(ctx.commands.runs).toHaveLength(1);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: true });
  });

  it('token prints what the command printed, and nothing else', async () => {
    const { ctx, token } = commandSourced();
    const { code } = await exitOf(() => tokenRun(ctx, parseOptions(tokenOptionsSchema, { name: 'prod' })));
    expect(code).toBe(0);
    expect(ctx.out.text()).toBe(`${token}\n`);
  });

  it('exec: a failing command stops before the child starts (exit 8)', async () => {
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, { kind: 'exited', code: 1, lastStderrLine: 'Error: okta/prod is not in the password store.' });
    const { code, error } = await exitOf(() => execRun(ctx, parseOptions(execOptionsSchema, { name: 'prod' }), ['okta-connect-no-such-child']));
    expect(code).toBe(8);
    expect(error?.message).toMatch(/failed with exit code 1: Error: okta\/prod is not in the password store\./);
  });

  it('remove runs no command; remove --revoke runs it, revokes, and says the token is still in the secret manager', async () => {
    const { ctx } = commandSourced();
    expect((await exitOf(() => removeRun(ctx, parseOptions(removeOptionsSchema, { name: 'prod', yes: true })))).code).toBe(0);
    expect(ctx.commands.runs).toEqual([]);

    const { ctx: revoking, token } = commandSourced();
    const { code } = await exitOf(() => removeRun(revoking, parseOptions(removeOptionsSchema, { name: 'prod', yes: true, revoke: true })));
    expect(code).toBe(0);
    expect(revoking.gateway.calls.find((call) => call.op === 'revokeCurrentToken')?.token).toBe(token);
    expect(revoking.err.plain()).toMatch(/the revoked token is still in your secret manager \(pass show okta\/prod prints it\)/);
    expect(revoking.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
  });

  it('remove --revoke with a failing command removes nothing (exit 8)', async () => {
    const { ctx } = commandSourced();
    ctx.commands.set(PASS_LINE, { kind: 'not-found' });
    const { code } = await exitOf(() => removeRun(ctx, parseOptions(removeOptionsSchema, { name: 'prod', yes: true, revoke: true })));
    expect(code).toBe(8);
    expect(ctx.metadata.get('prod')).toBeDefined();
  });
});

describe('list and doctor', () => {
  it('list: SOURCE command; --json adds secretCommand (the argv) to that connection only', async () => {
    const { ctx } = commandSourced({ secrets: { kc: makeToken() } });
    ctx.metadata.put(makeRecord('kc', ORG));
    await listRun(ctx, parseOptions(listOptionsSchema, {}));
    expect(ctx.out.plain()).toMatch(/\nprod .* command\n/);
    const json = fakeContext({ connections: ctx.metadata.all(), secrets: { kc: makeToken() }, commands: {} });
    await listRun(json, parseOptions(listOptionsSchema, { json: true }));
    const items = JSON.parse(json.out.text()) as Record<string, unknown>[];
    expect(items.map((item) => [item.name, item.source, item.secretCommand])).toEqual([
      ['kc', 'keychain', undefined],
      ['prod', 'command', PASS],
    ]);
    expect(json.commands.runs).toEqual([]);
  });

  it('doctor runs each command once and says whether it printed a valid token, never what', async () => {
    const { ctx, token } = commandSourced();
    ctx.metadata.put(makeRecord('gone', ORG, { secretCommand: ['pass', 'show', 'okta/gone'] }));
    const { code } = await exitOf(() => doctorRun(ctx, parseOptions(doctorOptionsSchema, { json: true })));
    expect(code).toBe(1);
    const { checks } = JSON.parse(ctx.out.text()) as { checks: { name: string; status: string; message: string }[] };
    expect(checks.find((check) => check.name === 'connection prod')).toMatchObject({ status: 'ok', message: `${ORG}, pass show okta/prod printed a valid token` });
    expect(checks.find((check) => check.name === 'connection gone')).toMatchObject({ status: 'fail', message: expect.stringMatching(/command not found/) as string });
    expect(ctx.commands.runs.map((run) => run.argv[2])).toEqual(['okta/gone', 'okta/prod']);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('doctor: with every connection command-sourced, a missing keychain is a warning, not a failure', async () => {
    const { ctx } = commandSourced();
    ctx.secrets.breakAll();
    const { code } = await exitOf(() => doctorRun(ctx, parseOptions(doctorOptionsSchema, { json: true })));
    expect(code).toBe(0);
    const { checks } = JSON.parse(ctx.out.text()) as { checks: { name: string; status: string; message: string }[] };
    expect(checks.find((check) => check.name === 'keychain')).toMatchObject({ status: 'warn', message: expect.stringMatching(/no saved connection needs it/) as string });
  });
});
