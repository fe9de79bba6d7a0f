import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import {
  nameSchema,
  orgUrlSchema,
  parseName,
  parseOrgUrl,
  parseToken,
  subdomainOf,
  tokenPageUrl,
  tokenSchema,
  type ConnectionRecord,
} from '../domain/connection.js';
import { tokenVar } from '../domain/env-overrides.js';
import { CliError, ExitCode, UsageError } from '../domain/errors.js';
import { readAll } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';
import { listItem } from './list.js';
import { probeConnection, type ProbeResult } from './probe.js';
import { parseTimeout, summariseRoles } from './shared.js';

export const addOptionsSchema = z.object({
  name: z.optional(z.string()),
  orgUrl: z.optional(z.string()),
  tokenStdin: z._default(z.boolean(), false),
  test: z._default(z.boolean(), true),
  force: z._default(z.boolean(), false),
  json: z._default(z.boolean(), false),
  timeout: z.optional(z.string()),
});
export type AddOptions = z.output<typeof addOptionsSchema>;
export type AddDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'metadata' | 'secrets' | 'prompter' | 'okta' | 'secretsSeen'>;

export function addCommand(run: (opts: AddOptions) => Promise<void>): Command {
  return new Command('add')
    .description('create a connection: API address + API token + name; validate, test, save')
    .option('-n, --name <name>', 'name for the connection (default: the org subdomain)')
    .option('-u, --org-url <url>', "the org's API address, e.g. https://acme.okta.com")
    .option('--token-stdin', 'read the API token from stdin (there is no --token flag: argv leaks)')
    .option('--no-test', 'save without testing the connection against Okta')
    .option('-f, --force', 'replace the address and token of an existing connection')
    .option('--json', 'print the saved connection as JSON on stdout')
    .option('--timeout <seconds>', 'time allowed for the test', '15')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  okta-connect add                       # asks for each value in a terminal',
        '  printf %s "$TOKEN" | okta-connect add --name prod --org-url https://acme.okta.com --token-stdin',
        '',
        'Create the token in the Admin Console: Security > API > Tokens > Create Token.',
      ].join('\n'),
    )
    .action(async (opts: unknown) => {
      await run(addOptionsSchema.parse(opts));
    });
}

interface Draft {
  orgUrl: string;
  token: string;
  name: string;
}

export async function addRun(deps: AddDeps, opts: AddOptions): Promise<number> {
  const timeoutMs = parseTimeout(opts.timeout);
  // Flags are validated first: a bad flag is exit 2 even in a terminal.
  const flagName = opts.name === undefined ? undefined : parseName(opts.name);
  const flagUrl = opts.orgUrl === undefined ? undefined : parseOrgUrl(opts.orgUrl);
  flagUrl?.notices.forEach((notice) => { notify(deps, notice); });
  const records = await deps.metadata.list();
  if (flagName !== undefined) assertFree(deps, records, flagName, opts.force);

  const interactive = deps.io.canPrompt;
  if (!interactive) {
    const missing = [
      flagUrl === undefined ? '--org-url <url>' : null,
      opts.tokenStdin ? null : '--token-stdin (with the token on stdin)',
      flagName === undefined ? '--name <name>' : null,
    ].filter((flag) => flag !== null);
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.join(', ')}: no terminal to ask in`, {
        hint: 'printf %s "$TOKEN" | okta-connect add --name prod --org-url https://acme.okta.com --token-stdin',
      });
    }
  }
  const stdinToken = opts.tokenStdin ? await readStdinToken(deps) : undefined;

  let orgUrl = flagUrl?.value ?? (await askOrgUrl(deps));
  let token = stdinToken ?? (await askToken(deps, orgUrl));
  const name = flagName ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  let result: ProbeResult | undefined;

  while (opts.test) {
    const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
    try {
      result = await probeConnection(await deps.okta(), { orgUrl, token, timeoutMs });
    } finally {
      spinner.stop();
    }
    if (!result.error) break;
    if (!interactive) throw failedTest(result.error);
    deps.io.stderr.write(`${deps.theme.failMark} ${result.error.message}\n${result.error.hint ? `  ${result.error.hint}\n` : ''}`);
    const next = await deps.prompter.select('The test failed. What now?', [
      { value: 'token', name: 'Enter the token again' },
      { value: 'url', name: 'Enter the API address again' },
      { value: 'save', name: 'Save anyway' },
      { value: 'cancel', name: 'Cancel (nothing is saved)' },
    ]);
    if (next === 'cancel') throw new CliError(result.error.exitCode, 'cancelled: nothing was saved', { hint: result.error.hint });
    if (next === 'save') break;
    if (next === 'url') orgUrl = await askOrgUrl(deps);
    token = await askToken(deps, orgUrl);
  }

  const record = await save(deps, { orgUrl, token, name }, result, opts.force);
  if (opts.json) {
    deps.io.stdout.write(`${JSON.stringify(listItem(record, 'keychain'), null, 2)}\n`);
  } else {
    const who = result?.owner ? `  as ${result.owner.login ?? result.owner.id}${result.roles ? ` (${summariseRoles(result.roles)})` : ''}` : '';
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}${who}${tested}\n`);
  }
  // stderr, so --json (stdout) scripts are told too.
  if (deps.env[tokenVar(name)]) {
    notify(deps, `${tokenVar(name)} is set: it wins over the keychain for this connection`);
  }
  return ExitCode.ok;
}

function failedTest(error: CliError): CliError {
  error.message = `${error.message}: nothing was saved`;
  return error;
}

function assertFree(deps: Pick<Context, 'env'>, records: ConnectionRecord[], name: string, force: boolean): void {
  if (force || !records.some((record) => record.name === name)) return;
  throw new UsageError(`a connection named "${name}" exists already`, {
    hint: `replace it with --force, or pick another name (names cannot be renamed: add under the new name, then okta-connect remove --name ${name})`,
  });
}

/**
 * Secret first, then metadata, both under the metadata lock so a concurrent add or remove of the same name cannot
 * interleave; if the metadata cannot be written the secret is put back as it was, so keychain and metadata agree.
 */
async function save(deps: AddDeps, draft: Draft, result: ProbeResult | undefined, force: boolean): Promise<ConnectionRecord> {
  const now = deps.clock.now().toISOString();
  const record: ConnectionRecord = {
    name: draft.name,
    orgUrl: draft.orgUrl,
    createdAt: now,
    owner: result?.owner ? { id: result.owner.id, login: result.owner.login, status: result.owner.status } : null,
    lastTest: result ? { at: now, ok: result.ok, code: result.error?.exitCode ?? ExitCode.ok, latencyMs: result.latencyMs } : null,
    lastUsedAt: result?.ok ? now : null,
  };
  // Set inside the update callback; an object so the compiler does not narrow them to their initial values.
  const undo: { previous: string | undefined; isSecretWritten: boolean } = { previous: undefined, isSecretWritten: false };
  try {
    await deps.metadata.update(async (connections) => {
      if (!force && connections.some((existing) => existing.name === draft.name)) {
        throw new UsageError(`a connection named "${draft.name}" was just created by another okta-connect`, {
          hint: 'use --force to replace it, or pick another name',
        });
      }
      undo.previous = await deps.secrets.get(draft.name);
      if (undo.previous !== undefined) deps.secretsSeen.add(undo.previous);
      await deps.secrets.set(draft.name, draft.token);
      undo.isSecretWritten = true;
      return [...connections.filter((existing) => existing.name !== draft.name), record];
    });
  } catch (error) {
    if (undo.isSecretWritten) {
      const { previous } = undo;
      await (previous === undefined ? deps.secrets.delete(draft.name) : deps.secrets.set(draft.name, previous)).catch(() => undefined);
    }
    throw error;
  }
  return record;
}

async function readStdinToken(deps: AddDeps): Promise<string> {
  const raw = await readAll(deps.io.stdin);
  if (raw.trim() === '') {
    throw new UsageError('--token-stdin: stdin was empty', { hint: 'printf %s "$TOKEN" | okta-connect add --token-stdin …' });
  }
  const { value, notices } = parseToken(raw);
  deps.secretsSeen.add(value);
  notices.forEach((notice) => { notify(deps, notice); });
  return value;
}

/** Zod's first message for a prompt's validate callback: invalid input is explained and asked again. */
function validator(schema: z.ZodMiniType): (value: string) => string | true {
  return (value) => {
    const result = schema.safeParse(value);
    return result.success ? true : (result.error.issues[0]?.message ?? 'invalid value');
  };
}

async function askOrgUrl(deps: AddDeps): Promise<string> {
  const raw = await deps.prompter.input("Okta API address (your org's URL, e.g. https://acme.okta.com):", {
    validate: validator(orgUrlSchema),
  });
  const { value, notices } = parseOrgUrl(raw);
  notices.forEach((notice) => { notify(deps, notice); });
  deps.io.stderr.write(`  API address: ${deps.theme.bold(value)}\n`);
  return value;
}

async function askToken(deps: AddDeps, orgUrl: string): Promise<string> {
  deps.io.stderr.write(
    `  Create a token at ${tokenPageUrl(orgUrl)}\n` +
      '  (Security > API > Tokens > Create Token; copy the value, it is shown once. It has your admin permissions.)\n',
  );
  const raw = await deps.prompter.password('API token (input hidden):', { validate: validator(tokenSchema) });
  const { value, notices } = parseToken(raw);
  deps.secretsSeen.add(value);
  notices.forEach((notice) => { notify(deps, notice); });
  return value;
}

async function askName(deps: AddDeps, records: ConnectionRecord[], suggestion: string, force: boolean): Promise<string> {
  const fallback = nameSchema.safeParse(suggestion).success ? suggestion : undefined;
  const raw = await deps.prompter.input('Name for this connection:', {
    default: fallback,
    validate: (value) => {
      const valid = validator(nameSchema)(value);
      if (valid !== true) return valid;
      const name = parseName(value);
      if (!force && records.some((record) => record.name === name)) {
        return `"${name}" exists already: pick another name (or run again with --force to replace it)`;
      }
      return true;
    },
  });
  return parseName(raw);
}

function notify(deps: Pick<Context, 'io' | 'theme'>, notice: string): void {
  deps.io.stderr.write(`${deps.theme.warnMark} ${notice}\n`);
}
