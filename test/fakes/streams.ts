import { Readable, Writable } from 'node:stream';

// eslint-disable-next-line no-control-regex
const SPINNER = /\r\u001b\[2K(?:[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [^\r\n]*)?/g;
// eslint-disable-next-line no-control-regex
const ANSI_COLOUR = /\u001b\[[0-9;]*m/g;

/** A writable that keeps everything written to it as text. */
export class Capture extends Writable {
  isTTY: boolean;
  private chunks: string[] = [];

  constructor(isTTY: boolean) {
    super({ decodeStrings: false });
    this.isTTY = isTTY;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    callback();
  }

  text(): string {
    return this.chunks.join('');
  }

  /** The text with spinner control sequences and colours removed. */
  plain(): string {
    return this.text().replace(SPINNER, '').replace(ANSI_COLOUR, '');
  }
}

/** A stdin that is a pipe nobody closes: reading it waits forever. */
export const NEVER_ENDING = '\u0000never-ending\u0000';

/** stdin for tests: given text (then end), or a stream that never ends. Records whether anyone read it. */
export class FakeStdin extends Readable {
  isTTY: boolean;
  wasRead = false;
  private pending: string | undefined;
  private readonly neverEnds: boolean;

  constructor(input: string, isTTY: boolean) {
    super();
    this.isTTY = isTTY;
    this.neverEnds = input === NEVER_ENDING;
    this.pending = this.neverEnds ? undefined : input;
  }

  override _read(): void {
    this.wasRead = true;
    if (this.neverEnds) return;
    if (this.pending !== undefined && this.pending !== '') this.push(Buffer.from(this.pending));
    this.pending = undefined;
    this.push(null);
  }
}

// ---------------------------------------------------------------- event log shared by the fakes

