import { spawn, type ChildProcess } from 'node:child_process';
import { AsyncEntry } from '@napi-rs/keyring';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { osSecretStore, retryVanished } from '../../src/adapters/keychain.js';
import { usePrivateKeyring } from '../e2e/harness.js';

const HAS_KEYRING = process.env.OKTA_CONNECT_TEST_KEYRING === '1';

/** What gnome-keyring and the spec's other servers say when an item a search found is gone by the time it is used. */
const GONE_GNOME = 'Platform failure: DBus error: No such interface “org.freedesktop.Secret.Item” on object at path /org/freedesktop/secrets/collection/login/154';
/** gnome-keyring again, when a list reads the attributes of an item deleted since the search (seen in a stress run). */
const GONE_PROPERTIES =
  'zbus fdo error: org.freedesktop.DBus.Error.UnknownMethod: No such interface “org.freedesktop.DBus.Properties” on object at path /org/freedesktop/secrets/collection/login/88';
const GONE_SPEC = 'Platform failure: DBus error: Object does not exist at path “/org/freedesktop/secrets/collection/login/9”';

/** A run that fails with these errors in turn, then gives `value`. */
function failing<T>(errors: string[], value: T): { run: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    run: () => {
      const error = errors[calls];
      calls += 1;
      return error === undefined ? Promise.resolve(value) : Promise.reject(new Error(error));
    },
    calls: () => calls,
  };
}

describe('retryVanished', () => {
  const live = new AbortController().signal;

  it.each([GONE_GNOME, GONE_PROPERTIES, GONE_SPEC])('an item gone between search and use (%s) is looked up again', async (message) => {
    const run = failing([message, message], 'the token');
    await expect(retryVanished(live, run.run)).resolves.toBe('the token');
    expect(run.calls()).toBe(3);
  });

  it('a write gives up after its attempts with the last error', async () => {
    const run = failing([GONE_GNOME, GONE_GNOME, GONE_SPEC, GONE_GNOME], 'never');
    await expect(retryVanished(live, run.run)).rejects.toThrow(/Object does not exist/);
    expect(run.calls()).toBe(3);
    const five = failing(Array<string>(6).fill(GONE_GNOME), 'never');
    await expect(retryVanished(live, five.run, { attempts: 5 })).rejects.toThrow(/No such interface/);
    expect(five.calls()).toBe(5);
  });

  it('a read or a delete whose item was deleted each time answers what that means: none, nothing deleted', async () => {
    const read = failing([GONE_GNOME, GONE_SPEC, GONE_GNOME, GONE_GNOME], 'never');
    await expect(retryVanished<string | undefined>(live, read.run, { gone: () => undefined })).resolves.toBeUndefined();
    expect(read.calls()).toBe(3);
    const remove = failing([GONE_SPEC, GONE_SPEC, GONE_SPEC], true);
    await expect(retryVanished(live, remove.run, { gone: () => false })).resolves.toBe(false);
  });

  it.each([
    'Platform failure: DBus error: Message recipient disconnected from message bus without replying',
    "Couldn't access platform storage: Secret Service: no result found",
    'No such interface “org.freedesktop.Secret.Collection” on object at path /org/freedesktop/secrets/collection/login',
    'Platform failure: the collection is locked',
  ])('any other failure is not tried again: %s', async (message) => {
    const run = failing([message], 'never');
    await expect(retryVanished(live, run.run, { gone: () => 'gone' })).rejects.toThrow(message);
    expect(run.calls()).toBe(1);
  });

  it('not after the deadline aborted the call: a call begun then would change the keychain behind its back', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = failing([GONE_GNOME], 'never');
    await expect(retryVanished(controller.signal, run.run, { gone: () => 'gone' })).rejects.toThrow(/No such interface/);
    expect(run.calls()).toBe(1);
  });
});

describe.skipIf(!HAS_KEYRING)('osSecretStore, in a private gnome-keyring, while another program writes and deletes the same entry', () => {
  const keyring = usePrivateKeyring();
  let writer: ChildProcess | undefined;
  let sharedBus: string | undefined;
  beforeAll(() => {
    // The binding connects to the bus this process's environment names.
    sharedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  });
  afterAll(() => {
    process.env.DBUS_SESSION_BUS_ADDRESS = sharedBus;
  });
  afterEach(() => {
    writer?.kill('SIGKILL');
    writer = undefined;
  });

  it('every read gives its value or none, never an error; the bare binding, asked alongside, fails (the race was met)', async () => {
    const service = 'okta-connect';
    const account = 'shared-probe';
    // Another program (a doctor of okta-connect 0.x, with one probe entry for all) writing and deleting it in a loop.
    const script = `
      import { AsyncEntry } from '@napi-rs/keyring';
      const entry = new AsyncEntry(${JSON.stringify(service)}, ${JSON.stringify(account)}, { linux: { store: 'secret-service' } });
      for (;;) { try { await entry.setPassword('from the other program'); await entry.deletePassword(); } catch {} }`;
    writer = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'ignore',
      cwd: process.cwd(),
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: keyring.address },
    });
    const store = osSecretStore({ timeoutMs: 10_000, platform: 'linux', busAddress: keyring.address, service });
    const bare = new AsyncEntry(service, account, { linux: { store: 'secret-service' } });

    const ours: string[] = [];
    let bareFailures = 0;
    let rounds = 0;
    // Until the bare binding has failed a few times (the window is a few milliseconds wide), at most 20 s.
    for (const end = Date.now() + 20_000; (bareFailures < 3 || rounds < 50) && Date.now() < end; rounds += 1) {
      for (let read = 0; read < 3; read += 1) {
        await bare.getPassword().catch(() => {
          bareFailures += 1;
        });
      }
      for (let read = 0; read < 3; read += 1) {
        const value = await store.get(account).catch((error: unknown) => {
          ours.push(error instanceof Error ? error.message : String(error));
        });
        if (value !== undefined) expect(value).toBe('from the other program');
      }
    }
    expect(bareFailures, `the bare binding never failed in ${String(rounds)} rounds: the race was not met`).toBeGreaterThan(0);
    expect(ours, `${String(rounds)} rounds, the bare binding failed ${String(bareFailures)} times`).toEqual([]);
  }, 60_000);
});
