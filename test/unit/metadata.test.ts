import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockHolderPlace } from '../../src/adapters/file-lock.js';
import type { MetadataOptions } from '../../src/adapters/metadata.js';
import { fileMetadataStore } from '../../src/adapters/metadata.js';
import type { ConnectionRecord } from '../../src/domain/connection.js';
import { CliError } from '../../src/domain/errors.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The unprivileged user the read-only test runs as when the tests run as root (root ignores folder permissions). */
const NOBODY = 65_534;

let root = '';
let dirCount = 0;
/** The store from src/, bundled for child processes (the shipped build is one bundle of the whole CLI). */
let builtStore = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'okc-meta-'));
  builtStore = join(root, 'metadata.mjs');
  await build({
    entryPoints: [join(REPO, 'src/adapters/metadata.ts')],
    outfile: builtStore,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh path for a config folder (not created). */
function freshDir(): string {
  dirCount += 1;
  return join(root, `cfg-${String(dirCount)}`);
}

function connection(name: string, extra: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    name,
    kind: 'token',
    orgUrl: `https://${name}.okta.com`,
    createdAt: '2025-01-02T03:04:05.000Z',
    owner: null,
    lastTest: null,
    lastUsedAt: null,
    secretFingerprint: null,
    secretCommand: null,
    ...extra,
  };
}

async function cliErrorOf(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError, but it succeeded');
}

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** The pid of a process that has exited. */
function deadPid(): number {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const { pid } = spawnSync(process.execPath, ['-e', '0']);
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
  }
  throw new Error('could not find a dead pid');
}

function store(dir: string, options?: MetadataOptions): ReturnType<typeof fileMetadataStore> {
  return fileMetadataStore(dir, options);
}

describe('reading', () => {
  it('a missing folder is an empty list, and reading creates nothing', async () => {
    const dir = freshDir();
    expect(await store(dir).list()).toEqual([]);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a missing file in an existing folder is an empty list, and reading creates nothing', async () => {
    const dir = freshDir();
    await mkdir(dir);
    expect(await store(dir).list()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reads a version 1 file unchanged: sorted by name, optional fields defaulted, kind token, no fingerprint', async () => {
    const dir = freshDir();
    await mkdir(dir);
    const file = {
      version: 1,
      connections: [
        { name: 'zeta', orgUrl: 'https://zeta.okta.com', createdAt: '2025-01-01T00:00:00.000Z' },
        {
          name: 'alpha',
          orgUrl: 'https://alpha.okta.com',
          createdAt: '2025-01-01T00:00:00.000Z',
          owner: { id: '00u1', login: 'ada@alpha.com' },
          lastTest: { at: '2025-01-02T00:00:00.000Z', ok: true, code: 0, latencyMs: 142 },
          lastUsedAt: '2025-01-02T00:00:00.000Z',
        },
      ],
    };
    await writeFile(join(dir, 'connections.json'), JSON.stringify(file));
    const listed = await store(dir).list();
    expect(listed.map((c) => c.name)).toEqual(['alpha', 'zeta']);
    const migrated = { kind: 'token', secretFingerprint: null, secretCommand: null };
    expect(listed[0]).toEqual({ ...file.connections[1], ...migrated, lastTest: { ...file.connections[1]?.lastTest, httpStatus: null } });
    expect(listed[1]).toEqual({ ...file.connections[0], owner: null, lastTest: null, lastUsedAt: null, ...migrated });
    // Read only: the file stays version 1 until the next change writes it.
    expect(JSON.parse(await readFile(join(dir, 'connections.json'), 'utf8'))).toEqual(file);
  });

  it('writes a version 1 file back as version 2 on the next change, records as they were', async () => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const v1 = { name: 'old', orgUrl: 'https://old.okta.com', createdAt: '2025-01-01T00:00:00.000Z', owner: null, lastTest: null, lastUsedAt: null };
    await writeFile(join(dir, 'connections.json'), JSON.stringify({ version: 1, connections: [v1] }));
    await store(dir).update((connections) => [...connections, connection('new')]);
    const written = JSON.parse(await readFile(join(dir, 'connections.json'), 'utf8')) as { version: number; connections: object[] };
    expect(written.version).toBe(2);
    expect(written.connections).toEqual([connection('new'), { ...v1, kind: 'token', secretFingerprint: null, secretCommand: null }]);
  });

  it.each([
    ['a name that is not a valid name', { name: '$(touch pwned)' }, /the record \(connections\.0\): name is not valid/],
    ['an upper-case name', { name: 'Prod' }, /the record \(connections\.0\): name is not valid/],
    ['an http:// address', { orgUrl: 'http://acme.okta.com' }, /the record "acme" \(connections\.0\): orgUrl is not valid/],
    ['an address with user-info', { orgUrl: 'https://user:pw@acme.okta.com' }, /the record "acme" \(connections\.0\): orgUrl is not valid/],
    ['an address not normalised', { orgUrl: 'https://ACME.okta.com/admin' }, /the record "acme" \(connections\.0\): orgUrl is not valid/],
    ['a createdAt that is not a time', { createdAt: 'y' }, /the record "acme" \(connections\.0\): createdAt/],
    ['an unknown kind', { kind: 'password' }, /the record "acme" \(connections\.0\): kind/],
  ])('a record with %s is refused on read (exit 2) naming the file and the record', async (_label, change, message) => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const record = { name: 'acme', kind: 'token', orgUrl: 'https://acme.okta.com', createdAt: '2025-01-01T00:00:00.000Z', ...change };
    await writeFile(join(dir, 'connections.json'), JSON.stringify({ version: 2, connections: [record] }));
    const error = await store(dir).list().then(
      () => undefined,
      (caught: unknown) => caught as CliError,
    );
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toContain(join(dir, 'connections.json'));
    expect(error?.message).toMatch(message);
  });
});

describe('writing', () => {
  it('writes {"version":2,"connections":[...]} sorted by name, in a 0600 file in a 0700 folder it creates', async () => {
    const dir = join(freshDir(), 'nested', 'okta-connect');
    const metadata = store(dir);
    const seen: ConnectionRecord[][] = [];
    await metadata.update((current) => {
      seen.push(current);
      return [connection('prod'), connection('dev', { owner: { id: '00u1', login: 'ada@acme.com' } })];
    });
    await metadata.update((current) => {
      seen.push(current);
      return [...current, connection('acme-preview')];
    });
    expect(seen[0]).toEqual([]);
    expect(seen[1]?.map((c) => c.name)).toEqual(['dev', 'prod']);

    expect(metadata.path).toBe(join(dir, 'connections.json'));
    const parsed: unknown = JSON.parse(await readFile(metadata.path, 'utf8'));
    expect(parsed).toEqual({
      version: 2,
      connections: [connection('acme-preview'), connection('dev', { owner: { id: '00u1', login: 'ada@acme.com' } }), connection('prod')],
    });
    expect(Object.keys(parsed as object)).toEqual(['version', 'connections']);
    expect(await modeOf(metadata.path)).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o700);
  });

  it('keeps 0600 and 0700 under a permissive umask', async () => {
    const dir = freshDir();
    const previous = process.umask(0);
    try {
      await store(dir).update(() => [connection('prod')]);
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(join(dir, 'connections.json'))).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o700);
  });

  it.each([
    ['0777', 0o777],
    ['0277', 0o277],
  ])('under umask %s: every folder it creates is 0700, the file 0600, no lock left, and it can write again', async (_label, umask) => {
    const base = freshDir();
    await mkdir(base, { mode: 0o700 });
    const dir = join(base, 'config', 'okta-connect');
    const previous = process.umask(umask);
    try {
      const metadata = store(dir, { lockTimeoutMs: 500 });
      await metadata.update(() => [connection('prod')]);
      await metadata.update((current) => [...current, connection('dev')]);
      expect((await metadata.list()).map((c) => c.name)).toEqual(['dev', 'prod']);
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(join(base, 'config'))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(dir, 'connections.json'))).toBe(0o600);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('the lock file is 0600 whatever the umask (under 0777 it would be unreadable to its own release)', async () => {
    const dir = freshDir();
    await store(dir).update(() => []);
    let lockMode = -1;
    const previous = process.umask(0o777);
    try {
      await store(dir).update(async (current) => {
        lockMode = await modeOf(join(dir, 'connections.json.lock'));
        return current;
      });
    } finally {
      process.umask(previous);
    }
    expect(lockMode).toBe(0o600);
  });

  it.each([
    ['0755', 0o755],
    ['0777', 0o777],
    ['0750', 0o750],
    ['0701', 0o701],
  ])('tightens an existing folder with mode %s to 0700 and the file to 0600', async (_label, looseMode) => {
    const dir = freshDir();
    await mkdir(dir);
    await chmod(dir, looseMode);
    await writeFile(join(dir, 'connections.json'), JSON.stringify({ version: 1, connections: [] }), { mode: 0o644 });
    await chmod(join(dir, 'connections.json'), 0o644);
    await store(dir).update(() => [connection('prod')]);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(dir, 'connections.json'))).toBe(0o600);
  });

  it('leaves no temporary or lock file behind', async () => {
    const dir = freshDir();
    const metadata = store(dir);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await metadata.update((current) => [...current, connection(name)]);
    }
    await metadata.update((current) => current.filter((c) => c.name !== 'c'));
    expect(await readdir(dir)).toEqual(['connections.json']);
    expect((await metadata.list()).map((c) => c.name)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('a change that throws writes nothing, releases the lock and leaves no file behind', async () => {
    const dir = freshDir();
    const metadata = store(dir, { lockTimeoutMs: 200 });
    await metadata.update(() => [connection('prod')]);
    const before = await readFile(metadata.path);
    const failure = new Error('the keychain said no');
    await expect(metadata.update(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(await readFile(metadata.path)).toEqual(before);
    expect(await readdir(dir)).toEqual(['connections.json']);
    await metadata.update((current) => [...current, connection('dev')]);
    expect((await metadata.list()).map((c) => c.name)).toEqual(['dev', 'prod']);
  });
});

describe('a corrupt file', () => {
  const cases: [string, string, RegExp][] = [
    ['truncated JSON', '{"version":1,"connections":[', /is corrupt: it is not valid JSON/],
    ['an empty file', '', /is corrupt: it is not valid JSON/],
    ['binary garbage', '\u0000\u0001\u00ff\ufffd', /is corrupt: it is not valid JSON/],
    ['a JSON array', '[]', /is corrupt/],
    ['null', 'null', /is corrupt/],
    ['no version', '{"connections":[]}', /is corrupt/],
    ['a version that is a string', '{"version":"1","connections":[]}', /is corrupt/],
    ['version 0', '{"version":0,"connections":[]}', /is corrupt/],
    ['no connections', '{"version":1}', /is corrupt: connections/],
    ['connections that are not a list', '{"version":1,"connections":{}}', /is corrupt: connections/],
    ['a connection without a name', '{"version":1,"connections":[{"orgUrl":"https://a.okta.com","createdAt":"x"}]}', /is corrupt: the record \(connections\.0\): name/],
    ['a newer file version', '{"version":3,"connections":[]}', /was written by a newer okta-connect \(file version 3\)/],
    ['a newer version of another shape', '{"version":99,"profiles":{"a":1}}', /was written by a newer okta-connect \(file version 99\)/],
  ];
  it.each(cases)('%s is reported with its path and left byte-for-byte untouched', async (_label, content, message) => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const path = join(dir, 'connections.json');
    await writeFile(path, content, { mode: 0o640 });
    await chmod(path, 0o640);
    const before = await readFile(path);
    const beforeMtime = (await stat(path)).mtimeMs;
    const metadata = store(dir, { lockTimeoutMs: 500 });

    const onList = await cliErrorOf(metadata.list());
    let changeCalled = false;
    const onUpdate = await cliErrorOf(
      metadata.update(() => {
        changeCalled = true;
        return [connection('prod')];
      }),
    );
    for (const error of [onList, onUpdate]) {
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(path);
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
    }
    expect(changeCalled).toBe(false);
    expect(await readFile(path)).toEqual(before);
    expect((await stat(path)).mtimeMs).toBe(beforeMtime);
    expect(await modeOf(path)).toBe(0o640);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('says in the hint that the file was left untouched', async () => {
    const dir = freshDir();
    await mkdir(dir);
    await writeFile(join(dir, 'connections.json'), 'oops');
    const error = await cliErrorOf(store(dir).list());
    expect(error.hint).toMatch(/left untouched/);
  });
});

describe('the lock', () => {
  async function lockedDir(owner: string, ageMs = 0): Promise<{ dir: string; lockPath: string }> {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const lockPath = join(dir, 'connections.json.lock');
    await writeFile(lockPath, owner);
    if (ageMs > 0) {
      const then = new Date(Date.now() - ageMs);
      await utimes(lockPath, then, then);
    }
    return { dir, lockPath };
  }

  it('takes over a fresh lock left by a process that died', async () => {
    const { dir } = await lockedDir(String(deadPid()));
    // The lock is young, so only the dead pid can make it stale; a failure would take lockTimeoutMs.
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 600_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
    expect((await store(dir).list()).map((c) => c.name)).toEqual(['prod']);
  });

  it('records where its pid means something: "<pid> <nonce> <host> <boot id> <pid namespace>"', async () => {
    const dir = freshDir();
    let seen = '';
    await store(dir).update(async () => {
      seen = await readFile(join(dir, 'connections.json.lock'), 'utf8');
      return [connection('prod')];
    });
    const [pid, nonce, host, boot, namespace, ...rest] = seen.split(' ');
    expect(pid).toBe(String(process.pid));
    expect(nonce).toMatch(/^\d+\.\d+$/);
    expect(decodeURIComponent(host ?? '')).toBe(hostname());
    expect(decodeURIComponent(boot ?? '')).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(decodeURIComponent(namespace ?? '')).toBe(readlinkSync('/proc/self/ns/pid'));
    expect(rest).toEqual([]);
  });

  it('takes over a fresh lock of this host, boot and pid namespace whose process died', async () => {
    const { dir } = await lockedDir(`${String(deadPid())} 1.2 ${lockHolderPlace()}`);
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 600_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  const [host = '', boot = '', namespace = ''] = lockHolderPlace().split(' ');
  const elsewhere: [string, string][] = [
    ['another host', `other-host ${boot} ${namespace}`],
    ['an earlier boot', `${host} 00000000-0000-0000-0000-000000000000 ${namespace}`],
    ['another pid namespace (a container sharing the folder)', `${host} ${boot} pid%3A%5B1%5D`],
  ];

  it.each(elsewhere)('never takes over a fresh lock from %s, though its pid is not alive here', async (_, where) => {
    const owner = `${String(deadPid())} 1.2 ${where}`;
    const { dir, lockPath } = await lockedDir(owner);
    const error = await cliErrorOf(store(dir, { lockTimeoutMs: 300, staleLockMs: 600_000 }).update(() => [connection('prod')]));
    expect(error.message).toMatch(/is locked by another okta-connect$/);
    expect(await readFile(lockPath, 'utf8')).toBe(owner);
    expect(await readdir(dir)).toEqual(['connections.json.lock']);
  });

  it.each(elsewhere)('takes over a lock from %s once it is older than staleLockMs', async (_, where) => {
    const { dir } = await lockedDir(`${String(deadPid())} 1.2 ${where}`, 120_000);
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 60_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('takes over a lock older than staleLockMs even when its pid is alive (a recycled pid)', async () => {
    const { dir } = await lockedDir(String(process.pid), 120_000);
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 60_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('takes over an old lock with no pid in it', async () => {
    const { dir } = await lockedDir('', 120_000);
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 60_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('takes over a stale lock even when a takeover guard was left by a process that died', async () => {
    const pid = String(deadPid());
    const { dir, lockPath } = await lockedDir(pid);
    await writeFile(`${lockPath}.takeover`, pid);
    await store(dir, { lockTimeoutMs: 5_000, staleLockMs: 600_000 }).update(() => [connection('prod')]);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('gives up on a live lock after lockTimeoutMs with a clear error, and leaves the lock alone', async () => {
    const { dir, lockPath } = await lockedDir(String(process.pid));
    const metadata = store(dir, { lockTimeoutMs: 300, staleLockMs: 600_000 });
    const started = Date.now();
    const error = await cliErrorOf(metadata.update(() => [connection('prod')]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${metadata.path} is locked by another okta-connect`);
    expect(error.hint).toContain(lockPath);
    expect(await readFile(lockPath, 'utf8')).toBe(String(process.pid));
    expect(await readdir(dir)).toEqual(['connections.json.lock']);
  });

  it('waits for a live lock to be released, then writes', async () => {
    const { dir, lockPath } = await lockedDir(String(process.pid));
    const started = Date.now();
    setTimeout(() => void rm(lockPath), 250);
    await store(dir, { lockTimeoutMs: 10_000, staleLockMs: 600_000 }).update(() => [connection('prod')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });
});

describe('whileLocked (the lock, nothing written)', () => {
  it('holds the lock while its work runs: an update waits for it; afterwards the file and the folder are as they were', async () => {
    const dir = freshDir();
    const metadata = store(dir, { lockTimeoutMs: 10_000 });
    await metadata.update(() => [connection('prod')]);
    const before = await readFile(metadata.path, 'utf8');
    const order: string[] = [];
    let update: Promise<void> | undefined;
    const result = await metadata.whileLocked(async () => {
      expect(await readdir(dir)).toEqual(['connections.json', 'connections.json.lock']);
      update = metadata.update((connections) => {
        order.push('update');
        return [...connections, connection('next')];
      });
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
      order.push('work done');
      return 42;
    });
    expect(result).toBe(42);
    expect(await readFile(metadata.path, 'utf8')).toBe(before);
    await update;
    expect(order).toEqual(['work done', 'update']);
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('releases the lock when its work throws, and throws the same error', async () => {
    const dir = freshDir();
    const metadata = store(dir);
    await metadata.update(() => []);
    await expect(metadata.whileLocked(() => Promise.reject(new Error('it broke')))).rejects.toThrow('it broke');
    expect(await readdir(dir)).toEqual(['connections.json']);
  });

  it('a missing folder: the work runs without the lock, and no folder is created', async () => {
    const dir = freshDir();
    await expect(store(dir).whileLocked(() => Promise.resolve('ran'))).resolves.toBe('ran');
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  it('a lock another okta-connect holds past lockTimeoutMs: the work runs anyway, and that lock is left alone', async () => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o700 });
    const lockPath = join(dir, 'connections.json.lock');
    await writeFile(lockPath, String(process.pid));
    const started = Date.now();
    await expect(store(dir, { lockTimeoutMs: 300, staleLockMs: 600_000 }).whileLocked(() => Promise.resolve('ran'))).resolves.toBe('ran');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await readFile(lockPath, 'utf8')).toBe(String(process.pid));
  });
});

describe('a folder that cannot be written', () => {
  const isRoot = process.getuid?.() === 0;

  /** Runs list() and update() on `dir`, as NOBODY when we are root (root is not stopped by folder permissions). */
  async function tryStore(dir: string): Promise<{ listed: string[]; locked: string; error: { exitCode: number; message: string; hint: string } }> {
    const script = `
      import { fileMetadataStore } from ${JSON.stringify(pathToFileURL(builtStore).href)};
      const metadata = fileMetadataStore(${JSON.stringify(dir)}, { lockTimeoutMs: 500 });
      const listed = (await metadata.list()).map((c) => c.name);
      const locked = await metadata.whileLocked(async () => 'ran');
      try {
        await metadata.update((current) => [...current, { ...current[0], name: 'new' }]);
        console.log(JSON.stringify({ listed, locked, error: null }));
      } catch (error) {
        console.log(JSON.stringify({ listed, locked, error: { exitCode: error.exitCode, message: error.message, hint: error.hint } }));
      }`;
    if (isRoot) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as Awaited<ReturnType<typeof tryStore>>;
    }
    const metadata = store(dir, { lockTimeoutMs: 500 });
    const listed = (await metadata.list()).map((c) => c.name);
    const locked = await metadata.whileLocked(() => Promise.resolve('ran'));
    const error = await cliErrorOf(metadata.update((current) => [...current, connection('new')]));
    return { listed, locked, error: { exitCode: error.exitCode, message: error.message, hint: error.hint ?? '' } };
  }

  it('a read-only folder (0500) can still be listed, whileLocked() runs its work unlocked, and update() fails with a clear error, changing nothing', async () => {
    const parent = freshDir();
    const dir = join(parent, 'okta-connect');
    await mkdir(dir, { recursive: true });
    // The unprivileged child must be able to reach the folder.
    await chmod(root, 0o755);
    await chmod(parent, 0o755);
    const path = join(dir, 'connections.json');
    await writeFile(path, JSON.stringify({ version: 1, connections: [connection('prod')] }), { mode: 0o600 });
    if (isRoot) {
      await chown(dir, NOBODY, NOBODY);
      await chown(path, NOBODY, NOBODY);
    }
    await chmod(dir, 0o500);
    const before = await readFile(path);

    const { listed, locked, error } = await tryStore(dir);
    expect(listed).toEqual(['prod']);
    expect(locked).toBe('ran');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`cannot lock ${path}: permission denied`);
    expect(error.hint).toMatch(/permissions.*OKTA_CONNECT_CONFIG_DIR/);
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['connections.json']);
    expect(await modeOf(dir)).toBe(0o500);
  });

  it('a config folder under a file fails with a clear error', async () => {
    const parent = freshDir();
    await writeFile(parent, 'not a folder');
    const dir = join(parent, 'okta-connect');
    const error = await cliErrorOf(store(dir).update(() => [connection('prod')]));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`cannot create the config folder ${dir}: a part of the path is not a folder`);
    expect(error.hint).toMatch(/OKTA_CONNECT_CONFIG_DIR/);
  });
});

describe('concurrent processes', () => {
  const CHILDREN = 20;

  /** Starts CHILDREN processes that each add one connection, all released at the same moment. */
  async function addConcurrently(dir: string): Promise<void> {
    const childScript = join(root, `child-${String(dirCount)}.mjs`);
    const goFile = join(root, `go-${String(dirCount)}`);
    await writeFile(
      childScript,
      `import { existsSync } from 'node:fs';
import { fileMetadataStore } from ${JSON.stringify(pathToFileURL(builtStore).href)};
const [dir, name, goFile] = process.argv.slice(2);
const metadata = fileMetadataStore(dir, { lockTimeoutMs: 90000 });
process.stdout.write('ready\\n');
while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 2));
await metadata.update((current) => [...current, {
  name, orgUrl: 'https://' + name + '.okta.com', createdAt: new Date().toISOString(), owner: null, lastTest: null, lastUsedAt: null,
}]);
`,
    );
    let ready = 0;
    const exits = Array.from({ length: CHILDREN }, (_, index) => {
      const child = spawn(process.execPath, [childScript, dir, `c${String(index)}`, goFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', () => {
        ready += 1;
        if (ready === CHILDREN) void writeFile(goFile, '');
      });
      return new Promise<{ code: number | null; stderr: string }>((done) => {
        child.on('exit', (code) => {
          done({ code, stderr });
        });
      });
    });
    const results = await Promise.all(exits);
    expect(results).toEqual(Array.from({ length: CHILDREN }, () => ({ code: 0, stderr: '' })));
  }

  const expectedNames = (extra: string[]): string[] =>
    [...extra, ...Array.from({ length: CHILDREN }, (_, index) => `c${String(index)}`)].sort((a, b) => a.localeCompare(b));

  it(`${String(CHILDREN)} processes adding a connection each at once lose no update`, async () => {
    const dir = freshDir();
    await store(dir).update(() => [connection('existing')]);
    await addConcurrently(dir);
    const parsed = JSON.parse(await readFile(join(dir, 'connections.json'), 'utf8')) as { version: number; connections: ConnectionRecord[] };
    expect(parsed.version).toBe(2);
    expect(parsed.connections.map((c) => c.name)).toEqual(expectedNames(['existing']));
    expect(await readdir(dir)).toEqual(['connections.json']);
    expect(await modeOf(join(dir, 'connections.json'))).toBe(0o600);
  }, 180_000);

  it(`${String(CHILDREN)} processes racing to take over a dead process's lock lose no update`, async () => {
    const dir = freshDir();
    await store(dir).update(() => [connection('existing')]);
    await writeFile(join(dir, 'connections.json.lock'), String(deadPid()));
    await addConcurrently(dir);
    const listed = await store(dir).list();
    expect(listed.map((c) => c.name)).toEqual(expectedNames(['existing']));
    expect(await readdir(dir)).toEqual(['connections.json']);
  }, 180_000);
});
