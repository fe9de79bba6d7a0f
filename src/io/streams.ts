import type { Readable, Writable } from 'node:stream';

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
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
}

export function makeIO(streams: StreamSet, env: Readonly<Record<string, string | undefined>>, noColorFlag: boolean): IO {
  const isStdinTTY = streams.stdin.isTTY === true;
  const isStdoutTTY = streams.stdout.isTTY === true;
  const isStderrTTY = streams.stderr.isTTY === true;
  const isSet = (name: string): boolean => (env[name] ?? '') !== '';
  const canPrompt = isStdinTTY && isStderrTTY && !isSet('CI') && !isSet('OKTA_CONNECT_NO_PROMPT');
  let color = isStderrTTY;
  if (isSet('FORCE_COLOR') && env.FORCE_COLOR !== '0') color = true;
  if (isSet('NO_COLOR') || noColorFlag || env.FORCE_COLOR === '0') color = false;
  const fromEnv = Number(env.COLUMNS);
  const columns = !isStdoutTTY ? undefined : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : streams.stdout.columns;
  return { ...streams, isStdinTTY, isStdoutTTY, isStderrTTY, canPrompt, color, columns };
}

/** Read all of a stream as text (for --token-stdin). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}
