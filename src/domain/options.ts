import * as z from 'zod/mini';
import { NAME_HINT, ORG_URL_HINT, TOKEN_SHAPED, nameSchema, orgUrlSchema } from './connection.js';
import { UsageError } from './errors.js';
import { DEFAULT_SECRET_TIMEOUT_S, SECRET_COMMAND_HINT } from './secret-command.js';

/** Seconds on the command line, milliseconds inside; every command that waits on Okta has the same default. */
export const DEFAULT_TIMEOUT_S = 15;
// Below 0.1 s no test can finish (1e-9 rounded to 0 ms, an instant timeout); above 600 s a hang looks like a wait.
const MIN_TIMEOUT_S = 0.1;
const MAX_TIMEOUT_S = 600;
/** Plain decimal seconds: no exponent, hex or sign, which Number() would take (1e-9, 0x10, +5). */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A number of seconds from the command line, as milliseconds. */
const secondsSchema = (defaultSeconds: number) => z.pipe(
  z._default(z.string(), String(defaultSeconds)),
  z.transform((raw: string, ctx) => {
    const value = Number(raw);
    if (!DECIMAL.test(raw.trim()) || value < MIN_TIMEOUT_S || value > MAX_TIMEOUT_S) {
      ctx.issues.push({
        code: 'custom',
        message: `"${raw}" is not a number of seconds from ${String(MIN_TIMEOUT_S)} to ${String(MAX_TIMEOUT_S)}`,
        input: raw,
      });
      return z.NEVER;
    }
    return Math.round(value * 1000);
  }),
);

export const timeoutSchema = z.lazy(() => secondsSchema(DEFAULT_TIMEOUT_S));

/** Zod's first message, for a prompt's validate callback: invalid input is explained and asked again. */
export function promptValidator(schema: z.ZodMiniType): (value: string) => string | true {
  return (value) => {
    const result = schema.safeParse(value);
    return result.success ? true : (result.error.issues[0]?.message ?? 'invalid value');
  };
}

export const KEYCHAIN_TIMEOUT_VAR = 'OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS';
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 10_000;
const MIN_KEYCHAIN_TIMEOUT_MS = 100;
const MAX_KEYCHAIN_TIMEOUT_MS = 600_000;

/**
 * How long a keychain call may take: OKTA_CONNECT_KEYCHAIN_TIMEOUT_MS, whole milliseconds from 100 to 600000 (Node's
 * timers overflow above 2^31 - 1 ms and fire after 1 ms), else a usage error naming the variable.
 */
export function keychainTimeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[KEYCHAIN_TIMEOUT_VAR];
  if (raw === undefined || raw === '') return DEFAULT_KEYCHAIN_TIMEOUT_MS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < MIN_KEYCHAIN_TIMEOUT_MS || value > MAX_KEYCHAIN_TIMEOUT_MS) {
    throw new UsageError(
      `invalid ${KEYCHAIN_TIMEOUT_VAR}: "${raw}" is not a whole number of milliseconds from ${String(MIN_KEYCHAIN_TIMEOUT_MS)} to ${String(MAX_KEYCHAIN_TIMEOUT_MS)}`,
      { hint: `unset it (the default is ${String(DEFAULT_KEYCHAIN_TIMEOUT_MS)}) or set e.g. ${KEYCHAIN_TIMEOUT_VAR}=30000` },
    );
  }
  return value;
}

/** How each validated flag is named in a refusal, and what to do about it. */
const FIELDS: Record<string, { what: string; hint: string }> = {
  name: { what: 'name', hint: NAME_HINT },
  orgUrl: { what: 'API address', hint: ORG_URL_HINT },
  timeout: { what: '--timeout', hint: 'e.g. --timeout 30' },
  secretTimeout: { what: '--secret-timeout', hint: 'e.g. --secret-timeout 60' },
  secretCommand: { what: '--secret-command', hint: SECRET_COMMAND_HINT },
};

/** --secret-timeout, for every command that may run a connection's secret command. */
export const SECRET_TIMEOUT_FLAG = ['--secret-timeout <seconds>', 'time allowed for a secret command (a connection whose token a command prints)', String(DEFAULT_SECRET_TIMEOUT_S)] as const;

/**
 * The schemas a command's options are built from. Every schema at module level is z.lazy: built on its first parse, so
 * --help and list build only the few they use (building all of them was ~2 ms of every start).
 */
export const optionFields = {
  name: z.lazy(() => z.optional(nameSchema)),
  orgUrl: z.lazy(() => z.optional(orgUrlSchema)),
  timeout: timeoutSchema,
  /** How long a connection's secret command may run. */
  secretTimeout: z.lazy(() => secondsSchema(DEFAULT_SECRET_TIMEOUT_S)),
  flag: z.lazy(() => z._default(z.boolean(), false)),
};

/**
 * Commander's raw options through a command's schema: `run` receives typed, valid values, and a bad flag is one usage
 * error naming it (the first one, in the schema's order).
 */
export function parseOptions<S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = String(issue?.path[0] ?? '');
  const field = FIELDS[key];
  const message = issue?.message ?? 'invalid value';
  throw new UsageError(field ? `invalid ${field.what}: ${message}` : `invalid --${key}: ${message}`, { hint: field?.hint ?? 'see okta-connect --help' });
}

/**
 * `okta-connect test prod` and `test --name prod` alike: the positional name joins the options before they are parsed.
 * Both, different, is a usage error.
 */
export function withPositionalName(positional: string | undefined, opts: unknown): unknown {
  const flags = (opts ?? {}) as { name?: unknown };
  if (positional === undefined) return flags;
  refuseTokenArgument(positional);
  if (flags.name !== undefined && flags.name !== positional) {
    throw new UsageError('two different names given, one with --name and one without', { hint: 'give the name once, e.g. okta-connect test prod' });
  }
  return { ...flags, name: positional };
}

/** An argument that looks like an API token is refused as one, and never echoed (it leaks into ps and shell history). */
export function refuseTokenArgument(argument: string): void {
  if (TOKEN_SHAPED.test(argument.trim())) {
    throw new UsageError('an argument looks like an API token: a token in the arguments leaks into ps and shell history', {
      hint: 'pipe it instead: printf %s "$TOKEN" | okta-connect add --token-stdin …',
    });
  }
}

/**
 * A command's operands on either side of `--` (exec's command, add's secret command). Commander drops the separator and
 * collects every operand in `words`, so where it was is read from the raw arguments. `after` is undefined without one.
 */
export function operandsAroundDashes(words: readonly string[], rawArgs: readonly string[]): { before: string[]; after: string[] | undefined } {
  const dashes = rawArgs.indexOf('--');
  const count = rawArgs.length - dashes - 1;
  // No `--`, or one that commander took as an option's value (`--name --`): nothing follows a separator.
  if (dashes < 0 || count > words.length) return { before: [...words], after: undefined };
  return { before: words.slice(0, words.length - count), after: words.slice(words.length - count) };
}
