import type * as Keyring from '@napi-rs/keyring';
import { withDeadline } from '../domain/deadline.js';
import { KeychainError } from '../domain/errors.js';
import type { SecretStore } from '../connections/ports.js';
import { pingSecretService, secretServiceAccounts } from './secret-service-search.js';

export const KEYCHAIN_SERVICE = 'okta-connect';

type Binding = typeof Keyring;

export interface KeychainOptions {
  timeoutMs: number;
  platform: NodeJS.Platform;
  /** DBUS_SESSION_BUS_ADDRESS, where the Secret Service is asked on Linux. */
  busAddress: string | undefined;
  /** XDG_RUNTIME_DIR: `$XDG_RUNTIME_DIR/bus` is the session bus when no address is set. */
  runtimeDir?: string | undefined;
  service?: string;
}

/** The SecretStore over @napi-rs/keyring: the OS keychain, service `okta-connect`, account = connection name; every call has a timeout, since a locked keychain can wait for a dialog forever. */
export function osSecretStore(options: KeychainOptions): SecretStore {
  const service = options.service ?? KEYCHAIN_SERVICE;
  // On Linux only the Secret Service persists; the kernel keyring fallback would lose tokens at logout.
  const entryOptions = options.platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
  let binding: Promise<Binding> | undefined;
  const load = (): Promise<Binding> => (binding ??= import('@napi-rs/keyring'));

  const bus = { address: options.busAddress, runtimeDir: options.runtimeDir };

  async function call<T>(what: string, run: (keyring: Binding, signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const silent = (): never => {
      controller.abort();
      throw new KeychainError(`the keychain did not answer within ${String(options.timeoutMs / 1000)} s (${what})`, {
        hint: hintFor(options.platform, 'locked'),
      });
    };
    const work = async (): Promise<T> => {
      // On Linux the binding connects to D-Bus on the main thread with no timeout: a bus that accepts and never
      // answers would hang the process past any deadline and past Ctrl-C. So prove first, within the bound, that the bus
      // and the Secret Service answer. (A daemon that stops in the milliseconds between this ping and the binding's
      // connect is not covered; every later D-Bus call of the binding has its own reply timeout.)
      if (options.platform === 'linux' && (await pingSecretService({ ...bus, timeoutMs: options.timeoutMs })) === 'silent') silent();
      const keyring = await load();
      // The caller has had its error already: a call begun now would change the keychain behind its back.
      if (controller.signal.aborted) silent();
      return run(keyring, controller.signal);
    };
    try {
      return await withDeadline(work(), options.timeoutMs, silent);
    } catch (error) {
      if (error instanceof KeychainError) throw error;
      throw new KeychainError(`cannot ${what} in the OS keychain: ${describe(error)}`, {
        hint: hintFor(options.platform, describe(error)),
        cause: error,
      });
    }
  }

  const entry = (keyring: Binding, name: string): InstanceType<Binding['AsyncEntry']> =>
    new keyring.AsyncEntry(service, name, entryOptions);

  // Every call is asked again when the item it found vanished before it was used (retryVanished).
  const names = (): Promise<string[]> =>
    call('list the tokens', async (keyring, signal) =>
      retryVanished(signal, async () => (await keyring.findCredentialsAsync(service, undefined, signal)).map((credential) => credential.account)),
    );

  return {
    get: (name) =>
      call('read the token', (keyring, signal) =>
        retryVanished(signal, async () => (await entry(keyring, name).getPassword(signal)) ?? undefined, { gone: () => undefined }),
      ),
    set: (name, token) =>
      call('save the token', (keyring, signal) => retryVanished(signal, () => entry(keyring, name).setPassword(token, signal), { attempts: 5 })),
    delete: (name) =>
      call('delete the token', (keyring, signal) => retryVanished(signal, () => entry(keyring, name).deletePassword(signal), { gone: () => false })),
    names,
    async present(wanted, timeoutMs) {
      // On Linux one D-Bus round trip of searches by attribute: no secret read, nothing unlocked, no binding loaded.
      if (options.platform === 'linux') {
        return secretServiceAccounts({ ...bus, service, names: wanted, timeoutMs });
      }
      try {
        const stored = await withDeadline(names(), timeoutMs, () => undefined);
        return stored === undefined ? undefined : new Set(stored.filter((name) => wanted.includes(name)));
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The Secret Service finds an item, then reads, writes or deletes it by its path: when another program deletes it in
 * between, the call fails with "Object does not exist at path …" or gnome-keyring's "No such interface
 * “org.freedesktop.Secret.Item” (or, reading its attributes, “org.freedesktop.DBus.Properties”) on object at path …".
 * The keychain is not broken: it is asked again.
 */
const VANISHED = /Object does not exist at path|No such interface .org\.freedesktop\.(Secret\.Item|DBus\.Properties). on object at path/i;

interface VanishedRetry<T> {
  /** What the call means when the item it found was deleted each time (a read: none; a delete: nothing to delete). */
  gone?: () => T;
  attempts?: number;
}

/**
 * Runs `run` up to `attempts` (3) times while it fails only because the item it found vanished, then answers `gone()`
 * when the caller has such an answer (a write has none: its last error is thrown). Any other error is thrown at once,
 * and so is one after the caller's deadline aborted `signal`: a call begun then would change the keychain behind its back.
 */
export async function retryVanished<T>(signal: AbortSignal, run: () => Promise<T>, { gone, attempts = 3 }: VanishedRetry<T> = {}): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (signal.aborted || !VANISHED.test(error instanceof Error ? error.message : String(error))) throw error;
      if (attempt >= attempts) {
        if (gone) return gone();
        throw error;
      }
    }
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Couldn't access platform storage: /, '').split('\n')[0] ?? message;
}

/** What to do next, by platform; `why` is the binding's message, or 'locked' when the keychain did not answer in time. */
export function hintFor(platform: NodeJS.Platform, why: string): string {
  const ci = 'in CI, set OKTA_CONNECT_<NAME>_TOKEN and OKTA_CONNECT_<NAME>_ORG_URL instead';
  if (platform === 'darwin') return `unlock the login keychain (Keychain Access) and try again; ${ci}`;
  if (platform === 'win32') return windowsHint(why, ci);
  if (/locked/i.test(why)) return `unlock your keyring (e.g. GNOME Keyring or KeePassXC) and try again; ${ci}`;
  return `install and start a Secret Service (e.g. gnome-keyring or KeePassXC) in a D-Bus session; ${ci}`;
}

/**
 * Windows Credential Manager has no lock and no dialog. It lives in the user's logon session, which SSH sessions,
 * services and scheduled tasks set to run "whether user is logged on or not" do not have (ERROR_NO_SUCH_LOGON_SESSION,
 * 1312), and it holds at most 2560 bytes per secret.
 */
function windowsHint(why: string, ci: string): string {
  if (/logon session|\b1312\b/i.test(why)) {
    return `Windows Credential Manager needs the user's own logon session, which SSH sessions, services and scheduled tasks run "whether user is logged on or not" lack: run okta-connect in a signed-in desktop session; ${ci}`;
  }
  if (/too long|longer than|2560/i.test(why)) return `Windows Credential Manager keeps at most 2560 bytes per secret, and this one is longer; ${ci}`;
  if (why === 'locked') return `Windows Credential Manager did not answer: check that the Credential Manager service (VaultSvc) is running, then try again; ${ci}`;
  return `check Windows Credential Manager (Control Panel > Credential Manager > Windows Credentials) for this user, then try again; ${ci}`;
}
