import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { listItem, ownerText } from '../connections/views.js';
import { nameSchema, orgUrlSchema, subdomainOf, tokenPageUrl, tokenSchema, type ConnectionRecord } from '../domain/connection.js';
import type { Credential } from '../domain/credential.js';
import { tokenVar } from '../domain/env-overrides.js';
import { CliError, ExitCode, UsageError, rephrase } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions } from '../domain/options.js';
import {
  SECRET_COMMAND_HINT,
  displayCommand,
  secretCommandProblem,
  secretCommandSchema,
  splitCommandLine,
  type SecretCommand,
} from '../domain/secret-command.js';
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
  /** The argv after `--` with --secret-command, validated (never a secret in it). */
  secretCommand: z.optional(secretCommandSchema),
  secretTimeout: optionFields.secretTimeout,
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
    .option('--secret-command', 'the token is kept in a secret manager: the command after -- prints it (run each time it is needed)')
    .option(...SECRET_TIMEOUT_FLAG)
    .argument('[command...]', 'with --secret-command, after --: the command that prints the token (no shell; sh -c \'…\' for one)')
    .usage('[options] [--secret-command -- <command…>]')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  okta-connect add                       # asks for each value in a terminal',
        '  printf %s "$TOKEN" | okta-connect add --name prod --org-url https://acme.okta.com --token-stdin',
        '  okta-connect add --name prod --org-url https://acme.okta.com --secret-command -- pass show okta/prod',
        '',
        'Create the token in the Admin Console: Security > API > Tokens > Create Token.',
        'A secret command is saved as its words (never a secret: the token is what it prints) and runs with stdin closed.',
      ].join('\n'),
    )
    .action(async (words: string[], opts: Record<string, unknown>, command: Command) => {
      await run(parseOptions(addOptionsSchema, { ...opts, secretCommand: secretCommandWords(command, words, opts.secretCommand === true) }));
    });
}

/**
 * The words after `--` are the secret command. Commander drops the separator, so it is found in the command line as
 * typed (the program's rawArgs); anything before it is no argument of add's.
 */
function secretCommandWords(command: Command, words: string[], hasFlag: boolean): string[] | undefined {
  const typed: unknown = command.parent ? Reflect.get(command.parent, 'rawArgs') : undefined;
  const line = Array.isArray(typed) ? typed.filter((word): word is string => typeof word === 'string') : [];
  const separator = line.indexOf('--');
  const after = separator < 0 ? [] : line.slice(separator + 1);
  const isSeparated = separator >= 0 && words.length >= after.length;
  if (words.length > (isSeparated ? after.length : 0)) {
    // Never echoed: a token pasted in the wrong place would be printed.
    throw new UsageError('too many arguments: add takes none but the secret command, after --secret-command --', {
      hint: 'okta-connect add --name prod --org-url https://acme.okta.com --secret-command -- pass show okta/prod',
    });
  }
  if (!hasFlag && isSeparated) {
    throw new UsageError('a command after -- needs --secret-command before it', { hint: SECRET_COMMAND_HINT });
  }
  if (hasFlag && !isSeparated) throw new UsageError('--secret-command needs the command after --', { hint: SECRET_COMMAND_HINT });
  return hasFlag ? after : undefined;
}

/** Where the token of the connection being added comes from: typed or piped (kept in the keychain), or a command. */
interface Secret {
  credential: Credential;
  command: SecretCommand | null;
}

export async function addRun(deps: AddDeps, opts: AddOptions): Promise<void> {
  opts.orgUrl?.notices.forEach((notice) => {
    notify(deps, notice);
  });
  const records = await deps.connections.records();
  if (opts.name !== undefined) assertFree(records, opts.name, opts.force);

  if (opts.tokenStdin && opts.secretCommand) {
    throw new UsageError('--token-stdin and --secret-command are two places for the token: give one', { hint: SECRET_COMMAND_HINT });
  }
  const interactive = deps.io.canPrompt;
  if (!interactive) {
    const missing = [
      opts.orgUrl === undefined ? '--org-url <url>' : null,
      opts.tokenStdin || opts.secretCommand ? null : '--token-stdin (with the token on stdin) or --secret-command -- <command…>',
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
  let secret: Secret = stdinCredential
    ? { credential: stdinCredential, command: null }
    : opts.secretCommand
      ? await commandSecret(deps, opts, opts.secretCommand, orgUrl)
      : await askSecret(deps, opts, orgUrl);
  const name = opts.name ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  let result: ProbeResult | undefined;

  while (opts.test) {
    const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
    try {
      result = await probeConnection(await deps.okta(), { orgUrl, credential: secret.credential, timeoutMs: opts.timeout });
    } finally {
      spinner.stop();
    }
    if (!result.error) break;
    if (!interactive) throw rephrase(result.error, { message: (message) => `${message}: nothing was saved` });
    deps.io.stderr.write(`${deps.theme.failMark} ${result.error.message}\n${result.error.hint ? `  ${result.error.hint}\n` : ''}`);
    const next = await deps.prompter.select('The test failed. What now?', [
      { value: 'token', name: secret.command ? 'Enter the command again (or run it again after fixing the secret)' : 'Enter the token again' },
      { value: 'url', name: 'Enter the API address again' },
      { value: 'save', name: 'Save anyway' },
      { value: 'cancel', name: 'Cancel (nothing is saved)' },
    ]);
    if (next === 'cancel') throw new CliError(result.error.exitCode, 'cancelled: nothing was saved', { hint: result.error.hint });
    if (next === 'save') break;
    if (next === 'url') orgUrl = await askOrgUrl(deps);
    secret = secret.command
      ? await commandSecret(deps, { ...opts, name }, await askCommand(deps, secret.command), orgUrl)
      : { credential: await askToken(deps, orgUrl), command: null };
  }

  const record = await deps.connections.save({
    name,
    orgUrl,
    credential: secret.credential,
    secretCommand: secret.command,
    force: opts.force,
    test: result && testRecordOf(result),
  });
  if (opts.json) {
    const source = record.secretCommand ? 'command' : 'keychain';
    deps.io.stdout.write(`${JSON.stringify(listItem({ name, kind: record.kind, orgUrl, source, record }), null, 2)}\n`);
  } else {
    const who = result ? ownerText(result) : '';
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}${who === '' ? '' : `  ${who}`}${tested}\n`);
  }
  // stderr, so --json (stdout) scripts are told too.
  if (deps.env[tokenVar(name)]) {
    notify(deps, `${tokenVar(name)} is set: it wins over the ${record.secretCommand ? 'secret command' : 'keychain'} for this connection`);
  }
}

function assertFree(records: ConnectionRecord[], name: string, force: boolean): void {
  if (force || !records.some((record) => record.name === name)) return;
  throw new UsageError(`a connection named "${name}" exists already`, {
    hint: `replace it with --force, or pick another name (names cannot be renamed: add under the new name, then okta-connect remove --name ${name})`,
  });
}

async function readStdinToken(deps: AddDeps): Promise<Credential> {
  const raw = await readAll(deps.io.stdin);
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

function showTokenPage(deps: AddDeps, orgUrl: string): void {
  deps.io.stderr.write(
    `  Create a token at ${tokenPageUrl(orgUrl)}\n` +
      '  (Security > API > Tokens > Create Token; copy the value, it is shown once. It has your admin permissions.)\n',
  );
}

/** In a terminal, with no token piped and no --secret-command: where is the token kept? */
async function askSecret(deps: AddDeps, opts: AddOptions, orgUrl: string): Promise<Secret> {
  showTokenPage(deps, orgUrl);
  const where = await deps.prompter.select('Where is the token kept?', [
    { value: 'keychain', name: "This computer's keychain (paste it now)" },
    { value: 'command', name: 'A command that prints it (a secret manager: pass, op, vault, aws, doppler, sops…)' },
  ]);
  if (where === 'keychain') return { credential: await askPastedToken(deps), command: null };
  return commandSecret(deps, opts, await askCommand(deps, undefined), orgUrl);
}

/** The command, typed: split into words as a shell would, but run without one; refused (and asked again) when it holds a secret. */
async function askCommand(deps: AddDeps, previous: SecretCommand | undefined): Promise<SecretCommand> {
  if (previous === undefined) {
    deps.io.stderr.write(
      '  It runs each time the token is needed, without a shell and with stdin closed, and must print the token alone.\n' +
        '  e.g. pass show okta/prod, op read op://Ops/okta-prod/credential (a shell: sh -c \'…\')\n',
    );
  }
  let argv: SecretCommand | undefined;
  await deps.prompter.input('Command that prints the token:', {
    default: previous === undefined ? undefined : displayCommand(previous, Number.MAX_SAFE_INTEGER),
    validate: (value) => {
      const split = splitCommandLine(value);
      if ('problem' in split) return split.problem;
      argv = split.argv;
      return secretCommandProblem(split.argv) ?? true;
    },
  });
  if (argv === undefined) throw new Error('the prompt returned an answer it did not validate');
  deps.io.stderr.write(`  command: ${deps.theme.bold(displayCommand(argv))}\n`);
  return argv;
}

/** Run the command once; what it prints is validated as a pasted token. In a terminal a failure is explained and the command asked again. */
async function commandSecret(deps: AddDeps, opts: Pick<AddOptions, 'name' | 'secretTimeout'>, first: SecretCommand, orgUrl: string): Promise<Secret> {
  for (let argv = first; ; argv = await askCommand(deps, argv)) {
    try {
      const { value, notices } = await deps.connections.runSecretCommand({ argv, name: opts.name, orgUrl }, 'token', {
        secretTimeoutMs: opts.secretTimeout,
      });
      notices.forEach((notice) => {
        notify(deps, notice);
      });
      return { credential: value, command: argv };
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== ExitCode.keychain) throw error;
      if (!deps.io.canPrompt) throw rephrase(error, { message: (message) => `${message}: nothing was saved` });
      deps.io.stderr.write(`${deps.theme.failMark} ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    }
  }
}

async function askToken(deps: AddDeps, orgUrl: string): Promise<Credential> {
  showTokenPage(deps, orgUrl);
  return askPastedToken(deps);
}

async function askPastedToken(deps: AddDeps): Promise<Credential> {
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
