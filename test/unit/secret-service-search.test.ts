import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCredentialsAsync } from '@napi-rs/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busSocketPaths, pingSecretService, secretServiceAccounts } from '../../src/adapters/secret-service-search.js';

const HAS_KEYRING = process.env.OKTA_CONNECT_TEST_KEYRING === '1';
const TIMEOUT_MS = 5_000;
/** For tests that spawn secret-tool once per item: slow when the whole suite shares two cores. */
const SPAWNING_TEST_MS = 30_000;

let root = '';
let socketCount = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'okc-dbus-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A unique Secret Service `service` attribute per test, so runs and files never see each other's items. */
function uniqueService(label: string): string {
  return `okc-test-${label}-${String(process.pid)}-${String(Date.now())}-${Math.random().toString(36).slice(2, 8)}`;
}

function store(service: string, name: string): void {
  const result = spawnSync('secret-tool', ['store', '--label', 'x', 'service', service, 'username', name], {
    input: 'not-a-real-token',
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
  });
  if (result.status !== 0) throw new Error(`secret-tool store failed: ${result.stderr}`);
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

/** Marshals the replies a fake bus sends, in either byte order. */
class ReplyWriter {
  readonly bytes: number[] = [];
  constructor(private readonly isLittle: boolean) {}
  pad(alignment: number): void {
    while (this.bytes.length % alignment !== 0) this.bytes.push(0);
  }
  u8(value: number): void {
    this.bytes.push(value);
  }
  u32(value: number): void {
    this.pad(4);
    const data = Buffer.alloc(4);
    if (this.isLittle) data.writeUInt32LE(value);
    else data.writeUInt32BE(value);
    this.bytes.push(...data);
  }
  string(value: string): void {
    const data = Buffer.from(value);
    this.u32(data.length);
    this.bytes.push(...data, 0);
  }
  signature(value: string): void {
    this.bytes.push(value.length, ...Buffer.from(value), 0);
  }
}

interface ReplyOptions {
  isLittle: boolean;
  replySerial: number;
  /** An ERROR (type 3) with this name and no body. */
  errorName?: string;
  /** The reply to Hello: our unique name, signature `s`. */
  isHello?: boolean;
  unlocked?: string[];
  locked?: string[];
  /** Overrides the SIGNATURE header field. */
  signature?: string;
}

/** A reply from a fake bus: by default a METHOD_RETURN (type 2) carrying `(ao ao)`. */
function reply(options: ReplyOptions): Buffer {
  const body = new ReplyWriter(options.isLittle);
  const isError = options.errorName !== undefined;
  let signature = '';
  if (options.isHello) {
    body.string(':1.42');
    signature = 's';
  } else if (!isError) {
    for (const paths of [options.unlocked ?? [], options.locked ?? []]) {
      const inner = new ReplyWriter(options.isLittle);
      for (const path of paths) inner.string(path);
      body.u32(inner.bytes.length);
      body.bytes.push(...inner.bytes); // the body is 4-aligned here, as are object paths
    }
    signature = 'aoao';
  }
  signature = options.signature ?? signature;
  const message = new ReplyWriter(options.isLittle);
  message.bytes.push(options.isLittle ? 0x6c : 0x42, isError ? 3 : 2, 0, 1);
  message.u32(body.bytes.length);
  message.u32(1_000 + options.replySerial);
  const fields = new ReplyWriter(options.isLittle);
  fields.bytes.length = 16; // offsets in the header-field array must be message offsets
  fields.bytes.fill(0);
  fields.u8(5);
  fields.signature('u');
  fields.u32(options.replySerial);
  if (isError) {
    fields.pad(8);
    fields.u8(4);
    fields.signature('s');
    fields.string(options.errorName ?? '');
  }
  if (signature !== '') {
    fields.pad(8);
    fields.u8(8);
    fields.signature('g');
    fields.signature(signature);
  }
  message.u32(fields.bytes.length - 16);
  message.bytes.push(...fields.bytes.slice(16));
  message.pad(8);
  message.bytes.push(...body.bytes);
  return Buffer.from(message.bytes);
}

interface FakeBus {
  address: string;
  /** Everything the client sent after BEGIN. */
  received: () => Buffer;
  /** Resolves when the client's connection has closed. */
  closed: Promise<void>;
  close: () => Promise<void>;
}

/**
 * A fake bus on a unix socket: `auth` is its answer to AUTH (undefined: never answers), then `answer` maps the
 * serial of each incoming call to the bytes to send back, and `deliver` writes them (coalesced or split).
 */
async function fakeBus(options: {
  /** Where it listens (default: a fresh socket under the test folder). */
  path?: string;
  auth?: string;
  answer?: (serial: number) => Buffer | undefined;
  deliver?: (socket: Socket, data: Buffer) => void;
}): Promise<FakeBus> {
  socketCount += 1;
  const path = options.path ?? join(root, `bus-${String(socketCount)}`);
  let received = Buffer.alloc(0);
  let markClosed = (): void => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const server: Server = createServer((socket) => {
    let pending = Buffer.alloc(0);
    let phase: 'auth' | 'begin' | 'messages' = 'auth';
    socket.on('close', markClosed);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (phase === 'auth' && pending.includes('\r\n')) {
        if (options.auth === undefined) return;
        pending = pending.subarray(pending.indexOf('\r\n') + 2);
        socket.write(options.auth);
        phase = 'begin';
      }
      if (phase === 'begin' && pending.includes('BEGIN\r\n')) {
        pending = pending.subarray(pending.indexOf('BEGIN\r\n') + 7);
        phase = 'messages';
      }
      if (phase !== 'messages') return;
      const out: Buffer[] = [];
      while (pending.length >= 16) {
        const length = Math.ceil((16 + pending.readUInt32LE(12)) / 8) * 8 + pending.readUInt32LE(4);
        if (pending.length < length) break;
        received = Buffer.concat([received, pending.subarray(0, length)]);
        const answer = options.answer?.(pending.readUInt32LE(8));
        if (answer) out.push(answer);
        pending = pending.subarray(length);
      }
      if (out.length > 0) (options.deliver ?? ((s, data) => s.write(data)))(socket, Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    address: `unix:path=${path},guid=0123456789abcdef0123456789abcdef`,
    received: () => received,
    closed,
    close: () => new Promise<void>((resolve) => server.close(() => { resolve(); })),
  };
}

const OK = 'OK 0123456789abcdef0123456789abcdef\r\n';

/** Answers Hello, then `(ao ao)` per call: odd serials have an item, alternately unlocked and locked. */
function honestAnswer(isLittle: boolean): (serial: number) => Buffer {
  return (serial) => {
    if (serial === 1) return reply({ isLittle, replySerial: 1, isHello: true });
    if (serial % 2 === 0) return reply({ isLittle, replySerial: serial });
    const paths = [`/org/freedesktop/secrets/collection/login/${String(serial)}`];
    return reply({ isLittle, replySerial: serial, ...(serial % 4 === 1 ? { locked: paths } : { unlocked: paths }) });
  };
}

describe('secretServiceAccounts: addresses that cannot work', () => {
  it.each([
    ['no address', undefined],
    ['an empty address', ''],
    ['garbage', 'garbage'],
    ['a tcp address only', 'tcp:host=localhost,port=1'],
    ['unix without a path', 'unix:guid=0123'],
    ['a bad %-escape', 'unix:path=/tmp/%zz'],
    ['a NUL in the path', 'unix:path=/tmp/a%00b'],
    ['an empty path', 'unix:path=,guid=0123'],
    ['a missing socket', 'unix:path=/nonexistent'],
    ['a missing abstract socket', `unix:abstract=/okc-test-missing-${String(process.pid)}`],
  ])('%s: undefined, at once', async (_, address) => {
    const { value, ms } = await timed(() => secretServiceAccounts({ address, service: 's', names: ['a'], timeoutMs: TIMEOUT_MS }));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(1_000);
  });

  it('an empty list of names: an empty set, without connecting', async () => {
    await expect(secretServiceAccounts({ address: undefined, service: 's', names: [], timeoutMs: TIMEOUT_MS })).resolves.toEqual(new Set());
  });
});

describe('secretServiceAccounts: a fake bus', () => {
  const names = Array.from({ length: 20 }, (_, index) => `name-${String(index)}`);
  /** The client asks for names[n] with serial n + 2 (Hello is 1); odd serials have items (see honestAnswer). */
  const present = new Set(names.filter((_, index) => index % 2 === 1));

  it.each([
    ['little-endian, coalesced', true, undefined],
    ['big-endian, coalesced', false, undefined],
    ['little-endian, one byte per write', true, 'bytes'],
    ['big-endian, one byte per write', false, 'bytes'],
  ] as const)('%s: the names with items, locked or not', async (_, isLittle, split) => {
    const bus = await fakeBus({
      auth: OK,
      answer: honestAnswer(isLittle),
      ...(split === 'bytes' ? { deliver: (socket: Socket, data: Buffer) => { for (const byte of data) socket.write(Buffer.of(byte)); } } : {}),
    });
    try {
      await expect(secretServiceAccounts({ address: bus.address, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toEqual(present);
      // Hello plus one SearchItems per name, and nothing that reads a secret or unlocks.
      const sent = bus.received().toString('latin1');
      expect(sent.split('SearchItems').length - 1).toBe(names.length);
      expect(sent.split('Hello').length - 1).toBe(1);
      expect(sent).not.toMatch(/GetSecret|Unlock|OpenSession/);
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['an error reply to Hello', 1],
    ['an error reply to one search (e.g. no Secret Service)', 7],
  ])('%s: undefined', async (_, failingSerial) => {
    const bus = await fakeBus({
      auth: OK,
      answer: (serial) =>
        serial === failingSerial
          ? reply({ isLittle: true, replySerial: serial, errorName: 'org.freedesktop.DBus.Error.ServiceUnknown' })
          : honestAnswer(true)(serial),
    });
    try {
      await expect(secretServiceAccounts({ address: bus.address, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toBeUndefined();
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['authentication is rejected', { auth: 'REJECTED EXTERNAL\r\n' }],
    ['a reply with the wrong signature', { auth: OK, answer: (serial: number) => reply({ isLittle: true, replySerial: serial, signature: 'ao' }) }],
    ['a reply that is not D-Bus', { auth: OK, answer: () => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') }],
  ])('%s: undefined', async (_, behaviour) => {
    const bus = await fakeBus(behaviour);
    try {
      await expect(secretServiceAccounts({ address: bus.address, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toBeUndefined();
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['never answers AUTH', {}],
    ['answers Hello only', { auth: OK, answer: (serial: number) => (serial === 1 ? reply({ isLittle: true, replySerial: 1, isHello: true }) : undefined) }],
  ])('a peer that %s: undefined after the timeout, socket closed', async (_, behaviour) => {
    const bus = await fakeBus(behaviour);
    try {
      const { value, ms } = await timed(() => secretServiceAccounts({ address: bus.address, service: 'svc', names, timeoutMs: 300 }));
      expect(value).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1_500);
      await bus.closed; // the client destroyed its socket
    } finally {
      await bus.close();
    }
  });
});

describe('busSocketPaths: the D-Bus address list, as the specification reads it', () => {
  it.each([
    ['one path', 'unix:path=/run/user/1/bus', ['/run/user/1/bus']],
    ['a guid and other keys are ignored', 'unix:path=/a,guid=0123456789abcdef0123456789abcdef', ['/a']],
    ['every unix entry, in order', 'unix:path=/bad;unix:path=/good', ['/bad', '/good']],
    ['an abstract socket', 'unix:abstract=/tmp/dbus-x,guid=01', ['\0/tmp/dbus-x']],
    ['abstract then path', 'unix:abstract=a;unix:path=/b', ['\0a', '/b']],
    ['transports not spoken here are skipped', 'tcp:host=localhost,port=1;launchd:env=X;unix:path=/c', ['/c']],
    ['runtime=yes is $XDG_RUNTIME_DIR/bus', 'unix:runtime=yes', ['/run/user/7/bus']],
    ['%-escapes are decoded', 'unix:path=/tmp/a%3bb%2cc%20d', ['/tmp/a;b,c d']],
    ['server-only keys name no client socket', 'unix:tmpdir=/tmp;unix:dir=/tmp;unix:path=/d', ['/d']],
    ['an empty path is skipped', 'unix:path=;unix:path=/e', ['/e']],
    ['a NUL in a path is skipped', 'unix:path=/a%00b;unix:path=/f', ['/f']],
    ['empty entries are ignored', ';unix:path=/g;', ['/g']],
    ['a bad %-escape invalidates the whole address (libdbus)', 'unix:path=/ok;unix:path=/tmp/%zz', []],
    ['an entry without a method invalidates it', 'unix:path=/ok;garbage', []],
    ['a key without = invalidates it', 'unix:path', []],
  ])('%s', (_, address, expected) => {
    expect(busSocketPaths(address, '/run/user/7')).toEqual(expected);
  });

  it('runtime=yes without XDG_RUNTIME_DIR (or a relative one) names nothing', () => {
    expect(busSocketPaths('unix:runtime=yes', undefined)).toEqual([]);
    expect(busSocketPaths('unix:runtime=yes', 'relative')).toEqual([]);
  });
});

describe('the session bus is found as the binding finds it', () => {
  const names = ['a', 'b'];
  const expected = new Set(['b']); // serial 3 is odd: it has an item (honestAnswer)

  it('unix:path=/bad;unix:path=<good>: the second address is used', async () => {
    const bus = await fakeBus({ auth: OK, answer: honestAnswer(true) });
    try {
      const address = `unix:path=/nonexistent/okc-bus;${bus.address}`;
      await expect(secretServiceAccounts({ address, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toEqual(expected);
      await expect(pingSecretService({ address, timeoutMs: TIMEOUT_MS })).resolves.toBe('answered');
    } finally {
      await bus.close();
    }
  });

  it('a missing abstract socket, then a path: the path is used', async () => {
    const bus = await fakeBus({ auth: OK, answer: honestAnswer(true) });
    try {
      const address = `unix:abstract=okc-missing-${String(process.pid)};${bus.address}`;
      await expect(secretServiceAccounts({ address, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toEqual(expected);
    } finally {
      await bus.close();
    }
  });

  it('DBUS_SESSION_BUS_ADDRESS unset: $XDG_RUNTIME_DIR/bus', async () => {
    const runtimeDir = join(root, `runtime-${String(process.pid)}`);
    await mkdir(runtimeDir, { mode: 0o700 });
    const bus = await fakeBus({ path: join(runtimeDir, 'bus'), auth: OK, answer: honestAnswer(true) });
    try {
      for (const address of [undefined, '']) {
        await expect(secretServiceAccounts({ address, runtimeDir, service: 'svc', names, timeoutMs: TIMEOUT_MS })).resolves.toEqual(expected);
        await expect(pingSecretService({ address, runtimeDir, timeoutMs: TIMEOUT_MS })).resolves.toBe('answered');
      }
      // An address that is set wins over the default, as in libdbus.
      await expect(
        secretServiceAccounts({ address: 'unix:path=/nonexistent/okc-bus', runtimeDir, service: 'svc', names, timeoutMs: TIMEOUT_MS }),
      ).resolves.toBeUndefined();
    } finally {
      await bus.close();
    }
  });

  it('$XDG_RUNTIME_DIR/bus that is not a socket is not used', async () => {
    const runtimeDir = join(root, `runtime-file-${String(process.pid)}`);
    await mkdir(runtimeDir, { mode: 0o700 });
    await writeFile(join(runtimeDir, 'bus'), 'not a socket');
    await expect(pingSecretService({ address: undefined, runtimeDir, timeoutMs: TIMEOUT_MS })).resolves.toBe('unreachable');
  });
});

describe('pingSecretService: does the Secret Service answer, within the bound?', () => {
  it('a bus that answers Hello and the Ping: answered', async () => {
    const bus = await fakeBus({ auth: OK, answer: (serial) => reply({ isLittle: true, replySerial: serial, ...(serial === 1 ? { isHello: true } : {}) }) });
    try {
      await expect(pingSecretService({ address: bus.address, timeoutMs: TIMEOUT_MS })).resolves.toBe('answered');
      const sent = bus.received().toString('latin1');
      expect(sent).toContain('org.freedesktop.DBus.Peer');
      expect(sent).not.toMatch(/GetSecret|Unlock|OpenSession|SearchItems/);
    } finally {
      await bus.close();
    }
  });

  it('an error reply to the Ping (no Secret Service): answered, so the binding can say why at once', async () => {
    const bus = await fakeBus({
      auth: OK,
      answer: (serial) =>
        serial === 1
          ? reply({ isLittle: true, replySerial: 1, isHello: true })
          : reply({ isLittle: true, replySerial: serial, errorName: 'org.freedesktop.DBus.Error.ServiceUnknown' }),
    });
    try {
      await expect(pingSecretService({ address: bus.address, timeoutMs: TIMEOUT_MS })).resolves.toBe('answered');
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['never answers AUTH (a stopped dbus-daemon)', {}],
    ['answers Hello but not the Ping (a stopped keyring)', { auth: OK, answer: (serial: number) => (serial === 1 ? reply({ isLittle: true, replySerial: 1, isHello: true }) : undefined) }],
  ])('a bus that %s: silent, after the bound and not much later', async (_, behaviour) => {
    const bus = await fakeBus(behaviour);
    try {
      const { value, ms } = await timed(() => pingSecretService({ address: bus.address, timeoutMs: 300 }));
      expect(value).toBe('silent');
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1_500);
      await bus.closed;
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['a missing socket', 'unix:path=/nonexistent/okc-bus'],
    ['an address that does not parse', 'garbage'],
    ['no address and no XDG_RUNTIME_DIR', undefined],
  ])('%s: unreachable, at once', async (_, address) => {
    const { value, ms } = await timed(() => pingSecretService({ address, timeoutMs: TIMEOUT_MS }));
    expect(value).toBe('unreachable');
    expect(ms).toBeLessThan(1_000);
  });

  it('authentication refused: unreachable', async () => {
    const bus = await fakeBus({ auth: 'REJECTED EXTERNAL\r\n' });
    try {
      await expect(pingSecretService({ address: bus.address, timeoutMs: TIMEOUT_MS })).resolves.toBe('unreachable');
    } finally {
      await bus.close();
    }
  });
});

describe.skipIf(!HAS_KEYRING)('secretServiceAccounts: the real gnome-keyring (skipped: run inside bash test/run-with-keyring.sh)', () => {
  const address = process.env.DBUS_SESSION_BUS_ADDRESS;

  it('50 names asked, 25 stored: exactly the stored ones', async () => {
    const service = uniqueService('half');
    const names = Array.from({ length: 50 }, (_, index) => `conn-${String(index)}`);
    const stored = names.filter((_, index) => index % 2 === 0);
    for (const name of stored) store(service, name);
    await expect(secretServiceAccounts({ address, service, names, timeoutMs: TIMEOUT_MS })).resolves.toEqual(new Set(stored));
  }, SPAWNING_TEST_MS);

  it('names with spaces, Unicode and punctuation; exact matches only', async () => {
    const service = uniqueService('unicode');
    const stored = ['with space', 'émoji 🔑', '日本語', 'a,b;c=d', 'x'.repeat(300)];
    for (const name of stored) store(service, name);
    const asked = [...stored, 'with', 'with space ', 'Émoji 🔑', 'x'.repeat(299), ''];
    await expect(secretServiceAccounts({ address, service, names: asked, timeoutMs: TIMEOUT_MS })).resolves.toEqual(new Set(stored));
  }, SPAWNING_TEST_MS);

  it('another service with the same account names is not counted', async () => {
    const service = uniqueService('mine');
    store(uniqueService('theirs'), 'shared');
    store(service, 'own');
    await expect(secretServiceAccounts({ address, service, names: ['shared', 'own'], timeoutMs: TIMEOUT_MS })).resolves.toEqual(new Set(['own']));
  });

  it('an empty list: an empty set', async () => {
    await expect(secretServiceAccounts({ address, service: uniqueService('empty'), names: [], timeoutMs: TIMEOUT_MS })).resolves.toEqual(new Set());
  });

  it('a real bus with no Secret Service (ServiceUnknown): undefined', async () => {
    const config = join(root, 'bus.conf');
    await writeFile(
      config,
      `<busconfig><type>session</type><listen>unix:dir=${root}</listen><auth>EXTERNAL</auth>
       <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
       </busconfig>`,
    );
    // The policy of Debian's session.conf, but no <servicedir>: nothing can be activated, so org.freedesktop.secrets is unknown.
    const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const busAddress = await new Promise<string>((resolve, reject) => {
        daemon.once('error', reject);
        daemon.once('exit', (code) => { reject(new Error(`dbus-daemon exited with ${String(code)}`)); });
        daemon.stdout.once('data', (chunk: Buffer) => { resolve(chunk.toString().trim()); });
      });
      const { value, ms } = await timed(() => secretServiceAccounts({ address: busAddress, service: 'svc', names: ['a', 'b'], timeoutMs: TIMEOUT_MS }));
      expect(value).toBeUndefined();
      expect(ms).toBeLessThan(1_000);
    } finally {
      daemon.kill();
    }
  });

  it('benchmark (printed, not asserted): 50 names vs findCredentialsAsync', async () => {
    const service = uniqueService('bench');
    const names = Array.from({ length: 50 }, (_, index) => `bench-${String(index)}`);
    for (const name of names.slice(0, 25)) store(service, name);
    const median = async (run: () => Promise<unknown>): Promise<number> => {
      const times: number[] = [];
      for (let round = 0; round < 7; round += 1) times.push((await timed(run)).ms);
      return times.sort((a, b) => a - b)[3] ?? Number.NaN;
    };
    const search = await median(() => secretServiceAccounts({ address, service, names, timeoutMs: TIMEOUT_MS }));
    const find = await median(() => findCredentialsAsync(service));
    console.log(
      `secret-service-search: 50 names (25 stored), median of 7: SearchItems ${search.toFixed(1)} ms, findCredentialsAsync ${find.toFixed(1)} ms`,
    );
    expect((await findCredentialsAsync(service)).length).toBe(25);
  }, SPAWNING_TEST_MS);
});
