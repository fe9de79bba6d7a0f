import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import { addArgs, disposeSandbox, findLeaks, makeSandbox, requireKeyring, secretToolLookup, stackFrames, storedConnection, tokenVar, uniqueName, urlVar, useFakeOkta, useSandbox, type RunResult, type Sandbox, describeRun } from './harness.js';

beforeAll(requireKeyring);
const right = useFakeOkta({ resetAfterEach: true });
/** Another healthy Okta org, with a valid token of its own: where a leaked okta.yaml or OKTA_CLIENT_* would lead. */
const decoy = useFakeOkta();
let decoyToken: string;
beforeAll(() => {
  decoyToken = decoy.addToken();
});

function oktaYaml(orgUrl: string, token: string): string {
  return `okta:\n  client:\n    orgUrl: "${orgUrl}"\n    token: "${token}"\n    authorizationMode: "SSWS"\n`;
}

type Pollution = 'home-yaml' | 'cwd-yaml' | 'env';

/** A sandbox with the Okta SDK's hidden configuration sources pointing elsewhere, or broken. */
function pollutedSandbox(pollution: Pollution[]): { sandbox: Sandbox; env: Record<string, string> } {
  const sandbox = makeSandbox();
  if (pollution.includes('home-yaml')) {
    mkdirSync(join(sandbox.home, '.okta'), { recursive: true });
    writeFileSync(join(sandbox.home, '.okta', 'okta.yaml'), oktaYaml(decoy.url, decoyToken));
  }
  if (pollution.includes('cwd-yaml')) {
    // Malformed: js-yaml throws YAMLException on it, which the SDK's constructor would let through.
    writeFileSync(join(sandbox.cwd, 'okta.yaml'), 'okta:\n  client:\n    orgUrl: "https://x\n  token: [unclosed\n');
  }
  const env: Record<string, string> = pollution.includes('env')
    ? {
        OKTA_CLIENT_ORGURL: decoy.url,
        OKTA_CLIENT_TOKEN: decoyToken,
        OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
        OKTA_CLIENT_CLIENTID: '0oa1bogusclientid',
        OKTA_CLIENT_SCOPES: 'okta.users.read',
      }
    : {};
  return { sandbox, env };
}

describe("the Okta SDK's hidden configuration changes nothing", () => {
  const cases: [string, Pollution[]][] = [
    ['a stray ~/.okta/okta.yaml pointing at another org and token', ['home-yaml']],
    ['a malformed ./okta.yaml in the current folder', ['cwd-yaml']],
    ['OKTA_CLIENT_ORGURL / _TOKEN / _AUTHORIZATIONMODE=PrivateKey in the environment', ['env']],
  ];
  it.each(cases)('add tests against the right org with the right token despite %s', async (_label, pollution) => {
    const { sandbox, env } = pollutedSandbox(pollution);
    try {
      const token = right.addToken();
      const name = uniqueName('hyg');
      const before = right.requests.length;
      const result = await sandbox.run(addArgs(name, right.url), { input: token, env });
      expect(result.code, describeRun(result)).toBe(0);
      const me = right.requests.slice(before).filter((request) => request.path === '/api/v1/users/me');
      expect(me.map((request) => request.authorization)).toEqual([`SSWS ${token}`]);
      expect(decoy.requests).toEqual([]);
      expect(secretToolLookup(name)).toBe(token);
      expect(storedConnection(sandbox, name)?.owner?.login).toBe(right.tokens.get(token)?.user.profile.login);
    } finally {
      disposeSandbox(sandbox);
    }
  });

  it('with all of them at once: test, test --json and remove --revoke use the saved org and token only', async () => {
    const { sandbox, env } = pollutedSandbox(['home-yaml', 'cwd-yaml', 'env']);
    try {
      const token = right.addToken();
      const name = uniqueName('hyg-all');
      expect((await sandbox.run(addArgs(name, right.url, '--no-test'), { input: token, env })).code).toBe(0);
      const before = right.requests.length;

      const tested = await sandbox.run(['test', '--name', name], { env });
      expect(tested.code, describeRun(tested)).toBe(0);
      expect(tested.stdout).toContain(right.tokens.get(token)?.user.profile.login);
      const json = await sandbox.run(['test', '--name', name, '--json'], { env });
      expect(json.code, describeRun(json)).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ name, orgUrl: right.url, ok: true });

      const removed = await sandbox.run(['remove', '--name', name, '--revoke', '--yes'], { env });
      expect(removed.code, describeRun(removed)).toBe(0);
      expect(right.tokens.get(token)?.revoked).toBe(true);
      expect(decoy.tokens.get(decoyToken)?.revoked).toBe(false);
      expect(secretToolLookup(name)).toBeUndefined();

      const authorised = right.requests.slice(before).filter((request) => request.authorization !== undefined);
      expect(authorised.length).toBeGreaterThan(0);
      expect(new Set(authorised.map((request) => request.authorization))).toEqual(new Set([`SSWS ${token}`]));
      expect(decoy.requests).toEqual([]);
    } finally {
      disposeSandbox(sandbox);
    }
  });
});

describe('leak scan: a whole session, failures and --debug included', () => {
  const sandbox = useSandbox();
  const results: RunResult[] = [];
  const tokens: string[] = [];
  const run = async (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> => {
    const result = await sandbox.run(args, options);
    results.push(result);
    return result;
  };

  it('no token in any stdout, stderr or file under HOME and cwd', async () => {
    const name = uniqueName('leak');
    const first = right.addToken();
    const second = right.addToken();
    const revoked = right.addToken();
    const envOnly = right.addToken();
    const invalid = generateToken();
    tokens.push(first, second, revoked, envOnly, invalid);
    right.revoke(revoked);

    const codes: [string, number | null][] = [];
    const step = async (label: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> => {
      // Global flags first: with positional options enabled, commander only takes them before the command.
      const debug = args.includes('--debug');
      const result = await run(debug ? ['--debug', ...args.filter((arg) => arg !== '--debug')] : args, options);
      codes.push([label, result.code]);
      return result;
    };

    await step('add', [...addArgs(name, right.url), '--debug'], { input: first });
    await step('add --force --json', [...addArgs(name, right.url, '--force', '--json'), '--debug'], { input: second });
    await step('add exists', addArgs(name, right.url, '--debug'), { input: first });
    await step('add 401', addArgs(uniqueName('leak-bad'), right.url, '--debug'), { input: revoked });
    // A token Okta does not know, with a character no token has: refused before any request, and not echoed.
    await step('add bad characters', addArgs(uniqueName('leak-chars'), right.url, '--debug'), { input: `${invalid}!` });
    await step('test', ['test', '--name', name, '--debug']);
    await step('test --json', ['test', '--name', name, '--json'], { env: { DEBUG: 'okta-connect' } });
    for (const behaviour of ['truncated-json', 'html-200', 'status-502-html'] as const) {
      right.behaviour = behaviour;
      await step(`test ${behaviour}`, ['test', '--name', name, '--debug']);
    }
    right.behaviour = 'okta';
    const envName = uniqueName('leak-env');
    const envVars = (token: string): Record<string, string> => ({
      [tokenVar(envName)]: token,
      [urlVar(envName)]: right.url,
    });
    await step('test env token', ['test', '--name', envName, '--debug'], { env: envVars(envOnly) });
    await step('test env revoked', ['test', '--name', envName, '--json', '--debug'], { env: envVars(revoked) });
    await step('test env token with a newline', ['test', '--name', envName, '--debug'], { env: envVars(`${envOnly}\nX`) });
    await step('list', ['list', '--debug']);
    await step('list --json', ['list', '--json']);
    await step('remove without --yes', ['remove', '--name', name, '--debug']);
    right.revoke(second);
    await step('test 401', ['test', '--name', name, '--debug']);
    await step('test --json 401', ['test', '--name', name, '--json', '--debug']);
    await step('remove', ['remove', '--name', name, '--yes', '--debug']);

    // The session really went through the successes and the failures it claims to.
    expect(Object.fromEntries(codes)).toMatchObject({
      add: 0,
      'add --force --json': 0,
      'add exists': 2,
      'add 401': 4,
      'add bad characters': 2,
      test: 0,
      'test --json': 0,
      'test truncated-json': 7,
      'test html-200': 7,
      'test status-502-html': 7,
      'test env token': 0,
      'test env revoked': 4,
      'test env token with a newline': 2,
      list: 0,
      'list --json': 0,
      'remove without --yes': 2,
      'test 401': 4,
      'test --json 401': 4,
      remove: 0,
    });
    // --debug printed its traces, so they were scanned too.
    expect(results.some((result) => stackFrames(result.stderr).length > 0)).toBe(true);

    for (const token of tokens) {
      expect(findLeaks(token, sandbox, results), 'a token leaked').toEqual([]);
    }
  });
});
