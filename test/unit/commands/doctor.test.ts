import { describe, expect, it } from 'vitest';
import { doctorOptionsSchema, doctorRun } from '../../../src/commands/doctor.js';
import { parseOptions } from '../../../src/domain/options.js';
import { NOW, exitOf, fakeContext, makeRecord, makeToken, visibleText } from '../../fakes/context.js';

const ORG = 'https://acme.okta.com';
const HOUR_MS = 3_600_000;
const opts = (raw: Record<string, string | boolean> = {}) => parseOptions(doctorOptionsSchema, raw);
const ago = (hours: number): string => new Date(NOW.getTime() - hours * HOUR_MS).toISOString();

describe('doctor and the connections last tests', () => {
  it('never says "all checks passed" while a connection last failed: it names it, its age and the command to run', async () => {
    const ctx = fakeContext({
      connections: [
        makeRecord('good', ORG, { lastTest: { at: ago(2), ok: true, code: 0, latencyMs: 90 } }),
        makeRecord('c2', ORG, { lastTest: { at: ago(72), ok: false, code: 4, latencyMs: 80, httpStatus: 401 } }),
      ],
      secrets: { good: makeToken(), c2: makeToken() },
    });
    const { code } = await exitOf(doctorRun(ctx, opts()));
    expect(code).toBe(1);
    expect(ctx.out.plain()).toMatch(/^✓ connection good: https:\/\/acme\.okta\.com, token in the keychain; last test ok 2h ago$/m);
    expect(ctx.out.plain()).toMatch(/^✗ connection c2: https:\/\/acme\.okta\.com, token in the keychain; last test revoked \(401\) 3d ago\n {4}fix: okta-connect rotate c2$/m);
    expect(ctx.err.plain()).not.toMatch(/all checks passed/);
    expect(ctx.gateway.calls).toEqual([]);
  });

  it('--test tests every connection now (as test --all), records the results, and fails on a rejected token', async () => {
    const good = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('good', ORG), makeRecord('c2', ORG)], secrets: { good, c2: makeToken() } });
    ctx.gateway.token(ORG, good);
    const { code } = await exitOf(doctorRun(ctx, opts({ test: true })));
    expect(code).toBe(1);
    expect(ctx.out.plain()).toMatch(/^✓ test good: https:\/\/acme\.okta\.com {2}as ada@acme\.com/m);
    expect(ctx.out.plain()).toMatch(/^✗ test c2: Okta rejected the token[^\n]*\n {4}fix: okta-connect rotate c2$/m);
    expect(ctx.metadata.get('c2')?.lastTest).toMatchObject({ ok: false, code: 4 });
    expect(ctx.metadata.get('good')?.lastTest).toMatchObject({ ok: true });
    expect(ctx.gateway.tokenSentBeforeOrgCheck()).toEqual([]);
    expect(visibleText(ctx)).not.toContain(good);
  });

  it('without a keychain to compare with, the last tests are still reported', async () => {
    const ctx = fakeContext({ connections: [makeRecord('c2', ORG, { lastTest: { at: ago(5), ok: false, code: 7, latencyMs: 1, httpStatus: 200 } })] });
    ctx.secrets.breakAll();
    expect((await exitOf(doctorRun(ctx, opts()))).code).toBe(1);
    expect(ctx.out.plain()).toMatch(/^✗ connection c2: https:\/\/acme\.okta\.com; last test not an Okta org 5h ago\n {4}fix: okta-connect test c2$/m);
  });

  it('all healthy and tested: all checks passed, exit 0', async () => {
    const ctx = fakeContext({ connections: [makeRecord('good', ORG, { lastTest: { at: ago(1), ok: true, code: 0, latencyMs: 90 } })], secrets: { good: makeToken() } });
    expect((await exitOf(doctorRun(ctx, opts()))).code).toBe(0);
    expect(ctx.err.plain()).toMatch(/all checks passed/);
  });
});

describe('doctor beside an add or a remove', () => {
  /** The add or remove of another okta-connect, made once doctor has read connections.json for its first line. */
  function changeAfterFirstRead(ctx: ReturnType<typeof fakeContext>, change: () => void): void {
    const list = ctx.metadata.list.bind(ctx.metadata);
    let reads = 0;
    ctx.metadata.list = async () => {
      const records = await list();
      reads += 1;
      if (reads === 1) change();
      return records;
    };
  }

  it('an add that lands after doctor read connections.json is no orphan: the keychain is compared with the file read under the lock', async () => {
    const ctx = fakeContext({ connections: [makeRecord('good', ORG)], secrets: { good: makeToken() } });
    changeAfterFirstRead(ctx, () => {
      ctx.secrets.entries.set('fresh', makeToken());
      ctx.metadata.put(makeRecord('fresh', ORG));
    });
    const { code } = await exitOf(doctorRun(ctx, opts()));
    expect(ctx.out.plain()).not.toMatch(/keychain entry fresh/);
    expect(ctx.out.plain()).toMatch(/^✓ connection fresh: /m);
    expect(code).toBe(0);
  });

  it('a remove that lands after doctor read connections.json is no missing token', async () => {
    const ctx = fakeContext({ connections: [makeRecord('good', ORG), makeRecord('gone', ORG)], secrets: { good: makeToken(), gone: makeToken() } });
    changeAfterFirstRead(ctx, () => {
      ctx.secrets.entries.delete('gone');
      void ctx.metadata.update((connections) => connections.filter((record) => record.name !== 'gone'));
    });
    const { code } = await exitOf(doctorRun(ctx, opts()));
    expect(ctx.out.plain()).not.toMatch(/connection gone/);
    expect(code).toBe(0);
  });
});
