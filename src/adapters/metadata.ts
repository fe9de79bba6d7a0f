import { mkdir, open, readFile, rename, rm, stat, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { connectionRecordSchema, type ConnectionRecord } from '../domain/connection.js';
import { CliError, ExitCode, UsageError } from '../domain/errors.js';

/** connections.json: the metadata of every saved connection. Never the token. */
export interface MetadataStore {
  readonly path: string;
  readonly dir: string;
  /** All saved connections, sorted by name. A missing file is an empty list. */
  list(): Promise<ConnectionRecord[]>;
  /** The permission bits of the folder and the file (null when missing), for doctor. */
  modes(): Promise<{ dir: number | null; file: number | null }>;
  /**
   * Read-modify-write under the lock; `change` returns the new list. `afterWrite` runs once the file is written, still
   * under the lock, so keychain changes that go with a metadata change are never interleaved with another process's.
   */
  update(
    change: (connections: ConnectionRecord[]) => ConnectionRecord[] | Promise<ConnectionRecord[]>,
    afterWrite?: () => Promise<void>,
  ): Promise<void>;
}

const FILE_VERSION = 1;
const fileSchema = z.object({ version: z.literal(FILE_VERSION), connections: z.array(connectionRecordSchema) });

export interface MetadataOptions {
  /** How long to wait for another process's lock before giving up. */
  lockTimeoutMs?: number;
  /** A lock older than this is taken to be left by a process that died. */
  staleLockMs?: number;
}

export function fileMetadataStore(dir: string, options: MetadataOptions = {}): MetadataStore {
  const path = join(dir, 'connections.json');
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleLockMs = options.staleLockMs ?? 30_000;

  async function readFileOrEmpty(): Promise<ConnectionRecord[]> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw fileError(error, `cannot read ${path}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw corrupt(path, 'it is not valid JSON');
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const version = (json as { version?: unknown } | null)?.version;
      if (typeof version === 'number' && version > FILE_VERSION) {
        throw new UsageError(`${path} was written by a newer okta-connect (file version ${version})`, {
          hint: 'upgrade okta-connect',
        });
      }
      const issue = parsed.error.issues[0];
      throw corrupt(path, `${issue?.path.join('.') ?? ''} ${issue?.message ?? 'unexpected content'}`.trim());
    }
    return parsed.data.connections;
  }

  async function ensureDir(): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const info = await stat(dir);
      if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
    } catch (error) {
      throw fileError(error, `cannot create the config folder ${dir}`);
    }
  }

  async function acquireLock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + lockTimeoutMs;
    let delay = 5;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        // "<pid> <nonce>": the pid tells others whether we are alive, the nonce tells us the lock is still ours.
        const owner = `${String(process.pid)} ${String(Date.now())}.${String(Math.random()).slice(2)}`;
        await handle.writeFile(owner);
        await handle.close();
        return async () => {
          // Never delete a lock that another process took over (after judging ours stale).
          const current = await readFile(lockPath, 'utf8').catch(() => undefined);
          if (current === owner) await rm(lockPath, { force: true });
        };
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw fileError(error, `cannot lock ${path}`);
      }
      if (await isStale(lockPath, staleLockMs)) {
        await takeOverStaleLock(lockPath, staleLockMs);
        continue;
      }
      if (Date.now() > deadline) {
        throw new CliError(ExitCode.usage, `${path} is locked by another okta-connect`, {
          hint: `if no other okta-connect is running, delete ${lockPath}`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  let writeCount = 0;
  async function writeAtomically(connections: ConnectionRecord[]): Promise<void> {
    const sorted = [...connections].sort((a, b) => a.name.localeCompare(b.name));
    const body = `${JSON.stringify({ version: FILE_VERSION, connections: sorted }, null, 2)}\n`;
    // Unique per process and write; 'wx' refuses to reuse a name, so a clash fails loudly instead of mixing writes.
    const temp = `${path}.${String(process.pid)}.${String(Date.now())}.${String((writeCount += 1))}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      await syncDir(dir);
    } catch (error) {
      await rm(temp, { force: true });
      throw fileError(error, `cannot write ${path}`);
    }
  }

  return {
    path,
    dir,
    async list() {
      const connections = await readFileOrEmpty();
      return connections.sort((a, b) => a.name.localeCompare(b.name));
    },
    async modes() {
      const mode = (target: string): Promise<number | null> =>
        stat(target).then(
          (info) => info.mode & 0o777,
          () => null,
        );
      return { dir: await mode(dir), file: await mode(path) };
    },
    async update(change, afterWrite) {
      await ensureDir();
      const release = await acquireLock();
      try {
        const current = await readFileOrEmpty();
        await writeAtomically(await change(current));
        await afterWrite?.();
      } finally {
        await release();
      }
    },
  };
}

/**
 * Removes a stale lock under a short-lived second lock, checking it again first: two processes that both saw it stale must
 * not both remove it, or the second would delete the lock the first has just taken, and both would write.
 */
async function takeOverStaleLock(lockPath: string, staleLockMs: number): Promise<void> {
  const guardPath = `${lockPath}.takeover`;
  let guard;
  try {
    guard = await open(guardPath, 'wx', 0o600);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw fileError(error, `cannot lock ${lockPath}`);
    // Another process is taking it over; a guard left by one that died is removed like a stale lock.
    if (await isStale(guardPath, staleLockMs)) await rm(guardPath, { force: true });
    return;
  }
  try {
    await guard.writeFile(String(process.pid));
    if (await isStale(lockPath, staleLockMs)) await rm(lockPath, { force: true });
  } finally {
    await guard.close();
    await rm(guardPath, { force: true });
  }
}

/** An empty lock older than this was left by a process killed right after creating it. */
const EMPTY_LOCK_GRACE_MS = 3_000;

async function isStale(lockPath: string, staleLockMs: number): Promise<boolean> {
  try {
    const [info, owner] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    const pid = Number(owner.split(' ')[0]);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return true;
    // No owner written: its creator died between creating the file and writing its pid, which a live one does at once.
    if (owner.trim() === '') return Date.now() - info.mtimeMs > Math.min(EMPTY_LOCK_GRACE_MS, staleLockMs);
    return Date.now() - info.mtimeMs > staleLockMs;
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

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a folder (Windows); the rename is still atomic.
  }
}

function corrupt(path: string, why: string): CliError {
  return new UsageError(`${path} is corrupt: ${why}`, {
    hint: `fix it by hand or move it aside (it was left untouched); the tokens are still in the keychain`,
  });
}

function fileError(error: unknown, what: string): CliError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exceeded',
    ENOTDIR: 'a part of the path is not a folder',
  };
  return new CliError(ExitCode.usage, `${what}: ${why[code ?? ''] ?? code ?? String(error)}`, {
    hint: 'check the folder and its permissions, or set OKTA_CONNECT_CONFIG_DIR to another folder',
    cause: error,
  });
}

export function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
