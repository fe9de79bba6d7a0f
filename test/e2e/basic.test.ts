import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkta, type FakeOkta } from '../fixtures/fake-okta.js';
import { makeSandbox, secretToolLookup, uniqueName } from './harness.js';

let okta: FakeOkta;
beforeAll(async () => {
  okta = await startFakeOkta();
});
afterAll(async () => {
  await okta.close();
});

describe('smoke', () => {
  it('adds, tests, lists and removes a connection', async () => {
    const sandbox = makeSandbox();
    const token = okta.addToken();
    const name = uniqueName('prod');
    const add = await sandbox.run(['add', '--name', name, '--org-url', okta.url, '--token-stdin'], { input: `${token}\n` });
    expect(add.code).toBe(0);
    expect(secretToolLookup(name)).toBe(token);
    const test = await sandbox.run(['test', '--name', name]);
    expect(test.code).toBe(0);
    const list = await sandbox.run(['list']);
    const remove = await sandbox.run(['remove', '--name', name, '--yes']);
    expect(remove.code).toBe(0);
    expect(secretToolLookup(name)).toBeUndefined();
  });
});
