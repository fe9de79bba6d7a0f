/**
 * A signal in the middle of a write: the ConnectionStore marks the span from its first write to its commit or rollback
 * as critical (cli.ts then defers SIGINT/SIGTERM/SIGHUP), rolls back at its next safe point when one came, and gives
 * the line cli.ts prints before exiting 130. The fake context records that line instead of exiting.
 */
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/domain/credential.js';
import { CancelledError } from '../../src/domain/errors.js';
import { fakeContext, makeRecord, makeToken, type FakeContext } from '../fakes/context.js';

const ORG_A = 'https://acme.okta.com';
const ORG_B = 'https://globex.okta.com';

/** The next `secrets.<op>` call succeeds, and a signal arrives while it runs. */
function signalDuring(ctx: FakeContext, op: 'get' | 'set' | 'delete'): void {
  const real = ctx.secrets[op].bind(ctx.secrets) as (name: string, value: string) => Promise<unknown>;
  ctx.secrets[op] = (async (name: string, value: string) => {
    const result = await real(name, value);
    ctx.isInterrupted = true;
    return result;
  }) as never;
}

/** A signal arrives after the change is computed, while the metadata file is being written. */
function signalDuringMetadataWrite(ctx: FakeContext): void {
  const real = ctx.metadata.update.bind(ctx.metadata);
  ctx.metadata.update = (change, afterWrite) =>
    real(async (connections) => {
      const next = await change(connections);
      ctx.isInterrupted = true;
      return next;
    }, afterWrite);
}

function saveRequest(name: string, orgUrl: string, token: string, force: boolean): Parameters<FakeContext['connections']['save']>[0] {
  return { name, orgUrl, credential: { kind: 'api-token', token }, force, test: undefined };
}

describe('save, interrupted', () => {
  it('during the keychain write of a new connection: the token is deleted again, nothing saved', async () => {
    const ctx = fakeContext();
    signalDuring(ctx, 'set');
    const save = ctx.connections.save(saveRequest('prod', ORG_A, makeToken(), false));
    await expect(save).rejects.toBeInstanceOf(CancelledError);
    expect([...ctx.secrets.entries]).toEqual([]);
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.interruptMessages).toEqual(['"prod" was not saved; the keychain is as it was']);
  });

  it('add --force --org-url B during the keychain write: the old token and address stay together', async () => {
    const oldToken = makeToken();
    const record = makeRecord('prod', ORG_A, { secretFingerprint: fingerprintOf({ kind: 'api-token', token: oldToken }) });
    const ctx = fakeContext({ connections: [record], secrets: { prod: oldToken } });
    signalDuring(ctx, 'set');
    await expect(ctx.connections.save(saveRequest('prod', ORG_B, makeToken(), true))).rejects.toBeInstanceOf(CancelledError);
    expect(ctx.secrets.entries.get('prod')).toBe(oldToken);
    expect(ctx.metadata.all()).toEqual([record]);
    const resolved = await ctx.connections.resolve('prod');
    expect(resolved.orgUrl).toBe(ORG_A);
    expect(resolved.credential).toEqual({ kind: 'api-token', token: oldToken });
  });

  it('during the metadata write: it commits, and says it was saved', async () => {
    const ctx = fakeContext();
    const token = makeToken();
    signalDuringMetadataWrite(ctx);
    await ctx.connections.save(saveRequest('prod', ORG_B, token, false));
    expect(ctx.secrets.entries.get('prod')).toBe(token);
    expect(ctx.metadata.get('prod')?.orgUrl).toBe(ORG_B);
    expect(ctx.interruptMessages).toEqual([`"prod" was saved (${ORG_B}) before the interrupt took effect`]);
  });

  it('a rollback that fails says so, and does not claim the keychain is as it was', async () => {
    const ctx = fakeContext();
    signalDuring(ctx, 'set');
    ctx.secrets.failures.delete = new Error('the keyring went away');
    await expect(ctx.connections.save(saveRequest('prod', ORG_A, makeToken(), false))).rejects.toBeInstanceOf(CancelledError);
    expect(ctx.err.text()).toContain('could not put the keychain entry of "prod" back as it was (the keyring went away)');
    expect(ctx.interruptMessages).toEqual(['"prod" was not saved']);
  });

  it('no signal: the critical section is entered once, and nothing is reported', async () => {
    const ctx = fakeContext();
    await ctx.connections.save(saveRequest('prod', ORG_A, makeToken(), false));
    expect(ctx.criticalEntered).toBe(1);
    expect(ctx.interruptMessages).toEqual([]);
  });

  it('refused before any write (the name exists): no critical section was entered', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG_A)], secrets: { prod: makeToken() } });
    await expect(ctx.connections.save(saveRequest('prod', ORG_A, makeToken(), false))).rejects.toThrow(/already|just created/);
    expect(ctx.criticalEntered).toBe(0);
  });
});

describe('rotate (replaceSecret), interrupted', () => {
  const test = { ok: true, code: 0 as const, latencyMs: 5, httpStatus: 200, owner: null };

  it('during the keychain write: the old token is put back, the record keeps its fingerprint', async () => {
    const oldToken = makeToken();
    const record = makeRecord('prod', ORG_A, { secretFingerprint: fingerprintOf({ kind: 'api-token', token: oldToken }) });
    const ctx = fakeContext({ connections: [record], secrets: { prod: oldToken } });
    signalDuring(ctx, 'set');
    const rotation = ctx.connections.replaceSecret({ name: 'prod', orgUrl: ORG_A, credential: { kind: 'api-token', token: makeToken() }, test });
    await expect(rotation).rejects.toBeInstanceOf(CancelledError);
    expect(ctx.secrets.entries.get('prod')).toBe(oldToken);
    expect(ctx.metadata.all()).toEqual([record]);
    expect(ctx.interruptMessages).toEqual(['the token of "prod" was not replaced; the keychain is as it was']);
  });

  it('during the metadata write: it completes, and says so', async () => {
    const record = makeRecord('prod', ORG_A);
    const ctx = fakeContext({ connections: [record], secrets: { prod: makeToken() } });
    const newToken = makeToken();
    signalDuringMetadataWrite(ctx);
    await ctx.connections.replaceSecret({ name: 'prod', orgUrl: ORG_A, credential: { kind: 'api-token', token: newToken }, test });
    expect(ctx.secrets.entries.get('prod')).toBe(newToken);
    expect(ctx.metadata.get('prod')?.secretFingerprint).toBe(fingerprintOf({ kind: 'api-token', token: newToken }));
    expect(ctx.interruptMessages).toEqual(['the token of "prod" was replaced before the interrupt took effect']);
  });
});

describe('remove, interrupted', () => {
  it('during the keychain delete: both go, and it says so', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG_A)], secrets: { prod: makeToken() } });
    signalDuring(ctx, 'delete');
    await ctx.connections.remove('prod');
    expect(ctx.metadata.all()).toEqual([]);
    expect([...ctx.secrets.entries]).toEqual([]);
    expect(ctx.interruptMessages).toEqual(['"prod" was removed before the interrupt took effect']);
  });

  it('a keychain delete that fails after the record went: the message says the token may remain', async () => {
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG_A)], secrets: { prod: makeToken() } });
    signalDuringMetadataWrite(ctx);
    ctx.secrets.failures.delete = new Error('the keyring went away');
    await expect(ctx.connections.remove('prod')).rejects.toThrow('the keyring went away');
    expect(ctx.interruptMessages).toEqual([
      `"prod" was removed from ${ctx.metadata.path}, but its token may still be in the keychain (okta-connect doctor shows it)`,
    ]);
  });
});

describe('recording a use or a test, interrupted', () => {
  it('the single metadata write completes', async () => {
    const token = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG_A)], secrets: { prod: token } });
    const connection = await ctx.connections.resolve('prod');
    signalDuringMetadataWrite(ctx);
    await ctx.connections.markUsed(connection);
    expect(ctx.metadata.get('prod')?.lastUsedAt).not.toBeNull();
    expect(ctx.interruptMessages).toEqual(['nothing was left half-written']);
  });
});

describe('a command-sourced connection, interrupted', () => {
  const PASS = ['pass', 'show', 'okta/prod'];

  it('save during the metadata write: it commits, says so, and the keychain is never touched', async () => {
    const ctx = fakeContext();
    signalDuringMetadataWrite(ctx);
    await ctx.connections.save({ ...saveRequest('prod', ORG_A, makeToken(), false), secretCommand: PASS });
    expect(ctx.metadata.get('prod')?.secretCommand).toEqual(PASS);
    expect(ctx.events.filter((event) => event.startsWith('secrets.'))).toEqual([]);
    expect(ctx.interruptMessages).toEqual([`"prod" was saved (${ORG_A}) before the interrupt took effect`]);
  });

  it('remove during the metadata write: the record goes, a keychain entry of that name (not its own) stays', async () => {
    const other = makeToken();
    const ctx = fakeContext({ connections: [makeRecord('prod', ORG_A, { secretCommand: PASS })], secrets: { prod: other } });
    signalDuringMetadataWrite(ctx);
    await ctx.connections.remove('prod');
    expect(ctx.metadata.all()).toEqual([]);
    expect(ctx.secrets.entries.get('prod')).toBe(other);
    expect(ctx.interruptMessages).toEqual(['"prod" was removed before the interrupt took effect']);
  });
});

describe("doctor's keychain probe", () => {
  const PROBE = /^__okta-connect-doctor-probe-[a-z0-9]+$/;

  /** The accounts the probe wrote, in order. */
  function probesWritten(ctx: FakeContext): string[] {
    return ctx.events.filter((event) => event.startsWith('secrets.set ')).map((event) => event.slice('secrets.set '.length));
  }

  it('each run writes an entry of its own (two doctors, or a doctor and an add, never read each other\'s), and deletes it', async () => {
    const ctx = fakeContext({ secrets: { prod: makeToken() } });
    const [first, second] = await Promise.all([ctx.connections.keychainCheck(), ctx.connections.keychainCheck()]);
    expect(first).toMatchObject({ names: new Set(['prod']) });
    expect(second).toMatchObject({ names: new Set(['prod']) });
    const written = probesWritten(ctx);
    expect(written).toHaveLength(2);
    for (const account of written) expect(account).toMatch(PROBE);
    expect(new Set(written).size).toBe(2);
    expect([...ctx.secrets.entries.keys()]).toEqual(['prod']);
    // The check an add makes first reads an account no doctor writes.
    await ctx.connections.checkCanSave();
    expect(ctx.events.filter((event) => event.startsWith('secrets.get ')).at(-1)).toBe('secrets.get __okta-connect-doctor-probe');
  });

  it('runs under the connections lock, as every delete does: no other okta-connect deletes an entry while names() reads them all', async () => {
    const ctx = fakeContext({ secrets: { prod: makeToken() } });
    // A remove and two doctors at once: each one's keychain calls sit inside its own turn of the lock.
    await Promise.all([ctx.connections.keychainCheck(), ctx.connections.remove('prod'), ctx.connections.keychainCheck()]);
    const turns: string[][] = [];
    let turn: string[] | undefined;
    for (const event of ctx.events) {
      if (event === 'metadata.lock') turn = [];
      else if (event === 'metadata.unlock') {
        if (turn) turns.push(turn);
        turn = undefined;
      } else if (event.startsWith('secrets.')) {
        if (turn) turn.push(event.split(' ')[0] ?? event);
        else if (!event.startsWith('secrets.get') && !event.startsWith('secrets.delete')) throw new Error(`${event} outside the lock`);
      }
    }
    expect(turns).toEqual([
      ['secrets.set', 'secrets.get', 'secrets.delete', 'secrets.names'],
      ['secrets.set', 'secrets.get', 'secrets.delete', 'secrets.names'],
    ]);
    // The remove's delete came between the two turns (under update's lock), never inside one.
    const lockEvents = ctx.events.filter((event) => /^metadata\.(lock|unlock|update)$/.test(event) || event === 'secrets.delete prod');
    expect(lockEvents).toEqual(['metadata.lock', 'metadata.unlock', 'metadata.update', 'secrets.delete prod', 'metadata.lock', 'metadata.unlock']);
  });

  it('a probe left by a doctor killed mid-probe (kill -9) is not taken for a connection', async () => {
    const ctx = fakeContext({ secrets: { prod: makeToken(), '__okta-connect-doctor-probe-k1ll3d': 'probe-1' } });
    await expect(ctx.connections.keychainCheck()).resolves.toMatchObject({ names: new Set(['prod']) });
  });

  it('a signal once the probe is written (here: while it is read back): it is deleted again first, and the line says so', async () => {
    const ctx = fakeContext();
    signalDuring(ctx, 'get');
    await expect(ctx.connections.keychainCheck()).resolves.toMatchObject({ names: new Set() });
    expect(ctx.secrets.entries.size).toBe(0);
    expect(ctx.interruptMessages).toEqual(["doctor's probe entry was written to the keychain and deleted again"]);
  });

  it('a read that fails still deletes the probe, and is the check\'s error', async () => {
    const ctx = fakeContext();
    ctx.secrets.failures.get = new Error('cannot read the token in the OS keychain: it broke');
    const check = await ctx.connections.keychainCheck();
    expect(check).toMatchObject({ isMismatch: false, error: { message: /it broke/ } });
    expect(ctx.secrets.entries.size).toBe(0);
  });
});
