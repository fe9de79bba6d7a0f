import { createConnection } from 'node:net';

/**
 * A minimal D-Bus client with one purpose: ask the Secret Service which accounts exist under a service, by attributes
 * only. It never reads a secret and never unlocks anything (SearchItems returns locked items too).
 */
export interface SecretServiceSearchOptions {
  /** DBUS_SESSION_BUS_ADDRESS. */
  address: string | undefined;
  service: string;
  names: string[];
  timeoutMs: number;
}

/** The names that have an item, or undefined when the Secret Service could not tell (any failure; never throws). */
export async function secretServiceAccounts(options: SecretServiceSearchOptions): Promise<Set<string> | undefined> {
  if (options.names.length === 0) return new Set();
  const path = socketPath(options.address);
  const uid = process.getuid?.();
  if (path === undefined || uid === undefined) return undefined;
  const auth = `\0AUTH EXTERNAL ${Buffer.from(String(uid), 'ascii').toString('hex')}\r\n`;
  const pending = new Map<number, string>(options.names.map((name, index) => [index + 2, name]));
  const calls = [
    methodCall(1, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello'),
    ...[...pending].map(([serial, name]) =>
      methodCall(serial, 'org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service',
        'SearchItems', searchBody(options.service, name)),
    ),
  ];

  try {
    return await search(path, auth, pending, calls, options.timeoutMs);
  } catch {
    return undefined; // defensive: the contract is never to throw
  }
}

/** Authenticates, sends every call at once, and collects the replies to the calls in `pending` (serial → name). */
function search(
  path: string, auth: string, pending: Map<number, string>, calls: Buffer[], timeoutMs: number,
): Promise<Set<string> | undefined> {
  return new Promise((resolve) => {
    const found = new Set<string>();
    let buffered = Buffer.alloc(0);
    let isAuthenticated = false;
    const socket = createConnection({ path });
    const timer = setTimeout(() => { finish(undefined); }, timeoutMs);
    function finish(result: Set<string> | undefined): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('error', () => { finish(undefined); });
    socket.on('close', () => { finish(undefined); });
    socket.on('connect', () => socket.write(auth, 'latin1'));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        if (!isAuthenticated) {
          const end = buffered.indexOf('\r\n');
          if (end < 0) return;
          if (!buffered.subarray(0, end).toString('latin1').startsWith('OK')) { finish(undefined); return; }
          buffered = buffered.subarray(end + 2);
          isAuthenticated = true;
          socket.write(Buffer.concat([Buffer.from('BEGIN\r\n', 'latin1'), ...calls]));
        }
        for (;;) {
          const length = frameLength(buffered);
          if (length === undefined || length > buffered.length) return;
          const message = parseMessage(buffered.subarray(0, length));
          buffered = buffered.subarray(length);
          if (message.type === ERROR) { finish(undefined); return; }
          const name = message.type === METHOD_RETURN ? pending.get(message.replySerial) : undefined;
          if (name === undefined) continue; // signals, the Hello reply
          if (message.signature !== 'aoao') { finish(undefined); return; }
          if (hasItems(message.body)) found.add(name);
          pending.delete(message.replySerial);
          if (pending.size === 0) { finish(found); return; }
        }
      } catch {
        finish(undefined); // malformed input
      }
    });
  });
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
const MAX_MESSAGE = 128 * 1024 * 1024;

/** The socket path of the first unix address that names one (`unix:path=` or `unix:abstract=`), else undefined. */
function socketPath(address: string | undefined): string | undefined {
  for (const entry of (address ?? '').split(';')) {
    if (!entry.startsWith('unix:')) continue;
    const pairs = new Map(entry.slice(5).split(',').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    }));
    const path = pairs.get('path');
    const abstract = pairs.get('abstract');
    try {
      if (path) return decodeURIComponent(path);
      if (abstract) return `\0${decodeURIComponent(abstract)}`;
    } catch {
      return undefined; // a bad %-escape
    }
  }
  return undefined;
}

/** Marshals little-endian D-Bus values; offsets are relative to the message start, so alignment is exact. */
class Writer {
  readonly bytes: number[] = [];
  pad(alignment: number): void {
    while (this.bytes.length % alignment !== 0) this.bytes.push(0);
  }
  u8(value: number): void {
    this.bytes.push(value);
  }
  u32(value: number): void {
    this.pad(4);
    this.bytes.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
  }
  raw(data: Iterable<number>): void {
    for (const byte of data) this.bytes.push(byte);
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
    const at = this.bytes.length - 4;
    this.pad(elementAlignment);
    const start = this.bytes.length;
    fill();
    const length = this.bytes.length - start;
    this.bytes.splice(at, 4, length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff, length >>> 24);
  }
}

function searchBody(service: string, name: string): { signature: string; body: number[] } {
  const writer = new Writer();
  writer.array(8, () => {
    for (const [key, value] of [['service', service], ['username', name]] as const) {
      writer.pad(8);
      writer.string(key);
      writer.string(value);
    }
  });
  return { signature: 'a{ss}', body: writer.bytes };
}

function methodCall(serial: number, destination: string, path: string, iface: string, member: string,
  args: { signature: string; body: number[] } = { signature: '', body: [] }): Buffer {
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
  return Buffer.from(writer.bytes);
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
