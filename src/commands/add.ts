import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { listItem, ownerText } from '../connections/views.js';
import { nameSchema, orgUrlSchema, subdomainOf, tokenPageUrl, tokenSchema, type ConnectionRecord } from '../domain/connection.js';
import type { Credential } from '../domain/credential.js';
import { tokenVar } from '../domain/env-overrides.js';
import { CliError, UsageError, rephrase } from '../domain/errors.js';
import { optionFields, parseOptions } from '../domain/options.js';
import { jsonText, printable } from '../domain/printable.js';
import { readAll } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';

export const addOptionsSchema = z.object({
  name: optionFields.name,
  orgUrl: optionFields.orgUrl,
  tokenStdin: optionFields.flag,
  test: z._default(z.boolean(), true),
  force: optionFields.flag,
  json: optionFields.flag,
  timeout: optionFields.timeout,
});
export type AddOptions = z.output<typeof addOptionsSchema>;
export type AddDeps = Pick<Context, 'io' | 'theme' | 'env' | 'connections' | 'prompter' | 'okta'>;

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
      await run(parseOptions(addOptionsSchema, opts));
    });
}

export async function addRun(deps: AddDeps, opts: AddOptions): Promise<void> {
  opts.orgUrl?.notices.forEach((notice) => {
    notify(deps, notice);
  });
  const records = await deps.connections.records();
  if (opts.name !== undefined) assertFree(records, opts.name, opts.force);

  const interactive = deps.io.canPrompt;
  if (!interactive) {
    const missing = [
      opts.orgUrl === undefined ? '--org-url <url>' : null,
      opts.tokenStdin ? null : '--token-stdin (with the token on stdin)',
      opts.name === undefined ? '--name <name>' : null,
    ].filter((flag) => flag !== null);
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.join(', ')}: no terminal to ask in`, {
        hint: 'printf %s "$TOKEN" | okta-connect add --name prod --org-url https://acme.okta.com --token-stdin',
      });
    }
  }
  const stdinCredential = opts.tokenStdin ? await readStdinToken(deps) : undefined;

  let orgUrl = opts.orgUrl?.value ?? (await askOrgUrl(deps));
  let credential = stdinCredential ?? (await askToken(deps, orgUrl));
  const name = opts.name ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  let result: ProbeResult | undefined;

  while (opts.test) {
    const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
    try {
      result = await probeConnection(await deps.okta(), { orgUrl, credential, timeoutMs: opts.timeout });
    } finally {
      spinner.stop();
    }
    if (!result.error) break;
    if (!interactive) throw rephrase(result.error, { message: (message) => `${message}: nothing was saved` });
    deps.io.stderr.write(`${deps.theme.failMark} ${printable(result.error.message)}\n${result.error.hint ? `  ${printable(result.error.hint)}\n` : ''}`);
    const next = await deps.prompter.select('The test failed. What now?', [
      { value: 'token', name: 'Enter the token again' },
      { value: 'url', name: 'Enter the API address again' },
      { value: 'save', name: 'Save anyway' },
      { value: 'cancel', name: 'Cancel (nothing is saved)' },
    ]);
    if (next === 'cancel') throw new CliError(result.error.exitCode, 'cancelled: nothing was saved', { hint: result.error.hint });
    if (next === 'save') break;
    if (next === 'url') orgUrl = await askOrgUrl(deps);
    credential = await askToken(deps, orgUrl);
  }

  const record = await deps.connections.save({ name, orgUrl, credential, force: opts.force, test: result && testRecordOf(result) });
  if (opts.json) {
    deps.io.stdout.write(`${jsonText(listItem({ name, kind: record.kind, orgUrl, source: 'keychain', record }))}\n`);
  } else {
    const who = result ? ownerText(result) : '';
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}${who === '' ? '' : `  ${who}`}${tested}\n`);
  }
  // stderr, so --json (stdout) scripts are told too.
  if (deps.env[tokenVar(name)]) {
    notify(deps, `${tokenVar(name)} is set: it wins over the keychain for this connection`);
  }
}

function assertFree(records: ConnectionRecord[], name: string, force: boolean): void {
  if (force || !records.some((record) => record.name === name)) return;
  throw new UsageError(`a connection named "${name}" exists already`, {
    hint: `replace it with --force, or pick another name (names cannot be renamed: add under the new name, then okta-connect remove --name ${name})`,
  });
}

/** The contract's bound on --token-stdin: a token is at most 200 characters, so this is generous. */
export const MAX_STDIN_BYTES = 64 * 1024;

async function readStdinToken(deps: AddDeps): Promise<Credential> {
  const { text: raw, isOverLimit } = await readAll(deps.io.stdin, MAX_STDIN_BYTES);
  if (isOverLimit) {
    throw new UsageError('--token-stdin: stdin held more than 64 KiB, and a token is at most 200 characters: nothing was saved', {
      hint: 'pipe only the token: printf %s "$TOKEN" | okta-connect add --token-stdin …',
    });
  }
  if (raw.trim() === '') {
    throw new UsageError('--token-stdin: stdin was empty', { hint: 'printf %s "$TOKEN" | okta-connect add --token-stdin …' });
  }
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach((notice) => {
    notify(deps, notice);
  });
  return value;
}

/** Zod's first message for a prompt's validate callback: invalid input is explained and asked again. */
function validator(schema: z.ZodMiniType): (value: string) => string | true {
  return (value) => {
    const result = schema.safeParse(value);
    return result.success ? true : (result.error.issues[0]?.message ?? 'invalid value');
  };
}

/** Ask until the answer passes `schema`, and return what the schema made of it: each answer is parsed once. */
async function askValid<S extends z.ZodMiniType>(
  ask: (validate: (value: string) => string | true) => Promise<string>,
  schema: S,
  more: (value: z.output<S>) => string | true = () => true,
): Promise<z.output<S>> {
  let accepted: { raw: string; value: z.output<S> } | undefined;
  const raw = await ask((value) => {
    const result = schema.safeParse(value);
    if (!result.success) return result.error.issues[0]?.message ?? 'invalid value';
    accepted = { raw: value, value: result.data };
    return more(result.data);
  });
  if (accepted?.raw !== raw) throw new Error('the prompt returned an answer it did not validate');
  return accepted.value;
}

async function askOrgUrl(deps: AddDeps): Promise<string> {
  const { value, notices } = await askValid(
    (validate) => deps.prompter.input("Okta API address (your org's URL, e.g. https://acme.okta.com):", { validate }),
    orgUrlSchema,
  );
  notices.forEach((notice) => {
    notify(deps, notice);
  });
  deps.io.stderr.write(`  API address: ${deps.theme.bold(value)}\n`);
  return value;
}

async function askToken(deps: AddDeps, orgUrl: string): Promise<Credential> {
  deps.io.stderr.write(
    `  Create a token at ${tokenPageUrl(orgUrl)}\n` +
      '  (Security > API > Tokens > Create Token; copy the value, it is shown once. It has your admin permissions.)\n',
  );
  // Validated at the prompt (asked again when wrong), then taken in by the store, which registers it for redaction.
  const raw = await deps.prompter.password('API token (input hidden):', { validate: validator(tokenSchema) });
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach((notice) => {
    notify(deps, notice);
  });
  return value;
}

async function askName(deps: AddDeps, records: ConnectionRecord[], suggestion: string, force: boolean): Promise<string> {
  const fallback = nameSchema.safeParse(suggestion).success ? suggestion : undefined;
  return askValid(
    (validate) => deps.prompter.input('Name for this connection:', { default: fallback, validate }),
    nameSchema,
    (name) =>
      !force && records.some((record) => record.name === name)
        ? `"${name}" exists already: pick another name (or run again with --force to replace it)`
        : true,
  );
}

function notify(deps: Pick<Context, 'io' | 'theme'>, notice: string): void {
  deps.io.stderr.write(`${deps.theme.warnMark} ${notice}\n`);
}
