import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { listItem, ownerText, testWarnings } from '../connections/views.js';
import { nameSchema, orgUrlSchema, subdomainOf, suggestedOrgUrl, tokenPageUrl, tokenSchema, type ConnectionRecord } from '../domain/connection.js';
import type { Credential } from '../domain/credential.js';
import { tokenVar } from '../domain/env-overrides.js';
import { CancelledError, CliError, ExitCode, SilentError, UsageError, rephrase } from '../domain/errors.js';
import {
  SECRET_TIMEOUT_FLAG,
  operandsAroundDashes,
  optionFields,
  parseOptions,
  promptValidator,
  refuseTokenArgument,
  withPositionalName,
} from '../domain/options.js';
import { jsonText, printable } from '../domain/printable.js';
import {
  SECRET_COMMAND_HINT,
  displayCommand,
  secretCommandProblem,
  secretCommandSchema,
  splitCommandLine,
  type SecretCommand,
} from '../domain/secret-command.js';
import { readStdinSecret } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';
import { addOAuthRun, keyOptionFields } from './add-oauth.js';

export const addOptionsSchema = z.lazy(() =>
  z.object({
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
    oauth: optionFields.flag,
    clientId: z.optional(z.string()),
    scopes: z.optional(z.string()),
    ...keyOptionFields(),
  }),
);
export type AddOptions = z.output<typeof addOptionsSchema>;
export type AddDeps = Pick<Context, 'io' | 'theme' | 'env' | 'connections' | 'prompter' | 'okta' | 'notify'>;

const OAUTH_FLAGS: [keyof AddOptions, string][] = [
  ['clientId', '--client-id'],
  ['scopes', '--scopes'],
  ['privateKeyFile', '--private-key-file'],
  ['generateKey', '--generate-key'],
  ['keyType', '--key-type'],
  ['keyId', '--key-id'],
];

/** `rawArgs`: the command line as typed, to find where `--` was (commander drops it). */
export function addCommand(run: (opts: AddOptions) => Promise<void>, rawArgs: readonly string[]): Command {
  return new Command('add')
    .description('create a connection: API address + API token + name; validate, test, save')
    .argument('[name]', 'name for the connection (or --name; default: the org subdomain)')
    .option('-n, --name <name>', 'name for the connection (default: the org subdomain)')
    .option('-u, --org-url <url>', "the org's API address, e.g. https://acme.okta.com")
    .option('--token-stdin', 'read the API token from stdin (there is no --token flag: argv leaks)')
    .option('--no-test', 'save without testing the connection against Okta')
    .option('-f, --force', 'replace the address and token of an existing connection')
    .option('--json', 'print the saved connection as JSON on stdout')
    .option('--timeout <seconds>', 'time allowed for the test', '15')
    .option('--oauth', 'an OAuth 2.0 service app (private key JWT) instead of an API token')
    .option('--client-id <id>', "with --oauth: the app's client id (0oa…)")
    .option('--scopes <list>', 'with --oauth: the Okta API scopes, space or comma separated (okta.users.read …)')
    .option('--private-key-file <file>', 'with --oauth: the private key, PEM (PKCS#1/PKCS#8/SEC1) or JWK (or --token-stdin: on stdin)')
    .option('--generate-key', 'with --oauth: make a new key pair and print its public JWK to add to the app')
    .option('--key-type <type>', 'with --generate-key: rsa (2048, the default) or ec (P-256)')
    .option('--key-id <kid>', "with --oauth: the key's kid (default: the JWK's own, else its thumbprint)")
    .option('--secret-command', 'the token (with --oauth: the private key, PEM or JWK) is kept in a secret manager: the command after -- prints it (run each time it is needed)')
    .option(...SECRET_TIMEOUT_FLAG)
    .argument('[command...]', 'with --secret-command, after --: the command that prints the token or key (no shell; sh -c \'…\' for one)')
    .usage('[name] [options] [--secret-command -- <command…>]')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  okta-connect add                       # asks for each value in a terminal',
        '  printf %s "$TOKEN" | okta-connect add --name prod --org-url https://acme.okta.com --token-stdin',
        '  okta-connect add --name prod --org-url https://acme.okta.com --secret-command -- pass show okta/prod',
        '  okta-connect add --oauth --name svc --org-url https://acme.okta.com --client-id 0oa… --scopes okta.users.read --generate-key',
        '',
        'Create the token in the Admin Console: Security > API > Tokens > Create Token.',
        'A secret command is saved as its words (never a secret: the token is what it prints) and runs with stdin closed.',
      ].join('\n'),
    )
    .action(async (name: string | undefined, words: string[], opts: Record<string, unknown>) => {
      const operands = addOperands([...(name === undefined ? [] : [name]), ...words], rawArgs, opts.secretCommand === true);
      await run(parseOptions(addOptionsSchema, { ...(withPositionalName(operands.name, opts) as object), secretCommand: operands.secretCommand }));
    });
}

/**
 * add's operands: at most one name before `--`, and with --secret-command the command after it. A word that looks
 * like a token is refused as one; no refusal echoes a word (a token pasted in the wrong place would be printed).
 */
function addOperands(words: string[], rawArgs: readonly string[], hasFlag: boolean): { name: string | undefined; secretCommand: string[] | undefined } {
  const { before, after } = operandsAroundDashes(words, rawArgs);
  before.forEach(refuseTokenArgument);
  if (before.length > 1) {
    throw new UsageError('too many arguments: add takes one name, and the secret command only after --secret-command --', {
      hint: 'okta-connect add prod --org-url https://acme.okta.com --secret-command -- pass show okta/prod',
    });
  }
  if (!hasFlag && after !== undefined) {
    throw new UsageError('a command after -- needs --secret-command before it', { hint: SECRET_COMMAND_HINT });
  }
  if (hasFlag && after === undefined) throw new UsageError('--secret-command needs the command after --', { hint: SECRET_COMMAND_HINT });
  return { name: before[0], secretCommand: hasFlag ? after : undefined };
}

/** Where the token of the connection being added comes from: typed or piped (kept in the keychain), or a command. */
interface Secret {
  credential: Credential;
  command: SecretCommand | null;
}

export async function addRun(deps: AddDeps, opts: AddOptions): Promise<void> {
  if (opts.oauth) {
    await addOAuthRun(deps, opts);
    return;
  }
  const oauthOnly = OAUTH_FLAGS.filter(([key]) => opts[key] !== undefined && opts[key] !== false).map(([, flag]) => flag);
  if (oauthOnly.length > 0) throw new UsageError(`${oauthOnly.join(', ')} ${oauthOnly.length === 1 ? 'is' : 'are'} for OAuth connections: add --oauth`, { hint: 'okta-connect add --oauth --help' });
  opts.orgUrl?.notices.forEach((notice) => {
    deps.notify(notice);
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
  // Before any secret is read or asked: a keychain that cannot take it is said at once (exit 8), not after the paste. A
  // secret command needs no keychain.
  if (!opts.secretCommand) await checkCanSave(deps);
  const existing = (name: string): ConnectionRecord | undefined => records.find((record) => record.name === name);
  const flagged = opts.name === undefined ? undefined : existing(opts.name);
  if (flagged && interactive) await confirmReplace(deps, flagged);
  // --token-stdin with stdin a terminal: ask, masked, rather than wait silently and echo what is typed.
  const pipedCredential = opts.tokenStdin && (!deps.io.isStdinTTY || !interactive) ? await readStdinToken(deps) : undefined;

  const address = opts.orgUrl ? { orgUrl: opts.orgUrl.value, oktaUrl: null } : await askOrgUrl(deps, opts);
  let { orgUrl } = address;
  let secret: Secret = pipedCredential
    ? { credential: pipedCredential, command: null }
    : opts.secretCommand
      ? await commandSecret(deps, opts, opts.secretCommand, orgUrl)
      : opts.tokenStdin
        ? { credential: await askToken(deps, orgUrl, address.oktaUrl), command: null }
        : await askSecret(deps, opts, orgUrl, address.oktaUrl);
  const name = opts.name ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  const replaced = opts.name === undefined ? existing(name) : undefined;
  if (replaced) await confirmReplace(deps, replaced);
  let result: ProbeResult | undefined;

  while (opts.test) {
    const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
    try {
      result = await probeConnection(await deps.okta(), { orgUrl, credential: secret.credential, timeoutMs: opts.timeout });
    } finally {
      spinner.stop();
    }
    if (!result.error) break;
    const failure = explainAtAdd(result.error, orgUrl, secret.command);
    if (!interactive) throw rephrase(failure, { message: (message) => `${message}: nothing was saved` });
    reportFailure(deps, failure);
    // The default fits the failure: the address for a host that is not (or not reachable as) Okta, else the token.
    const isAddress = failure.exitCode === ExitCode.network || failure.exitCode === ExitCode.badResponse;
    const next = await deps.prompter.select(
      'The test failed. What now?',
      [
        {
          value: 'token',
          name: secret.command
            ? 'Enter the command again, or run it again once the secret is fixed (the address stays)'
            : 'Enter the token again (the address stays)',
        },
        { value: 'url', name: `Enter the API address again (the ${secret.command ? 'command' : 'token'} stays)` },
        { value: 'save', name: 'Save anyway' },
        { value: 'cancel', name: 'Cancel (nothing is saved)' },
      ],
      isAddress ? 'url' : 'token',
    );
    if (next === 'cancel') throw new CancelledError('cancelled: nothing was saved');
    if (next === 'save') break;
    if (next === 'url') orgUrl = (await askOrgUrl(deps, opts)).orgUrl;
    else if (secret.command) secret = await commandSecret(deps, { ...opts, name }, await askCommand(deps, secret.command), orgUrl);
    else secret = { credential: await askToken(deps, orgUrl, null), command: null };
  }
  if (result?.ok) testWarnings(result).forEach((warning) => { deps.notify(`${name}: ${warning}`); });

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
    deps.io.stdout.write(`${jsonText(listItem({ name, kind: record.kind, orgUrl, source, record }))}\n`);
  } else {
    const who = result ? ownerText(result) : '';
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}${who === '' ? '' : `  ${who}`}${tested}\n`);
  }
  // stderr, so --json (stdout) scripts are told too.
  if (deps.env[tokenVar(name)]) {
    deps.notify(`${tokenVar(name)} is set: it wins over the ${record.secretCommand ? 'secret command' : 'keychain'} for this connection`);
  }
}

/**
 * A token pasted a minute ago was not revoked or idle for 30 days: at add, a 401 means another org's token, or one copied
 * incompletely (into the secret manager, for one a command prints).
 */
function explainAtAdd(error: CliError, orgUrl: string, command: SecretCommand | null): CliError {
  if (error.exitCode !== ExitCode.auth) return error;
  const which = command ? `the token ${displayCommand(command)} prints` : 'the token';
  return rephrase(error, {
    hint: `check that ${which} was created in ${orgUrl}'s Admin Console and copied whole (Okta shows it once); create one at ${tokenPageUrl(orgUrl)}`,
  });
}

/** The keychain can take a token; when it cannot, the hint adds the way that needs none. */
async function checkCanSave(deps: AddDeps): Promise<void> {
  try {
    await deps.connections.checkCanSave();
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== ExitCode.keychain) throw error;
    throw rephrase(error, {
      hint: `${error.hint ?? ''}; or keep the token in a secret manager: okta-connect add … --secret-command -- <command…>`.replace(/^; /, ''),
    });
  }
}

/** The suggested name, or the first of name-2, name-3… that is free: the default is never a name that exists. */
function freeName(suggestion: string, records: ConnectionRecord[]): string | undefined {
  if (!nameSchema.safeParse(suggestion).success) return undefined;
  const taken = new Set(records.map((record) => record.name));
  let candidate = suggestion;
  for (let n = 2; taken.has(candidate); n += 1) candidate = `${suggestion.slice(0, 60)}-${String(n)}`;
  return candidate;
}

export function assertFree(records: ConnectionRecord[], name: string, force: boolean): void {
  if (force || !records.some((record) => record.name === name)) return;
  throw new UsageError(`a connection named "${name}" exists already`, {
    hint: `replace it with --force, or pick another name (names cannot be renamed: add under the new name, then okta-connect remove --name ${name})`,
  });
}

async function readStdinToken(deps: AddDeps): Promise<Credential> {
  const raw = await readStdinSecret(deps.io.stdin, 'printf %s "$TOKEN" | okta-connect add --token-stdin …');
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach((notice) => {
    deps.notify(notice);
  });
  return value;
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

/**
 * The address, checked as soon as it is typed (the unauthenticated org check): a typo or a host that is not Okta is
 * caught while the user is still on this question, with the address they probably meant.
 */
export async function askOrgUrl(deps: AddDeps, opts: AddOptions): Promise<{ orgUrl: string; oktaUrl: string | null }> {
  for (;;) {
    const { value, notices } = await askValid(
      (validate) => deps.prompter.input("Okta API address (your org's URL, e.g. https://acme.okta.com):", { validate }),
      orgUrlSchema,
    );
    notices.forEach((notice) => {
      deps.notify(notice);
    });
    deps.io.stderr.write(`  API address: ${deps.theme.bold(value)}\n`);
    if (!opts.test) return { orgUrl: value, oktaUrl: null };
    const spinner = startSpinner(deps.io, `checking ${value}…`);
    try {
      const org = await (await deps.okta()).checkOrg(value, opts.timeout);
      return { orgUrl: value, oktaUrl: org.oktaUrl };
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      spinner.stop();
      const suggestion = suggestedOrgUrl(new URL(value).hostname);
      deps.io.stderr.write(`${deps.theme.failMark} ${error.message}\n  ${suggestion ? `did you mean ${suggestion}?` : (error.hint ?? '')}\n`);
    } finally {
      spinner.stop();
    }
  }
}

/** "Replace acme (https://acme.okta.com, owner ada@acme.com)?": --force in a terminal never replaces silently. */
export async function confirmReplace(deps: AddDeps, record: ConnectionRecord): Promise<void> {
  const owner = record.owner?.login ?? record.owner?.id;
  const question = `Replace ${record.name} (${record.orgUrl}${owner ? `, owner ${owner}` : ''})?`;
  if (await deps.prompter.confirm(question, false)) return;
  deps.io.stderr.write('not replaced\n');
  throw new SilentError(ExitCode.interrupted);
}

function showTokenPage(deps: AddDeps, orgUrl: string, oktaUrl: string | null): void {
  deps.io.stderr.write(
    `  Create a token at ${tokenPageUrl(orgUrl, oktaUrl)}\n` +
      '  (Security > API > Tokens > Create Token; copy the value, it is shown once. It has your admin permissions.)\n',
  );
}

/** In a terminal, with no token piped and no --secret-command: where is the token kept? */
async function askSecret(deps: AddDeps, opts: AddOptions, orgUrl: string, oktaUrl: string | null): Promise<Secret> {
  showTokenPage(deps, orgUrl, oktaUrl);
  const where = await deps.prompter.select('Where is the token kept?', [
    { value: 'keychain', name: "This computer's keychain (paste it now)" },
    { value: 'command', name: 'A command that prints it (a secret manager: pass, op, vault, aws, doppler, sops…)' },
  ]);
  if (where === 'keychain') return { credential: await askPastedToken(deps), command: null };
  return commandSecret(deps, opts, await askCommand(deps, undefined), orgUrl);
}

/** The command, typed: split into words as a shell would, but run without one; refused (and asked again) when it holds a secret. */
export async function askCommand(deps: AddDeps, previous: SecretCommand | undefined, what: 'token' | 'key' = 'token'): Promise<SecretCommand> {
  if (previous === undefined) {
    deps.io.stderr.write(
      what === 'token'
        ? '  It runs each time the token is needed, without a shell and with stdin closed, and must print the token alone.\n' +
            "  e.g. pass show okta/prod, op read op://Ops/okta-prod/credential (a shell: sh -c '…')\n"
        : '  It runs each time the key is needed, without a shell and with stdin closed, and must print the private key (PEM or JWK) alone.\n' +
            "  e.g. pass show okta/svc-key, op read op://Ops/okta-svc/private-key (a shell: sh -c '…')\n",
    );
  }
  let argv: SecretCommand | undefined;
  await deps.prompter.input(what === 'token' ? 'Command that prints the token:' : 'Command that prints the private key:', {
    default: previous === undefined ? undefined : displayCommand(previous, Number.MAX_SAFE_INTEGER),
    validate: (value) => {
      const split = splitCommandLine(value);
      if ('problem' in split) return split.problem;
      argv = split.argv;
      return secretCommandProblem(split.argv) ?? true;
    },
  });
  if (argv === undefined) throw new Error('the prompt returned an answer it did not validate');
  deps.io.stderr.write(`  command: ${deps.theme.bold(printable(displayCommand(argv)))}\n`);
  return argv;
}

/** Run the command once; what it prints is validated as a pasted token. In a terminal a failure is explained and the command asked again. */
async function commandSecret(deps: AddDeps, opts: Pick<AddOptions, 'name' | 'secretTimeout'>, first: SecretCommand, orgUrl: string): Promise<Secret> {
  for (let argv = first; ; argv = await askCommand(deps, argv)) {
    try {
      const { value, notices } = await deps.connections.runSecretCommand({ argv, name: opts.name, orgUrl }, { kind: 'token' }, {
        secretTimeoutMs: opts.secretTimeout,
      });
      notices.forEach((notice) => {
        deps.notify(notice);
      });
      return { credential: value, command: argv };
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== ExitCode.keychain) throw error;
      if (!deps.io.canPrompt) throw rephrase(error, { message: (message) => `${message}: nothing was saved` });
      reportFailure(deps, error);
    }
  }
}

async function askToken(deps: AddDeps, orgUrl: string, oktaUrl: string | null): Promise<Credential> {
  showTokenPage(deps, orgUrl, oktaUrl);
  return askPastedToken(deps);
}

async function askPastedToken(deps: AddDeps): Promise<Credential> {
  // Validated at the prompt (asked again when wrong), then taken in by the store, which registers it for redaction.
  const raw = await deps.prompter.password('API token (input masked):', { validate: promptValidator(tokenSchema) });
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach((notice) => {
    deps.notify(notice);
  });
  return value;
}

export async function askName(deps: AddDeps, records: ConnectionRecord[], suggestion: string, force: boolean): Promise<string> {
  const fallback = freeName(suggestion, records);
  return askValid(
    (validate) => deps.prompter.input('Name for this connection:', { default: fallback, validate }),
    nameSchema,
    (name) =>
      !force && records.some((record) => record.name === name)
        ? `"${name}" exists already: pick another name (or run again with --force to replace it)`
        : true,
  );
}

/** A failure in a flow that goes on (the question is asked again, or a menu follows): its message and hint, marked. */
export function reportFailure(deps: Pick<AddDeps, 'io' | 'theme'>, failure: CliError): void {
  deps.io.stderr.write(`${deps.theme.failMark} ${printable(failure.message)}\n${failure.hint ? `  ${printable(failure.hint)}\n` : ''}`);
}
