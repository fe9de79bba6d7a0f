import * as z from 'zod/mini';

/**
 * A connection's secret command: an argument vector (never a shell string) run at use time, whose stdout is the secret
 * (`credential_process` style). It is stored in connections.json, so it must never hold a secret itself.
 */
export type SecretCommand = string[];

/** How long a secret command may run, unless --secret-timeout says otherwise. */
export const DEFAULT_SECRET_TIMEOUT_S = 30;
export const DEFAULT_SECRET_TIMEOUT_MS = DEFAULT_SECRET_TIMEOUT_S * 1000;

export const SECRET_COMMAND_HINT = "give the command that prints the token, e.g. --secret-command -- pass show okta/prod (a shell: sh -c '…')";

const MAX_ARGS = 64;
const MAX_ARG_CHARS = 4096;

/** An Okta API token ("00" and 40 url-safe characters) standing as a word of its own, anywhere in an argument. */
const TOKEN_SHAPED = /(?<![A-Za-z0-9_-])00[A-Za-z0-9_-]{40}(?![A-Za-z0-9_-])/;
/** `SSWS <token>` of an Authorization header. */
const SSWS_HEADER = /\bSSWS\s+[A-Za-z0-9_-]{20,}/;
/** A PEM private key, a private JWK (its `d` member), or the base64 DER of a PKCS#1/PKCS#8 key. */
const KEY_SHAPED = [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, /"d"\s*:\s*"[A-Za-z0-9_-]{16,}/, /\bMII[A-Za-z0-9+/]{60,}/];

/** Why an argv cannot be a secret command, or undefined when it can. The message never quotes the argument. */
export function secretCommandProblem(argv: readonly string[]): string | undefined {
  if (argv.length === 0 || argv[0] === '') return 'the secret command is empty';
  if (argv.length > MAX_ARGS) return `the secret command has more than ${String(MAX_ARGS)} arguments`;
  for (const [index, arg] of argv.entries()) {
    const which = index === 0 ? 'the command name' : `argument ${String(index)}`;
    if (arg.length > MAX_ARG_CHARS) return `${which} of the secret command is longer than ${String(MAX_ARG_CHARS)} characters`;
    // Tabs and newlines may stand in an `sh -c` script; no other control character belongs in a command.
    if (/[^\P{Cc}\t\n]/u.test(arg)) return `${which} of the secret command contains control characters`;
    if (TOKEN_SHAPED.test(arg) || SSWS_HEADER.test(arg)) {
      return `${which} of the secret command looks like an API token: a command never holds the secret (it is saved in connections.json and shows in ps); keep the token in your secret manager`;
    }
    if (KEY_SHAPED.some((shape) => shape.test(arg))) {
      return `${which} of the secret command looks like a private key: a command never holds the secret (it is saved in connections.json and shows in ps); keep the key in your secret manager`;
    }
  }
  return undefined;
}

/** A secret command as given on the command line or read back from connections.json. */
export const secretCommandSchema = z.lazy(() =>
  z.array(z.string()).check((ctx) => {
    const problem = secretCommandProblem(ctx.value);
    if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  }),
);

/** Characters a shell would act on: a command typed at the prompt is not run by one, so they are refused unquoted. */
const SHELL_SYNTAX = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);

/**
 * A command line typed at the prompt, split into words as a shell would (spaces; '…' and "…" quotes; backslash escapes)
 * without running a shell: no variables, pipes or globs. Returns the argv, or a reason it cannot be split.
 */
export function splitCommandLine(line: string): { argv: SecretCommand } | { problem: string } {
  const argv: string[] = [];
  // undefined between words; '' is a word begun by an empty pair of quotes.
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  // Code points: an escape or a quote is never half of a character.
  const chars = Array.from(line);
  for (let i = 0; i < chars.length; i += 1) {
    const char = chars[i] ?? '';
    const next = chars[i + 1] ?? '';
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word = `${word ?? ''}${char}`;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '$' || char === '`') return { problem: `"${char}" inside double quotes is not expanded here: use single quotes, or sh -c '…'` };
      else if (char === '\\' && (next === '"' || next === '\\')) {
        word = `${word ?? ''}${next}`;
        i += 1;
      } else word = `${word ?? ''}${char}`;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (char === '\\') {
      word = `${word ?? ''}${next}`;
      i += 1;
    } else if (/\s/.test(char)) {
      if (word !== undefined) argv.push(word);
      word = undefined;
    } else if (SHELL_SYNTAX.has(char) || (char === '~' && word === undefined)) {
      return { problem: `"${char}" is shell syntax, and this command is not run by a shell: write sh -c '…' to use one` };
    } else {
      word = `${word ?? ''}${char}`;
    }
  }
  if (quote !== undefined) return { problem: `a ${quote === "'" ? 'single' : 'double'} quote is not closed` };
  if (word !== undefined) argv.push(word);
  return { argv };
}

/** The argv as a person would type it (quoted where needed), for messages; never longer than `max` characters. */
export function displayCommand(argv: readonly string[], max = 120): string {
  const text = argv
    .map((arg) => arg.replace(/[\t\n]/g, ' '))
    .map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`))
    .join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
