import { promises as fs, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { CliError, ExitCode } from '../domain/errors.js';
import { fileError, isErrno } from './file-errors.js';

export interface LockOptions {
  /** How long to wait for another process's lock before giving up. */
  timeoutMs: number;
  /** A lock older than this is taken to be left by a process that died. */
  staleMs: number;
  /** What the lock guards, for messages. */
  what: string;
}

/**
 * An exclusive lock file beside what it guards (`<path>.lock`, created with O_EXCL); resolves with the release.
 * A lock whose holder died is taken over, carefully: its pid is gone (only when the pid can be checked from here: the
 * same host, boot and pid namespace), or it is older than the stale age (a recycled pid, or a holder elsewhere).
 */
export async function acquireLock(lockPath: string, options: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx', 0o600);
      await handle.chmod(0o600); // under umask 0777 it would be 0000, unreadable to the release and to others' checks
      // "<pid> <nonce> <where>": the pid tells others whether we are alive (when they can see our pids: same <where>),
      // the nonce tells us the lock is still ours.
      const owner = `${String(process.pid)} ${String(Date.now())}.${String(Math.random()).slice(2)} ${lockHolderPlace()}`;
      holdUntilExit(lockPath, owner);
      await handle.writeFile(owner);
      await handle.close();
      return async () => {
        // Never delete a lock that another process took over (after judging ours stale).
        const current = await fs.readFile(lockPath, 'utf8').catch(() => undefined);
        if (current === owner) await fs.rm(lockPath, { force: true });
        held.delete(lockPath);
      };
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw fileError(error, `cannot lock ${options.what}`);
    }
    if (await isStale(lockPath, options.staleMs)) {
      await takeOverStaleLock(lockPath, options.staleMs);
      continue;
    }
    if (Date.now() > deadline) {
      throw new CliError(ExitCode.usage, `${options.what} is locked by another okta-connect`, {
        hint: `if no other okta-connect is running, delete ${lockPath}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Locks this process holds (path → owner), removed if it exits while holding them (Ctrl-C waiting on the keychain). */
const held = new Map<string, string>();
let isExitHooked = false;

function holdUntilExit(lockPath: string, owner: string): void {
  held.set(lockPath, owner);
  if (isExitHooked) return;
  isExitHooked = true;
  process.on('exit', () => {
    for (const [path, expected] of held) {
      try {
        if (readFileSync(path, 'utf8') === expected) rmSync(path, { force: true });
      } catch {
        // Gone already, or unreadable: nothing of ours to remove.
      }
    }
  });
}

/**
 * Removes a stale lock under a short-lived second lock, checking it again first: two processes that both saw it stale must
 * not both remove it, or the second would delete the lock the first has just taken, and both would write.
 */
async function takeOverStaleLock(lockPath: string, staleMs: number): Promise<void> {
  const guardPath = `${lockPath}.takeover`;
  let guard;
  try {
    guard = await fs.open(guardPath, 'wx', 0o600);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw fileError(error, `cannot lock ${lockPath}`);
    // Another process is taking it over; a guard left by one that died is removed like a stale lock.
    if (await isStale(guardPath, staleMs)) await fs.rm(guardPath, { force: true });
    return;
  }
  holdUntilExit(guardPath, `${String(process.pid)} guard ${lockHolderPlace()}`);
  try {
    await guard.writeFile(`${String(process.pid)} guard ${lockHolderPlace()}`);
    if (await isStale(lockPath, staleMs)) await fs.rm(lockPath, { force: true });
  } finally {
    await guard.close();
    await fs.rm(guardPath, { force: true });
    held.delete(guardPath);
  }
}

/** An empty lock older than this was left by a process killed right after creating it. */
const EMPTY_LOCK_GRACE_MS = 3_000;

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [info, owner] = await Promise.all([fs.stat(lockPath), fs.readFile(lockPath, 'utf8')]);
    const [pidText, , ...place] = owner.trim().split(' ');
    const pid = Number(pidText);
    // A pid means something only where it was written: a holder on another host, since another boot, or in another pid
    // namespace (a container sharing the folder) cannot be checked, and waits out the stale age. A lock with no place
    // (written by okta-connect 0.1, or by hand) is checked by its pid, as it always was.
    const isCheckable = place.length === 0 || place.join(' ') === lockHolderPlace();
    if (isCheckable && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return true;
    // No owner written: its creator died between creating the file and writing its pid, which a live one does at once.
    if (owner.trim() === '') return Date.now() - info.mtimeMs > Math.min(EMPTY_LOCK_GRACE_MS, staleMs);
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

let place: string | undefined;

/**
 * Where this process's pids mean something: "<host> <boot id> <pid namespace>", each %-encoded, "-" where unknown
 * (the boot id and the namespace are Linux's; elsewhere the host alone).
 */
export function lockHolderPlace(): string {
  const read = (what: () => string): string => {
    try {
      return encodeURIComponent(what().trim()) || '-';
    } catch {
      return '-';
    }
  };
  place ??= [
    read(() => hostname()),
    read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    read(() => readlinkSync('/proc/self/ns/pid')),
  ].join(' ');
  return place;
}
