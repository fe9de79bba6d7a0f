import { describe, expect, it } from 'vitest';
import { addOptionsSchema, addRun } from '../../../src/commands/add.js';
import { doctorOptionsSchema, doctorRun } from '../../../src/commands/doctor.js';
import { execOptionsSchema, execRun } from '../../../src/commands/exec.js';
import { listOptionsSchema, listRun } from '../../../src/commands/list.js';
import { removeOptionsSchema, removeRun } from '../../../src/commands/remove.js';
import { rotateOptionsSchema, rotateRun } from '../../../src/commands/rotate.js';
import { testOptionsSchema, testRun } from '../../../src/commands/test.js';
import { tokenOptionsSchema, tokenRun } from '../../../src/commands/token.js';
import { UsageError } from '../../../src/domain/errors.js';
import { parseOptions } from '../../../src/domain/options.js';
import { run } from '../../../src/main.js';
import { NEVER_ENDING, exitOf, fakeContext, makeRecord, makeToken, visibleText, type FakeContext, type FakeContextOptions } from '../../fakes/context.js';

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
    expect(ctx.out.plain().split('\n').filter(Boolean).map((line) => line.split('  ')[0]).sort()).toEqual(['✓ ci', '✓ kc', '✓ prod']);
    expect(ctx.err.plain()).toMatch(/3 of 3 connections OK/);
    expect(new Set(ctx.gateway.tokensSent())).toEqual(new Set([envToken, keychainToken, commandToken]));
    expect(ctx.commands.runs).toHaveLength(1);
    expect(ctx.metadata.get('prod')?.lastTest).toMatchObject({ ok: true });
  });

  it('test --all --secret-timeout reaches every command through testMany; a rejected one says where to update it', async () => {
    const [good, revoked] = [makeToken(), makeToken()];
    const ctx = fakeContext({
      connections: [makeRecord('prod', ORG, { secretCommand: PASS }), makeRecord('stage', ORG, { secretCommand: ['pass', 'show', 'okta/stage'] })],
      commands: { [PASS_LINE]: good, 'pass show okta/stage': revoked },
    });
    ctx.gateway.token(ORG, good);
    const { code } = await exitOf(() => testRun(ctx, parseOptions(testOptionsSchema, { all: true, secretTimeout: '3' })));
    expect(code).toBe(4);
    expect(ctx.commands.runs.map((entry) => entry.timeoutMs)).toEqual([3000, 3000]);
    expect(ctx.err.plain()).toMatch(/hint: .*the token came from pass show okta\/stage: update it in your secret manager/);
    expect(ctx.err.plain()).not.toMatch(/rotate stage/);
  });

  it('doctor --test --secret-timeout runs each command once, within that time, and never says rotate for one', async () => {
    const { ctx } = commandSourced();
    ctx.metadata.put(makeRecord('stage', ORG, { secretCommand: ['pass', 'show', 'okta/stage'] }));
    ctx.commands.set('pass show okta/stage', makeToken());
    const { code } = await exitOf(() => doctorRun(ctx, parseOptions(doctorOptionsSchema, { json: true, test: true, secretTimeout: '4' })));
    expect(code).toBe(1);
    expect(ctx.commands.runs.map((entry) => [entry.argv[2], entry.timeoutMs])).toEqual([
      ['okta/prod', 4000],
      ['okta/stage', 4000],
    ]);
    const { checks } = JSON.parse(ctx.out.text()) as { checks: { name: string; status: string; fix: string | null }[] };
    expect(checks.find((check) => check.name === 'test prod')).toMatchObject({ status: 'ok' });
    expect(checks.find((check) => check.name === 'test stage')).toMatchObject({
      status: 'fail',
      fix: 'update the token in your secret manager (pass show okta/stage prints it), then: okta-connect test stage',
    });
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
    expect(checks.find((check) => check.name === 'connection prod')).toMatchObject({ status: 'ok', message: `${ORG}, pass show okta/prod printed a valid token; never tested` });
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

describe('rotate a command-sourced connection', () => {
  it('exit 2: the secret lives in the secret manager, and how to update it there; nothing read, run or changed', async () => {
    const { ctx } = commandSourced({ stdin: `${makeToken()}\n` });
    const before = JSON.stringify(ctx.metadata.all());
    const { code, error } = await exitOf(() => rotateRun(ctx, parseOptions(rotateOptionsSchema, { name: 'prod', tokenStdin: true, revokeOld: true })));
    expect(code).toBe(2);
    expect(error?.message).toBe('"prod" has no token here to rotate: pass show okta/prod prints it, so the secret lives in your secret manager');
    expect(error?.hint).toMatch(/store the new token in your secret manager where pass show okta\/prod reads it \(pass insert --force okta\/prod\), then check it: okta-connect test prod/);
    expect(ctx.stdin.wasRead).toBe(false);
    expect(ctx.commands.runs).toEqual([]);
    expect(ctx.gateway.calls).toEqual([]);
    expect(ctx.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
    expect(JSON.stringify(ctx.metadata.all())).toBe(before);
  });

  it('the store refuses to replace its secret too (a connection that became command-sourced while rotate ran)', async () => {
    const { ctx } = commandSourced();
    const replacing = ctx.connections.replaceSecret({
      name: 'prod',
      orgUrl: ORG,
      credential: { kind: 'api-token', token: makeToken() },
      test: { ok: true, code: 0, latencyMs: 1, httpStatus: 200, owner: null },
    });
    await expect(replacing).rejects.toBeInstanceOf(UsageError);
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
  });
});

describe('add --secret-command', () => {
  const addLine = ['add', '--name', 'prod', '--org-url', ORG, '--secret-command', '--', ...PASS];

  /** The whole command line through main.run, as a user types it. */
  async function add(ctx: FakeContext, argv: string[]): Promise<number> {
    return run(argv, () => ctx, ctx.version);
  }

  it('runs the command once, tests what it printed, saves the metadata only', async () => {
    const token = makeToken();
    const ctx = fakeContext({ commands: { [PASS_LINE]: `${token}\n` } });
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, addLine)).toBe(0);
    expect(ctx.commands.runs.map((entry) => entry.argv)).toEqual([PASS]);
    expect(ctx.gateway.tokensSent()).toContain(token);
    expect(ctx.metadata.get('prod')).toMatchObject({ secretCommand: PASS, secretFingerprint: null, lastTest: { ok: true } });
    expect(ctx.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
    expect(ctx.out.plain()).toMatch(/^✓ saved prod {2}https:\/\/acme\.okta\.com {2}as ada@acme\.com/);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('needs no keychain: with none reachable, it saves (the keychain is not checked first)', async () => {
    const token = makeToken();
    const ctx = fakeContext({ commands: { [PASS_LINE]: token } });
    ctx.secrets.breakAll();
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, addLine)).toBe(0);
    expect(ctx.metadata.get('prod')).toMatchObject({ secretCommand: PASS });
    expect(ctx.err.plain()).not.toMatch(/keychain/);
  });

  it('the name may come before the options, as for add without a command', async () => {
    const token = makeToken();
    const ctx = fakeContext({ commands: { [PASS_LINE]: token } });
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, ['add', 'prod', '--org-url', ORG, '--secret-command', '--', ...PASS])).toBe(0);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
  });

  it('--json prints the list --json element: source command, secretCommand', async () => {
    const token = makeToken();
    const ctx = fakeContext({ commands: { [PASS_LINE]: token } });
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, ['add', '--json', '--name', 'prod', '--org-url', ORG, '--secret-timeout', '5', '--secret-command', '--', ...PASS])).toBe(0);
    expect(JSON.parse(ctx.out.text())).toMatchObject({ name: 'prod', source: 'command', secretCommand: PASS });
    expect(ctx.commands.runs[0]?.timeoutMs).toBe(5000);
  });

  it('the words after -- are the command, options among them too', async () => {
    const token = makeToken();
    const line = ['sh', '-c', 'pass show okta/prod | head -n 1', '--name', 'x'];
    const ctx = fakeContext({ commands: { [line.join(' ')]: token } });
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, ['add', '--name', 'prod', '--org-url', ORG, '--secret-command', '--', ...line])).toBe(0);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(line);
  });

  it.each([
    { case: 'an argv holding a token', argv: (token: string) => ['add', '--name', 'p', '--org-url', ORG, '--secret-command', '--', 'echo', token], why: /argument 1 of the secret command looks like an API token/ },
    { case: '--secret-command without --', argv: () => ['add', '--name', 'p', '--org-url', ORG, '--secret-command'], why: /needs the command after --/ },
    { case: 'a command without --secret-command', argv: () => ['add', '--name', 'p', '--org-url', ORG, '--', 'pass'], why: /needs --secret-command/ },
    { case: 'an empty command', argv: () => ['add', '--name', 'p', '--org-url', ORG, '--secret-command', '--'], why: /the secret command is empty/ },
    // A token where the name goes (add [name]): refused as a token, as add without --secret-command does (CONTRACT: say so).
    { case: 'a token before --', argv: (token: string) => ['add', token, '--secret-command', '--', 'pass'], why: /an argument looks like an API token/ },
    { case: 'two arguments before --', argv: (token: string) => ['add', 'p', `x${token}`, '--secret-command', '--', 'pass'], why: /too many arguments: add takes one name/ },
    {
      case: '--oauth with a second key source',
      argv: () => ['add', '--oauth', '--name', 'p', '--org-url', ORG, '--client-id', '0oa1234567890abcdefg', '--scopes', 'okta.users.read', '--generate-key', '--secret-command', '--', 'pass'],
      why: /--secret-command and --private-key-file, --token-stdin or --generate-key are two places for the key/,
    },
    { case: '--token-stdin too', argv: () => ['add', '--name', 'p', '--org-url', ORG, '--token-stdin', '--secret-command', '--', 'pass'], why: /two places for the token/ },
  ])('refuses $case: exit 2, nothing run, the value never shown', async ({ argv, why }) => {
    const token = makeToken();
    const ctx = fakeContext();
    expect(await add(ctx, argv(token))).toBe(2);
    expect(ctx.err.plain()).toMatch(why);
    expect(ctx.commands.runs).toEqual([]);
    expect(ctx.metadata.all()).toEqual([]);
    expect(visibleText(ctx)).not.toContain(token);
  });

  it('a failing command saves nothing (exit 8); so does a failed test (its code)', async () => {
    const failing = fakeContext({ commands: { [PASS_LINE]: { kind: 'exited', code: 1, lastStderrLine: 'Error: okta/prod is not in the password store.' } } });
    expect(await add(failing, addLine)).toBe(8);
    expect(failing.err.plain()).toMatch(/^error: the secret command of "prod" \(pass show okta\/prod\) failed with exit code 1: Error: okta\/prod is not in the password store\.: nothing was saved$/m);
    expect(failing.metadata.all()).toEqual([]);

    const rejected = fakeContext({ commands: { [PASS_LINE]: makeToken() } });
    rejected.gateway.org(ORG);
    expect(await add(rejected, addLine)).toBe(4);
    expect(rejected.metadata.all()).toEqual([]);
  });

  it('--force over a keychain connection: metadata first, then its old keychain entry goes', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG)], secrets: { prod: makeToken() }, commands: { [PASS_LINE]: token } });
    ctx.gateway.token(ORG, token);
    expect(await add(ctx, [...addLine.slice(0, 5), '--force', ...addLine.slice(5)])).toBe(0);
    expect(ctx.events.slice(ctx.events.indexOf('metadata.update'))).toEqual(['metadata.update', 'secrets.delete prod']);
    expect(ctx.secrets.entries.has('prod')).toBe(false);
  });

  it('in a terminal: where is the token kept? a command, typed, split without a shell, run and tested', async () => {
    const token = makeToken();
    const ctx = fakeContext({ tty: true, stdin: NEVER_ENDING, answers: ['acme.okta.com', 'command', `echo ${token}`, "sh -c 'pass show okta/prod | head -n 1'", 'prod'] });
    ctx.commands.set("sh -c pass show okta/prod | head -n 1", token);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, parseOptions(addOptionsSchema, {})));
    expect(code).toBe(0);
    const where = ctx.prompter.questions[1];
    expect(where).toMatchObject({ kind: 'select', message: 'Where is the token kept?', choices: ['keychain', 'command'] });
    // A command holding the token is refused at the prompt (and never echoed back), then asked again.
    expect(ctx.prompter.rejections.map((rejection) => rejection.reason)).toEqual([expect.stringMatching(/looks like an API token/) as string]);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(['sh', '-c', 'pass show okta/prod | head -n 1']);
    expect(ctx.err.plain()).toContain("command: sh -c 'pass show okta/prod | head -n 1'");
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.out.text() + ctx.err.text()).not.toContain(token);
  });

  it('in a terminal a failing command is explained and asked again, the last one offered', async () => {
    const token = makeToken();
    const ctx = fakeContext({ tty: true, stdin: NEVER_ENDING, answers: ['pass show okta/prod'] });
    ctx.commands.set('pass show okta/prd', { kind: 'exited', code: 1, lastStderrLine: 'Error: okta/prd is not in the password store.' });
    ctx.commands.set(PASS_LINE, token);
    ctx.gateway.token(ORG, token);
    const { code } = await exitOf(() => addRun(ctx, parseOptions(addOptionsSchema, { name: 'prod', orgUrl: ORG, secretCommand: ['pass', 'show', 'okta/prd'] })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => [question.kind, question.default])).toEqual([['input', 'pass show okta/prd']]);
    expect(ctx.prompter.questions[0]?.stderrBefore).toMatch(/✗ the secret command of "prod" \(pass show okta\/prd\) failed with exit code 1/);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
  });

  it('in a terminal, after a failed test, "enter the command again" runs the new command', async () => {
    const good = makeToken();
    const ctx = fakeContext({ tty: true, stdin: NEVER_ENDING, answers: ['token', 'pass show okta/prod2'] });
    ctx.commands.set(PASS_LINE, makeToken());
    ctx.commands.set('pass show okta/prod2', good);
    ctx.gateway.token(ORG, good);
    const { code } = await exitOf(() => addRun(ctx, parseOptions(addOptionsSchema, { name: 'prod', orgUrl: ORG, secretCommand: PASS })));
    expect(code).toBe(0);
    expect(ctx.prompter.questions.map((question) => question.kind)).toEqual(['select', 'input']);
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(['pass', 'show', 'okta/prod2']);
  });
});
