// node:fs/promises through fs.promises, read where used: the module and its ~10 internal ones load only when a
// command writes, not for --help and list.
import { promises as fs, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as z from 'zod/mini';
import type { MetadataStore } from '../connections/ports.js';
import { byName, connectionRecordSchema, type ConnectionRecord } from '../domain/connection.js';
import { UsageError, type CliError } from '../domain/errors.js';
import { fileError, isErrno } from './file-errors.js';
import { acquireLock } from './file-lock.js';

/**
 * Version 2 added each record's `kind` and `secretFingerprint`. A version 1 file reads unchanged (its records are API-token
 * connections with no fingerprint yet) and is written back as version 2 on the next change.
 */
const FILE_VERSION = 2;
const fileSchema = z.lazy(() => z.object({ version: z.union([z.literal(1), z.literal(FILE_VERSION)]), connections: z.array(connectionRecordSchema) }));

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

  /** Synchronous, on this thread: one small file, and list waits for nothing else meanwhile. */
  function readFileOrEmpty(): ConnectionRecord[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
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
      throw corrupt(path, `${where(json, issue?.path ?? [])} ${issue?.message ?? 'unexpected content'}`.trim());
    }
    return parsed.data.connections;
  }

  async function ensureDir(): Promise<void> {
    try {
      // mkdir's mode passes through the umask (0277 would make it 0500, 0777 make it 0000): every folder created here
      // is set to 0700 explicitly. One that existed is only tightened (a read-only one may be the user's choice; doctor
      // reports it).
      const created = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      for (const folder of created === undefined ? [] : createdFolders(created, dir)) await fs.chmod(folder, 0o700);
      const info = await fs.stat(dir);
      if ((info.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
    } catch (error) {
      throw fileError(error, `cannot create the config folder ${dir}`);
    }
  }

  let writeCount = 0;
  async function writeAtomically(connections: ConnectionRecord[]): Promise<void> {
    // The rules of reading hold for writing: a record that could not be read back is a bug, never written.
    const sorted = connections.map((record) => connectionRecordSchema.parse(record)).sort(byName);
    const body = `${JSON.stringify({ version: FILE_VERSION, connections: sorted }, null, 2)}\n`;
    // Unique per process and write; 'wx' refuses to reuse a name, so a clash fails loudly instead of mixing writes.
    const temp = `${path}.${String(process.pid)}.${String(Date.now())}.${String((writeCount += 1))}.tmp`;
    try {
      const handle = await fs.open(temp, 'wx', 0o600);
      try {
        await handle.chmod(0o600); // whatever the umask made of it
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, path);
      await syncDir(dir);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw fileError(error, `cannot write ${path}`);
    }
  }

  return {
    path,
    dir,
    list() {
      // A promise that a failed read rejects, as before (never a throw from the call itself).
      return new Promise((resolve) => {
        resolve(readFileOrEmpty().sort(byName));
      });
    },
    async modes() {
      const mode = (target: string): Promise<number | null> =>
        fs.stat(target).then(
          (info) => info.mode & 0o777,
          () => null,
        );
      return { dir: await mode(dir), file: await mode(path) };
    },
    async update(change, afterWrite) {
      await ensureDir();
      const release = await acquireLock(lockPath, { timeoutMs: lockTimeoutMs, staleMs: staleLockMs, what: path });
      try {
        const current = readFileOrEmpty();
        await writeAtomically(await change(current));
        await afterWrite?.();
      } finally {
        await release();
      }
    },
    async whileLocked(work) {
      // Never creates the folder: a check must not leave one behind.
      const release = await acquireLock(lockPath, { timeoutMs: lockTimeoutMs, staleMs: staleLockMs, what: path }).catch(() => undefined);
      try {
        return await work();
      } finally {
        await release?.();
      }
    },
  };
}

/** `first` (the first folder mkdir created) and every folder below it down to `dir`. */
function createdFolders(first: string, dir: string): string[] {
  const folders: string[] = [];
  for (let folder = dir; relative(first, folder) !== '' && !relative(first, folder).startsWith('..'); folder = dirname(folder)) folders.push(folder);
  return [first, ...folders.reverse()];
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a folder (Windows); the rename is still atomic.
  }
}

/** "the record "prod" (connections.3): orgUrl", or the plain path outside the records. */
function where(json: unknown, path: PropertyKey[]): string {
  const [top, index, ...rest] = path;
  if (top !== 'connections' || typeof index !== 'number') return path.map(String).join('.');
  const name = (json as { connections?: { name?: unknown }[] }).connections?.[index]?.name;
  const label = typeof name === 'string' && /^[a-z0-9_-]{1,64}$/.test(name) ? `"${name}" ` : '';
  return `the record ${label}(connections.${String(index)})${rest.length > 0 ? `: ${rest.map(String).join('.')}` : ''}`;
}

function corrupt(path: string, why: string): CliError {
  return new UsageError(`${path} is corrupt: ${why}`, {
    hint: `fix it by hand or move it aside (it was left untouched); the tokens are still in the keychain`,
  });
}
