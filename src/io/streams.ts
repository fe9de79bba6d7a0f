import type { Readable, Writable } from 'node:stream';
import { UsageError } from '../domain/errors.js';

/** The streams a command may use, and the terminal decisions made once, here. */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  isStdinTTY: boolean;
  isStdoutTTY: boolean;
  isStderrTTY: boolean;
  /** stdin and stderr are terminals and neither CI nor OKTA_CONNECT_NO_PROMPT is set. */
  canPrompt: boolean;
  /** Colour on stderr/stdout, decided from NO_COLOR, FORCE_COLOR, --no-color and the terminals. */
  color: boolean;
  /** The width of the terminal stdout is, or undefined when it is not one (COLUMNS wins, as shells set it). */
  columns: number | undefined;
}

export interface StreamSet {
  /** Read only when a command reads stdin: process.stdin is ~1 ms to create, which --help and list never need. */
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  /** Whether stdin is a terminal, when known without making the stream (tty.isatty(0)); else stdin.isTTY. */
  isStdinTTY?: boolean;
}

export function makeIO(streams: StreamSet, env: Readonly<Record<string, string | undefined>>, noColorFlag: boolean): IO {
  const isStdinTTY = streams.isStdinTTY ?? streams.stdin.isTTY === true;
  const isStdoutTTY = streams.stdout.isTTY === true;
  const isStderrTTY = streams.stderr.isTTY === true;
  const isSet = (name: string): boolean => (env[name] ?? '') !== '';
  const canPrompt = isStdinTTY && isStderrTTY && !isSet('CI') && !isSet('OKTA_CONNECT_NO_PROMPT');
  let color = isStderrTTY;
  if (isSet('FORCE_COLOR') && env.FORCE_COLOR !== '0') color = true;
  if (isSet('NO_COLOR') || noColorFlag || env.FORCE_COLOR === '0') color = false;
  const fromEnv = Number(env.COLUMNS);
  const columns = !isStdoutTTY ? undefined : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : streams.stdout.columns;
  return {
    get stdin() {
      return streams.stdin;
    },
    stdout: streams.stdout,
    stderr: streams.stderr,
    isStdinTTY,
    isStdoutTTY,
    isStderrTTY,
    canPrompt,
    color,
    columns,
  };
}

/**
 * Read all of a stream as text (for --token-stdin), but never more than `maxBytes`: `yes | okta-connect add …` must
 * end, and 400 MB must not take 1.2 GB. Past the limit it stops reading (which destroys the stream) and says so.
 */
export async function readAll(stream: Readable, maxBytes: number): Promise<{ text: string; isOverLimit: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) return { text: '', isOverLimit: true };
    chunks.push(buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), isOverLimit: false };
}

/** The contract's bound on --token-stdin: a token is at most 200 characters, a PEM key a few KiB, so this is generous. */
export const MAX_STDIN_BYTES = 64 * 1024;

/** A secret piped to --token-stdin: at most 64 KiB, not empty; `example` is the command line the hint shows. */
export async function readStdinSecret(stdin: Readable, example: string, what: 'token' | 'private key' = 'token'): Promise<string> {
  const { text, isOverLimit } = await readAll(stdin, MAX_STDIN_BYTES);
  if (isOverLimit) {
    const why = what === 'token' ? 'a token is at most 200 characters' : 'one private key is a few KiB';
    throw new UsageError(`--token-stdin: stdin held more than 64 KiB, and ${why}: nothing was saved`, {
      hint: `pipe only the ${what}: ${example}`,
    });
  }
  if (text.trim() === '') throw new UsageError('--token-stdin: stdin was empty', { hint: example });
  return text;
}
