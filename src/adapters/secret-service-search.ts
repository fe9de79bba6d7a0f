import { lstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';

/**
 * A minimal D-Bus client with two purposes: ask the Secret Service which accounts exist under a service, by attributes
 * only (it never reads a secret and never unlocks anything: SearchItems returns locked items too), and prove, within a
 * bound, that the bus and the Secret Service answer at all before the keychain binding is touched (the binding connects
 * on the main thread with no timeout: a bus that accepts and never answers would hang the process for good).
 */
export interface SessionBus {
  /** DBUS_SESSION_BUS_ADDRESS. */
  address: string | undefined;
  /** XDG_RUNTIME_DIR: with no address, `$XDG_RUNTIME_DIR/bus` is the session bus, as libdbus and sd-bus take it. */
  runtimeDir?: string | undefined;
}

export interface SecretServiceSearchOptions extends SessionBus {
  service: string;
  names: string[];
  timeoutMs: number;
}

/** The names that have an item, or undefined when the Secret Service could not tell (any failure; never throws). */
export async function secretServiceAccounts(options: SecretServiceSearchOptions): Promise<Set<string> | undefined> {
  if (options.names.length === 0) return new Set();
  const pending = new Map<number, string>(options.names.map((name, index) => [index + 2, name]));
  // Made once a socket has connected: with no bus (CI, SSH) nobody pays for marshalling 50 calls.
  const calls = (): Buffer[] =>
    [...pending].map(([serial, name]) =>
      methodCall(serial, SECRETS, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service', 'SearchItems', searchBody(options.service, name)),
    );
  const found = new Set<string>();
  const outcome = await converse(options, calls, options.timeoutMs, (message) => {
    if (message.type === ERROR) return FAILED;
    const name = message.type === METHOD_RETURN ? pending.get(message.replySerial) : undefined;
    if (name === undefined) return undefined; // signals, the Hello reply
    if (message.signature !== 'aoao') return FAILED;
    if (hasItems(message.body)) found.add(name);
    pending.delete(message.replySerial);
    return pending.size === 0 ? found : undefined;
  });
  return outcome.kind === 'answered' ? outcome.value : undefined;
}

/**
 * `silent`: a bus was reached but it, or the Secret Service behind it, did not answer within `timeoutMs` (a stopped
 * daemon, a hung keyring): the binding must not be called. `answered`: it answered (perhaps "no such service": the
 * binding then fails on its own, at once). `unreachable`: no socket of the address could be connected to, or the bus
 * refused us; the binding fails at once too. Never throws.
 */
export type BusPing = 'answered' | 'silent' | 'unreachable';

export async function pingSecretService(options: SessionBus & { timeoutMs: number }): Promise<BusPing> {
  // Peer.Ping on the Secret Service's name: the bus routes it (starting the service if it is activatable, as the
  // binding's first call would), and the service itself answers.
  const ping = (): Buffer[] => [methodCall(2, SECRETS, '/org/freedesktop/secrets', 'org.freedesktop.DBus.Peer', 'Ping')];
  const outcome = await converse(options, ping, options.timeoutMs, (message) =>
    message.replySerial === 2 && (message.type === METHOD_RETURN || message.type === ERROR) ? true : undefined,
  );
  if (outcome.kind === 'answered') return 'answered';
  if (outcome.kind === 'silent') return 'silent';
  return 'unreachable';
}

const SECRETS = 'org.freedesktop.secrets';
/** Returned by a message handler: the conversation failed. */
const FAILED = Symbol('failed');
type Outcome<T> = { kind: 'answered'; value: T } | { kind: 'failed' } | { kind: 'unreachable' } | { kind: 'silent' };
type Message = ReturnType<typeof parseMessage>;
type Handler<T> = (message: Message) => T | undefined | typeof FAILED;

/**
 * Connects to the first socket of the bus address that accepts (the D-Bus specification's order), authenticates,
 * says Hello, sends the `calls` (made once connected) at once, and feeds every message to `handle` until it returns a
 * value (or FAILED). The whole conversation, connecting included, is bounded by `timeoutMs`.
 */
async function converse<T>(bus: SessionBus, calls: () => Buffer[], timeoutMs: number, handle: Handler<T>): Promise<Outcome<T>> {
  const uid = process.getuid?.();
  const deadline = Date.now() + timeoutMs;
  let paths: string[];
  try {
    paths = sessionBusPaths(bus);
  } catch {
    paths = [];
  }
  if (uid === undefined) return { kind: 'unreachable' };
  const auth = `\0AUTH EXTERNAL ${Buffer.from(String(uid), 'ascii').toString('hex')}\r\n`;
  for (const path of paths) {
    const socket = await connectWithin(path, deadline - Date.now());
    if (socket === 'silent') return { kind: 'silent' };
    if (socket === undefined) continue; // the next address, as the specification says
    return talk(socket, auth, calls, deadline - Date.now(), handle);
  }
  return { kind: 'unreachable' };
}

/** A connected socket, undefined when this address refuses, or 'silent' when connecting outlasts the bound. */
async function connectWithin(path: string, timeoutMs: number): Promise<Socket | undefined | 'silent'> {
  // Loaded here, not at start-up: --help and a list without a bus never need it.
  const { createConnection } = await import('node:net');
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('silent');
    }, Math.max(0, timeoutMs));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
  });
}

/** The calls are marshalled once AUTH is on its way, while the bus answers it (their first use is after its reply). */
function talk<T>(socket: Socket, auth: string, makeCalls: () => Buffer[], timeoutMs: number, handle: Handler<T>): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let calls: Buffer[] = [];
    let buffered = Buffer.alloc(0);
    let isAuthenticated = false;
    const timer = setTimeout(() => { finish({ kind: 'silent' }); }, Math.max(0, timeoutMs));
    function finish(outcome: Outcome<T>): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.on('error', () => { finish({ kind: 'failed' }); });
    socket.on('close', () => { finish({ kind: 'failed' }); });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        if (!isAuthenticated) {
          const end = buffered.indexOf('\r\n');
          if (end < 0) return;
          if (!buffered.subarray(0, end).toString('latin1').startsWith('OK')) { finish({ kind: 'failed' }); return; }
          buffered = buffered.subarray(end + 2);
          isAuthenticated = true;
          socket.write(Buffer.concat([Buffer.from('BEGIN\r\n', 'latin1'), ...calls]));
        }
        for (;;) {
          const length = frameLength(buffered);
          if (length === undefined || length > buffered.length) return;
          const message = parseMessage(buffered.subarray(0, length));
          buffered = buffered.subarray(length);
          if (message.type === ERROR && message.replySerial === 1) { finish({ kind: 'failed' }); return; } // Hello refused
          const result = handle(message);
          if (result === FAILED) { finish({ kind: 'failed' }); return; }
          if (result !== undefined) { finish({ kind: 'answered', value: result }); return; }
        }
      } catch {
        finish({ kind: 'failed' }); // malformed input
      }
    });
    socket.write(auth, 'latin1');
    const hello = methodCall(1, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello');
    calls = [hello, ...makeCalls()];
  });
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
const MAX_MESSAGE = 128 * 1024 * 1024;

/**
 * The sockets a client tries, in order: each `unix:` entry of the address that names one (`path=`, `abstract=`, or
 * `runtime=yes` for `$XDG_RUNTIME_DIR/bus`); with no address, `$XDG_RUNTIME_DIR/bus` when it is a socket of ours (what
 * libdbus checks before using it). Other transports (tcp:, launchd:, autolaunch:) are not spoken here.
 */
function sessionBusPaths(bus: SessionBus): string[] {
  if (bus.address !== undefined && bus.address !== '') return busSocketPaths(bus.address, bus.runtimeDir);
  const path = runtimeBus(bus.runtimeDir);
  if (path === undefined) return [];
  const info = lstatSync(path);
  return info.isSocket() && info.uid === process.getuid?.() ? [path] : [];
}

function runtimeBus(runtimeDir: string | undefined): string | undefined {
  return runtimeDir !== undefined && runtimeDir.startsWith('/') ? join(runtimeDir, 'bus') : undefined;
}

/**
 * The unix socket paths of a D-Bus address, in order (abstract ones as `\0name`). As in libdbus, an address that does
 * not parse (an entry without a method, a key without `=`, a bad %-escape) yields nothing at all; an entry that names
 * no client socket (a server's `dir=`/`tmpdir=`, a NUL in a path) is skipped.
 */
export function busSocketPaths(address: string, runtimeDir: string | undefined): string[] {
  const paths: string[] = [];
  for (const entry of address.split(';')) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) return [];
    const pairs = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      if (pair === '') continue;
      const at = pair.indexOf('=');
      if (at <= 0) return [];
      const value = unescapeValue(pair.slice(at + 1));
      if (value === undefined) return [];
      pairs.set(pair.slice(0, at), value);
    }
    if (entry.slice(0, colon) !== 'unix') continue;
    const path = clientSocket(pairs, runtimeDir);
    if (path !== undefined) paths.push(path);
  }
  return paths;
}

function clientSocket(pairs: Map<string, string>, runtimeDir: string | undefined): string | undefined {
  const usable = (name: string | undefined): name is string => name !== undefined && name !== '' && !name.includes('\0');
  const path = pairs.get('path');
  if (path !== undefined) return usable(path) ? path : undefined;
  const abstract = pairs.get('abstract');
  if (abstract !== undefined) return usable(abstract) ? `\0${abstract}` : undefined;
  return pairs.get('runtime') === 'yes' ? runtimeBus(runtimeDir) : undefined;
}

/** The specification's escaping: any byte may be written %XX; undefined for a bad escape. */
function unescapeValue(value: string): string | undefined {
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(value)) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined; // %-escapes that are not UTF-8
  }
}

/**
 * Marshals little-endian D-Bus values into a buffer that grows as needed; offsets are relative to the message start, so
 * alignment is exact.
 */
class Writer {
  private data = Buffer.alloc(256);
  length = 0;
  /** Room for `count` more bytes; a new buffer is zero-filled, so padding is only a move of the end. */
  private reserve(count: number): void {
    if (this.length + count <= this.data.length) return;
    const bigger = Buffer.alloc(Math.max(this.data.length * 2, this.length + count));
    this.data.copy(bigger, 0, 0, this.length);
    this.data = bigger;
  }
  pad(alignment: number): void {
    const count = (alignment - (this.length % alignment)) % alignment;
    this.reserve(count);
    this.length += count;
  }
  u8(value: number): void {
    this.reserve(1);
    this.data[this.length++] = value;
  }
  u32(value: number): void {
    this.pad(4);
    this.reserve(4);
    this.length = this.data.writeUInt32LE(value >>> 0, this.length);
  }
  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.data.set(data, this.length);
    this.length += data.length;
  }
  string(value: string): void {
    const data = Buffer.from(value, 'utf8');
    this.u32(data.length);
    this.raw(data);
    this.u8(0);
  }
  signature(value: string): void {
    this.u8(value.length);
    this.raw(Buffer.from(value, 'latin1'));
    this.u8(0);
  }
  /** The length excludes the padding to the first element, as the spec says. */
  array(elementAlignment: number, fill: () => void): void {
    this.u32(0);
    const at = this.length - 4;
    this.pad(elementAlignment);
    const start = this.length;
    fill();
    this.data.writeUInt32LE(this.length - start, at);
  }
  bytes(): Buffer {
    return this.data.subarray(0, this.length);
  }
}

function searchBody(service: string, name: string): { signature: string; body: Buffer } {
  const writer = new Writer();
  writer.array(8, () => {
    for (const [key, value] of [['service', service], ['username', name]] as const) {
      writer.pad(8);
      writer.string(key);
      writer.string(value);
    }
  });
  return { signature: 'a{ss}', body: writer.bytes() };
}

function methodCall(serial: number, destination: string, path: string, iface: string, member: string,
  args: { signature: string; body: Buffer } = { signature: '', body: Buffer.alloc(0) }): Buffer {
  const fields: [number, string, string][] = [[1, 'o', path], [2, 's', iface], [3, 's', member], [6, 's', destination]];
  if (args.signature !== '') fields.push([8, 'g', args.signature]);
  const writer = new Writer();
  writer.u8(0x6c); // 'l': little-endian
  writer.u8(METHOD_CALL);
  writer.u8(0); // flags
  writer.u8(1); // protocol version
  writer.u32(args.body.length);
  writer.u32(serial);
  writer.array(8, () => {
    for (const [code, type, value] of fields) {
      writer.pad(8);
      writer.u8(code);
      writer.signature(type);
      if (type === 'g') writer.signature(value);
      else writer.string(value);
    }
  });
  writer.pad(8);
  writer.raw(args.body);
  return writer.bytes();
}

/** Reads D-Bus values in either byte order; throws RangeError past the end. */
class Reader {
  at = 0;
  constructor(private readonly data: Buffer, private readonly isLittle: boolean) {}
  pad(alignment: number): void {
    this.at += (alignment - (this.at % alignment)) % alignment;
  }
  u8(): number {
    return this.data.readUInt8(this.at++);
  }
  u32(): number {
    this.pad(4);
    const value = this.isLittle ? this.data.readUInt32LE(this.at) : this.data.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }
  text(length: number): string {
    if (this.at + length >= this.data.length) throw new RangeError('short message');
    const value = this.data.toString('utf8', this.at, this.at + length);
    this.at += length + 1;
    return value;
  }
}

function byteOrder(data: Buffer): boolean {
  if (data[0] === 0x6c) return true;
  if (data[0] === 0x42) return false;
  throw new RangeError('bad byte order');
}

/** The length of the first message in the buffer, once its fixed header is in. */
function frameLength(data: Buffer): number | undefined {
  if (data.length < 16) return undefined;
  const isLittle = byteOrder(data);
  const fields = isLittle ? data.readUInt32LE(12) : data.readUInt32BE(12);
  const body = isLittle ? data.readUInt32LE(4) : data.readUInt32BE(4);
  const length = Math.ceil((16 + fields) / 8) * 8 + body;
  if (length > MAX_MESSAGE) throw new RangeError('message too long');
  return length;
}

/** The parts we use; replySerial is 0 (never one of ours) when absent. */
function parseMessage(data: Buffer): { type: number; replySerial: number; signature: string; body: Reader } {
  const reader = new Reader(data, byteOrder(data));
  reader.at = 1;
  const type = reader.u8();
  reader.at = 12;
  const fieldsEnd = reader.u32() + 16;
  let replySerial = 0;
  let signature = '';
  while (reader.at < fieldsEnd) {
    reader.pad(8);
    const code = reader.u8();
    const valueType = reader.text(reader.u8());
    if (valueType === 'u') {
      const value = reader.u32();
      if (code === 5) replySerial = value;
    } else if (valueType === 'g') {
      const value = reader.text(reader.u8());
      if (code === 8) signature = value;
    } else if (valueType === 's' || valueType === 'o') {
      reader.text(reader.u32());
    } else {
      throw new RangeError(`unexpected header field type ${valueType}`);
    }
  }
  reader.pad(8);
  return { type, replySerial, signature, body: reader };
}

/** `(ao ao)`: unlocked and locked item paths; only their byte lengths matter. */
function hasItems(body: Reader): boolean {
  const unlocked = body.u32();
  body.at += unlocked;
  const locked = body.u32();
  return unlocked > 0 || locked > 0;
}
