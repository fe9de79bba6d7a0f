import * as z from 'zod/mini';
import { NAME_HINT, ORG_URL_HINT, nameSchema, orgUrlSchema } from './connection.js';
import { UsageError } from './errors.js';
import { DEFAULT_SECRET_TIMEOUT_S, SECRET_COMMAND_HINT } from './secret-command.js';

/** Seconds on the command line, milliseconds inside; every command that waits on Okta has the same default. */
export const DEFAULT_TIMEOUT_S = 15;
const MAX_TIMEOUT_S = 600;

/** A number of seconds from the command line, as milliseconds. */
const secondsSchema = (defaultSeconds: number) => z.pipe(
  z._default(z.string(), String(defaultSeconds)),
  z.transform((raw: string, ctx) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_S) {
      ctx.issues.push({ code: 'custom', message: `"${raw}" is not a number of seconds from 0 to ${String(MAX_TIMEOUT_S)}`, input: raw });
      return z.NEVER;
    }
    return Math.round(value * 1000);
  }),
);

export const timeoutSchema = secondsSchema(DEFAULT_TIMEOUT_S);

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

/** The schemas a command's options are built from. */
export const optionFields = {
  name: z.optional(nameSchema),
  orgUrl: z.optional(orgUrlSchema),
  timeout: timeoutSchema,
  /** How long a connection's secret command may run. */
  secretTimeout: secondsSchema(DEFAULT_SECRET_TIMEOUT_S),
  flag: z._default(z.boolean(), false),
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
