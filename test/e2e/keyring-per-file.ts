/**
 * Every e2e test file gets a gnome-keyring of its own, on a D-Bus session of its own, for as long as it runs.
 *
 * One keyring shared by the whole run was not safe: gnome-keyring 42 aborts (GLib-ERROR in g_variant_new, "expected
 * GVariant of type 'v' but received value has type '(null)'") when an item's properties are read while another client
 * deletes that item. One file's remove, rollback or clean-up then killed the keyring under every other file, and each
 * later save failed with "Secret Service: no result found" (the bus started a new daemon without the test keyring).
 * Apart, a file sees only its own entries, and a keyring that dies takes only its own file down.
 */
import { afterAll } from 'vitest';
import { hasKeyring, startPrivateKeyring } from './harness.js';

if (hasKeyring()) {
  // Before the test file is imported: a describe body may read the address while the tests are collected.
  const keyring = await startPrivateKeyring();
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  afterAll(async () => {
    const death = keyring.death();
    await keyring.stop();
    // Every keychain failure of the file after that moment is the daemon's: say so, with its last words.
    if (death !== undefined) throw new Error(`this file's gnome-keyring-daemon died while its tests ran (${death})`);
  });
}
