import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A D-Bus session of the test's own (dbus-daemon) with an unlocked gnome-keyring on it: a real Secret Service that no
 * other test file writes to, and whose daemons the test may stop (SIGSTOP) and continue, to play a bus that accepts
 * connections and never answers.
 */
export interface PrivateKeyring {
  /** DBUS_SESSION_BUS_ADDRESS of the session. */
  address: string;
  /** The environment secret-tool runs with, to look at what is really stored. */
  env: Record<string, string>;
  /** kill -STOP the dbus-daemon: connections are still accepted (the kernel queues them) but nothing is answered. */
  pauseBus(): void;
  /** kill -CONT it again (harmless when it runs). */
  resumeBus(): void;
  lookup(name: string): string | undefined;
  /** secret-tool store, as another program would write our entry. */
  store(name: string, secret: string): void;
  stop(): Promise<void>;
}

const SERVICE = 'okta-connect';

async function waitUntil(what: string, isReady: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  while (!isReady()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 500);
  }
}

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const dir = mkdtempSync(join(tmpdir(), 'okta-connect-private-keyring-'));
  mkdirSync(join(dir, 'home'), { mode: 0o700 });
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  const daemons: ChildProcess[] = [];
  const signal = (child: ChildProcess | undefined, name: NodeJS.Signals): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, name);
  };
  const stop = async (): Promise<void> => {
    for (const daemon of [...daemons].reverse()) {
      signal(daemon, 'SIGCONT');
      if (daemon.exitCode !== null || daemon.signalCode !== null) continue;
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      signal(daemon, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      signal(daemon, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    daemons.push(bus);
    let printed = '';
    bus.stdout.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
    await waitUntil('dbus-daemon', () => printed.includes('\n') || bus.exitCode !== null, 30_000);
    const address = printed.split('\n')[0]?.trim() ?? '';
    if (!address.startsWith('unix:')) throw new Error(`dbus-daemon printed no address: ${printed}`);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run'), DBUS_SESSION_BUS_ADDRESS: address };
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    daemons.push(keyring);
    keyring.stdin.end('private-test-keyring');
    const ownsSecrets = (): boolean => {
      try {
        const args = ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'];
        return execFileSync('dbus-send', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('boolean true');
      } catch {
        return false;
      }
    };
    await waitUntil('gnome-keyring-daemon on the private bus', () => ownsSecrets() || keyring.exitCode !== null, 60_000);
    if (keyring.exitCode !== null) throw new Error('gnome-keyring-daemon exited');
    const secretTool = (args: string[], input?: string): string =>
      execFileSync('secret-tool', args, { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'ignore'], timeout: 30_000 });
    return {
      address,
      env,
      pauseBus: () => {
        signal(bus, 'SIGSTOP');
      },
      resumeBus: () => {
        signal(bus, 'SIGCONT');
      },
      lookup: (name) => {
        try {
          return secretTool(['lookup', 'service', SERVICE, 'username', name]);
        } catch {
          return undefined;
        }
      },
      store: (name, secret) => {
        secretTool(['store', '--label', `${SERVICE} ${name}`, 'service', SERVICE, 'username', name], secret);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
