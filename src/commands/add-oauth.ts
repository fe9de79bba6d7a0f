import { promises as fs } from 'node:fs';
import * as z from 'zod/mini';
import { optionFields } from '../domain/options.js';
import { nodeCrypto } from '../domain/builtins.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { listItem, ownerText } from '../connections/views.js';
import { subdomainOf, type ConnectionRecord, type Normalised } from '../domain/connection.js';
import { oauthCredential, secretOf, type Credential, type OAuthCredential } from '../domain/credential.js';
import type { SecretCommand } from '../domain/secret-command.js';
import { clientIdVar } from '../domain/env-overrides.js';
import { CancelledError, CliError, ExitCode, UsageError, rephrase } from '../domain/errors.js';
import { appConsoleUrl, parseClientId, parseKeyId, parsePrivateKey, parseScopes, publicJwkOf } from '../domain/oauth.js';
import { jsonText, printable } from '../domain/printable.js';
import { readAll, readStdinSecret } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';
import type { AddDeps, AddOptions } from './add.js';
import { askCommand, askName, askOrgUrl, assertFree, confirmReplace, reportFailure } from './add.js';

const MAX_KEY_FILE_BYTES = 64 * 1024;
const EXAMPLE = 'okta-connect add --oauth --name svc --org-url https://acme.okta.com --client-id 0oa… --scopes okta.users.read --generate-key';
const STDIN_EXAMPLE = 'okta-connect add --oauth --token-stdin … < key.pem';
const COMMAND_EXAMPLE = 'okta-connect add --oauth --name svc --org-url https://acme.okta.com --client-id 0oa… --scopes okta.users.read --secret-command -- pass show okta/svc-key';

/** The schema fields of those flags (built when a schema is, inside its z.lazy). */
export const keyOptionFields = () => ({
  privateKeyFile: z.optional(z.string()),
  generateKey: optionFields.flag,
  keyType: z.optional(z.enum(['rsa', 'ec'])),
  keyId: z.optional(z.string()),
});

/** The flags that say where a private key comes from (add --oauth and rotate share them). */
export type KeyFlags = Pick<AddOptions, 'privateKeyFile' | 'tokenStdin' | 'generateKey' | 'keyType'>;

/** Where the private key comes from: a file, stdin, or made here (and, for add, a command that prints it at each use). */
export type KeySource = { from: 'file'; path: string; text?: string } | { from: 'stdin' } | { from: 'generate'; keyType: 'rsa' | 'ec' };
type AddKeySource = KeySource | { from: 'command'; argv: SecretCommand };

/**
 * `add --oauth`: an OAuth 2.0 service app (private key JWT). The private key goes only to the keychain, inside the one
 * JSON secret; the metadata keeps kind, client id, scopes and kid. A key from a file or stdin is tested before it is
 * saved, as a token is. A generated key cannot be: Okta does not know it until its public half is added to the app, so
 * it is saved (untested, unless the user says in a terminal that the key is added) and its public JWK printed.
 */
export async function addOAuthRun(deps: AddDeps, opts: AddOptions): Promise<void> {
  opts.orgUrl?.notices.forEach((notice) => {
    deps.notify(notice);
  });
  const source = keySource(opts);
  const command = opts.secretCommand;
  if (command && source !== undefined) {
    throw new UsageError('--secret-command and --private-key-file, --token-stdin or --generate-key are two places for the key: give one', { hint: COMMAND_EXAMPLE });
  }
  const records = await deps.connections.records();
  if (opts.name !== undefined) assertFree(records, opts.name, opts.force);
  const interactive = deps.io.canPrompt;
  if (!interactive) {
    const missing = [
      opts.orgUrl === undefined ? '--org-url <url>' : null,
      opts.clientId === undefined ? '--client-id <id>' : null,
      opts.scopes === undefined ? '--scopes <list>' : null,
      source === undefined && !command ? '--private-key-file <file>, --token-stdin (the key on stdin), --generate-key or --secret-command -- <command…>' : null,
      opts.name === undefined ? '--name <name>' : null,
    ].filter((flag) => flag !== null);
    if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}: no terminal to ask in`, { hint: EXAMPLE });
  }
  // Values given by flag are checked before anything else happens: a typo is exit 2 with nothing read or asked.
  const flagClientId = opts.clientId === undefined ? undefined : parseClientId(opts.clientId);
  const flagScopes = opts.scopes === undefined ? undefined : parseScopes(opts.scopes);
  // Before any secret is read, asked or made: a keychain that cannot take it is said at once (exit 8). A key that a
  // command prints needs no keychain.
  if (!command) await deps.connections.checkCanSave();
  const existing = (name: string): ConnectionRecord | undefined => records.find((record) => record.name === name);
  const flagged = opts.name === undefined ? undefined : existing(opts.name);
  if (flagged && interactive) await confirmReplace(deps, flagged);

  const givenKey = source !== undefined && source.from !== 'generate' ? await readKey(deps, source, STDIN_EXAMPLE) : undefined;

  // A typed address is checked at once: a custom domain's Okta domain is then known, for the app's link.
  const { orgUrl, oktaUrl } = opts.orgUrl ? { orgUrl: opts.orgUrl.value, oktaUrl: null } : await askOrgUrl(deps, opts);
  const askClientId = async (last?: string): Promise<Normalised<string>> =>
    parseClientId(await deps.prompter.input('Client ID of the API Services app (General tab, starts with 0oa):', { default: last, validate: validWith(parseClientId) }));
  const askScopes = async (last?: string): Promise<string[]> =>
    parseScopes(await deps.prompter.input('Okta API scopes granted to the app (e.g. okta.users.read okta.groups.read):', { default: last, validate: validWith(parseScopes) }));
  const clientId = flagClientId ?? (await askClientId());
  clientId.notices.forEach((notice) => {
    deps.notify(notice);
  });
  // What the key is made with; a failed test in a terminal may have any of these entered again.
  const app = { clientId: clientId.value, scopes: flagScopes ?? (await askScopes()), keyId: opts.keyId };
  let chosen: AddKeySource = command ? { from: 'command', argv: command } : (source ?? (await askAddKeySource(deps)));
  let keyText: string | undefined;
  const keyFrom = async (text: string, askKid: boolean): Promise<Normalised<Credential>> => {
    if (askKid) app.keyId = await askKeyId(deps);
    const parsed = oauthCredential({ clientId: app.clientId, scopes: app.scopes.join(' '), privateKey: text, keyId: app.keyId });
    parsed.notices.forEach((notice) => {
      deps.notify(notice);
    });
    return deps.connections.intake('oauth', secretOf(parsed.value));
  };
  /** `askKid`: `pem` asks it for a PEM key (a JWK may carry its own), `always` for any key (chosen after a failed test). */
  const makeKey = async (askKid: 'never' | 'pem' | 'always'): Promise<{ made: Normalised<Credential>; secretCommand: SecretCommand | null }> => {
    if (chosen.from === 'command') {
      if (askKid !== 'never') app.keyId = await askKeyId(deps, "the JWK's own kid, or the key's thumbprint");
      return commandKey(deps, { ...opts, keyId: app.keyId }, chosen.argv, orgUrl, app);
    }
    keyText ??= givenKey ?? (await readKey(deps, chosen, STDIN_EXAMPLE));
    return { made: await keyFrom(keyText, askKid === 'always' || (askKid === 'pem' && isPem(keyText))), secretCommand: null };
  };
  // Registered for redaction: from here on, no error or output can carry the key.
  let { made, secretCommand } = await makeKey(opts.keyId === undefined && interactive ? 'pem' : 'never');
  made.notices.forEach((notice) => {
    deps.notify(notice);
  });
  let credential = made.value as OAuthCredential;
  const name = opts.name ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  const replaced = opts.name === undefined ? existing(name) : undefined;
  if (replaced) await confirmReplace(deps, replaced);
  // Nothing is saved yet: a hint that says to save again with --force is for a connection already saved.
  const isReplacing = existing(name) !== undefined;

  const isGenerated = chosen.from === 'generate';
  if (isGenerated) printPublicKey(deps, orgUrl, credential, opts.json, oktaUrl);
  let result: ProbeResult | undefined;
  const shouldTest = opts.test && (!isGenerated || (interactive && (await deps.prompter.confirm('Test the connection now? (add the public key to the app first)', true))));
  // The failed test the menu is about; undefined: test (again).
  let failure: CliError | undefined;
  while (shouldTest) {
    if (failure === undefined) {
      const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
      try {
        result = await probeConnection(await deps.okta(), { orgUrl, credential, timeoutMs: opts.timeout });
      } finally {
        spinner.stop();
      }
      if (!result.error) break;
      failure = unsavedFailure(result.error, isReplacing);
      if (!interactive) throw rephrase(failure, { message: (message) => `${message}: nothing was saved` });
      reportFailure(deps, failure);
    }
    // A generated key's public half may simply not be in the app yet: test again once it is, or save it to test later.
    if (isGenerated) {
      const next = await deps.prompter.select(
        'The test failed. What now?',
        [
          { value: 'again', name: 'Test again (once the key is in the app)' },
          { value: 'untested', name: 'Save untested (test later)' },
        ],
        'again',
      );
      if (next === 'untested') {
        result = undefined;
        break;
      }
      failure = undefined;
      continue;
    }
    const next = await deps.prompter.select('The test failed. What now?', retryChoices(chosen), retryDefault(failure));
    if (next === 'cancel') throw new CancelledError('cancelled: nothing was saved');
    if (next === 'save') break;
    const before = { ...app, chosen, keyText };
    try {
      if (next === 'client') app.clientId = (await askClientId(app.clientId)).value;
      if (next === 'scopes') app.scopes = await askScopes(app.scopes.join(' '));
      if (next === 'key') {
        chosen = await askKeyFile(deps);
        keyText = undefined;
      }
      if (next !== 'again') {
        ({ made, secretCommand } = await makeKey(next === 'kid' ? 'always' : next === 'key' ? 'pem' : 'never'));
        made.notices.forEach((notice) => {
          deps.notify(notice);
        });
        credential = made.value as OAuthCredential;
      }
      failure = undefined;
    } catch (error) {
      // A KID the JWK contradicts, say: explained, and the menu again, with what was there before.
      if (!(error instanceof UsageError)) throw error;
      ({ chosen, keyText } = before);
      Object.assign(app, { clientId: before.clientId, scopes: before.scopes, keyId: before.keyId });
      reportFailure(deps, error);
    }
  }

  const record = await deps.connections.save({ name, orgUrl, credential, secretCommand, force: opts.force, test: result && testRecordOf(result) });
  if (opts.json) {
    const item = listItem({ name, kind: record.kind, orgUrl, source: secretCommand ? 'command' : 'keychain', record });
    deps.io.stdout.write(`${jsonText(isGenerated ? { ...item, publicJwk: publicJwkOf(credential.privateKey), addKeyUrl: appConsoleUrl(orgUrl, credential.clientId, oktaUrl) } : item)}\n`);
  } else {
    const who = result?.ok ? ownerText(result) : `as client ${credential.clientId}`;
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}  ${who}${tested}\n`);
  }
  if (isGenerated && result?.ok !== true) deps.notify(`once the public key is added to the app, run: okta-connect test ${name}`);
  if (deps.env[clientIdVar(name)]) deps.notify(`${clientIdVar(name)} is set: the environment wins over the ${secretCommand ? 'secret command' : 'keychain'} for this connection`);
}

type RetryChoice = 'again' | 'kid' | 'client' | 'scopes' | 'key' | 'save' | 'cancel';

/** After a failed test: test again, enter one part again (the key file only if it came from one), save, or cancel. */
function retryChoices(chosen: AddKeySource): { value: RetryChoice; name: string }[] {
  return [
    { value: 'again', name: 'Test again (after fixing the app in the Admin Console)' },
    { value: 'kid', name: 'Enter the Key ID (KID) again' },
    { value: 'client', name: 'Enter the client ID again' },
    { value: 'scopes', name: 'Enter the scopes again' },
    ...(chosen.from === 'file' ? [{ value: 'key' as const, name: 'Enter the private key file again' }] : []),
    { value: 'save', name: 'Save anyway' },
    { value: 'cancel', name: 'Cancel (nothing is saved)' },
  ];
}

/** The choice that fits the failure: the part Okta refused, or test again after a network failure. */
function retryDefault(failure: CliError): RetryChoice {
  if (failure.exitCode === ExitCode.network) return 'again';
  const refusal = failure.details.refusal;
  if (refusal === 'kid') return 'kid';
  if (refusal === 'scope') return 'scopes';
  if (refusal === 'client') return 'client';
  return 'cancel';
}

/**
 * A failed test's error before anything is saved. Okta's invalid_scope hint says to save again with --force and fewer
 * --scopes: --force is only for a connection already saved under the name.
 */
function unsavedFailure(failure: CliError, isReplacing: boolean): CliError {
  if (isReplacing || failure.hint === undefined || !failure.hint.includes('add --oauth --force with fewer --scopes')) return failure;
  return rephrase(failure, { hint: failure.hint.replace('add --oauth --force with fewer --scopes', 'add again with fewer --scopes') });
}

/**
 * The key a secret command prints, run once now as at every use: validated as a stored key is (and registered for
 * redaction by the store). It is never saved: the metadata keeps the command, the client id, the scopes and the kid. In
 * a terminal a failure is explained and the command asked again (the answers before it stay).
 */
async function commandKey(
  deps: AddDeps,
  opts: Pick<AddOptions, 'name' | 'secretTimeout' | 'keyId'>,
  first: SecretCommand,
  orgUrl: string,
  app: { clientId: string; scopes: string[] },
): Promise<{ made: Normalised<Credential>; secretCommand: SecretCommand }> {
  for (let argv = first; ; argv = await askCommand(deps, argv, 'key')) {
    try {
      const made = await deps.connections.runSecretCommand({ argv, name: opts.name, orgUrl }, { kind: 'oauth', ...app, keyId: opts.keyId }, { secretTimeoutMs: opts.secretTimeout });
      return { made, secretCommand: argv };
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== ExitCode.keychain) throw error;
      if (!deps.io.canPrompt) throw rephrase(error, { message: (message) => `${message}: nothing was saved` });
      reportFailure(deps, error);
    }
  }
}

/** Where the key comes from, by flag (undefined: none given); `example` and `stdinExample` are the hints' commands. */
export function keySource(opts: KeyFlags, example = EXAMPLE, stdinExample = STDIN_EXAMPLE): KeySource | undefined {
  const given = [opts.privateKeyFile !== undefined, opts.tokenStdin, opts.generateKey].filter(Boolean).length;
  if (given > 1) throw new UsageError('give the private key one way: --private-key-file, --token-stdin or --generate-key', { hint: example });
  if (opts.keyType !== undefined && !opts.generateKey) throw new UsageError('--key-type is for --generate-key', { hint: example });
  if (opts.privateKeyFile !== undefined) {
    if (/-----BEGIN|^\s*\{/.test(opts.privateKeyFile)) {
      throw new UsageError('--private-key-file takes a file name, and this looks like the key itself: a key in the arguments leaks into ps and shell history', {
        hint: `save it to a file (chmod 600) and give its name, or pipe it: ${stdinExample}`,
      });
    }
    // `-` is stdin, as for most tools that take a file.
    if (opts.privateKeyFile === '-') return { from: 'stdin' };
    return { from: 'file', path: opts.privateKeyFile };
  }
  if (opts.tokenStdin) return { from: 'stdin' };
  if (opts.generateKey) return { from: 'generate', keyType: opts.keyType ?? 'rsa' };
  return undefined;
}

/** The key's text from its source: stdin (`stdinExample` is the hint when it is empty), a file, or a new key pair. */
export async function readKey(deps: Pick<AddDeps, 'io' | 'env'>, source: KeySource, stdinExample: string): Promise<string> {
  if (source.from === 'stdin') return readStdinSecret(deps.io.stdin, stdinExample, 'private key');
  if (source.from === 'file') return source.text ?? readKeyFile(expandHome(source.path, deps.env), '--private-key-file: ');
  return generatedKey(source.keyType);
}

/** `~/key.pem` as the shell would make it (a name typed at a question, or `--private-key-file=~/…`, is not expanded). */
function expandHome(path: string, env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME ?? env.USERPROFILE;
  return home !== undefined && home !== '' && /^~([/\\]|$)/.test(path) ? `${home}${path.slice(1)}` : path;
}

/**
 * A key file's text, at most 64 KiB. A pipe or a terminal (`<(cat key.pem)`, /dev/stdin) is read as stdin is, to the
 * same bound: process substitution keeps a key off the disk. `prefix` names where the name came from (the flag, or
 * nothing for a name typed at the question).
 */
async function readKeyFile(path: string, prefix: string): Promise<string> {
  const shown = printable(path);
  const hint = 'give the PEM or JWK file of the private key';
  try {
    const info = await fs.stat(path);
    if (info.isFIFO() || info.isCharacterDevice()) {
      const { createReadStream } = await import('node:fs');
      const { text, isOverLimit } = await readAll(createReadStream(path), MAX_KEY_FILE_BYTES);
      if (isOverLimit) throw new UsageError(`${prefix}${shown} gave more than 64 KiB: that is not one key`, { hint });
      return text;
    }
    if (!info.isFile()) throw new UsageError(`${prefix}${shown} is not a file${info.isDirectory() ? ' (a directory)' : ''}`, { hint });
    if (info.size > MAX_KEY_FILE_BYTES) throw new UsageError(`${prefix}${shown} is larger than 64 KiB: that is not one key`, { hint });
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`${prefix}cannot read ${prefix === '' ? 'the file ' : ''}${shown} (${typeof code === 'string' ? code : 'unreadable'})`, {
      hint: 'check the file name and that you may read it',
    });
  }
}

/** RSA 2048 or EC P-256, as a private JWK: its kid is the thumbprint the parser gives it. */
function generatedKey(keyType: 'rsa' | 'ec'): string {
  const { privateKey } =
    keyType === 'rsa' ? nodeCrypto().generateKeyPairSync('rsa', { modulusLength: 2048 }) : nodeCrypto().generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify(privateKey.export({ format: 'jwk' }));
}

/** The public JWK, one line (for copy and paste, or grep '^{'), and where to add it. */
export function printPublicKey(deps: Pick<AddDeps, 'io'>, orgUrl: string, credential: OAuthCredential, json: boolean, oktaUrl: string | null = null): void {
  const jwk = publicJwkOf(credential.privateKey);
  // With --json, stdout is the one JSON document (it carries publicJwk and addKeyUrl); these lines go to stderr.
  (json ? deps.io.stderr : deps.io.stdout).write(
    [
      `Public key (kid ${jwk.kid ?? ''}, ${jwk.alg ?? ''}): add it to the app under General > Public keys > Add key:`,
      JSON.stringify(jwk),
      `  ${appConsoleUrl(orgUrl, credential.clientId, oktaUrl)}`,
      '',
    ].join('\n'),
  );
}

const KEY_CHOICES = [
  { value: 'rsa', name: 'Generate a new RSA 2048 key (its public half is printed, to add to the app)' },
  { value: 'ec', name: 'Generate a new EC P-256 key' },
  { value: 'file', name: 'Read it from a file (PEM or JWK)' },
];

/** The key's source, asked (rotate): generated or a file. */
export async function askKeySource(deps: Pick<AddDeps, 'prompter' | 'io' | 'theme' | 'env'>): Promise<KeySource> {
  return keySourceFor(deps, await deps.prompter.select('The private key:', KEY_CHOICES, 'rsa'));
}

/** The key's source, asked at add: also a command of the user's secret manager, which keeps the key. */
async function askAddKeySource(deps: AddDeps): Promise<AddKeySource> {
  const how = await deps.prompter.select(
    'The private key:',
    [...KEY_CHOICES, { value: 'command', name: 'A command that prints it at each use (a secret manager: pass, op, vault, aws…); it stays there' }],
    'rsa',
  );
  if (how === 'command') return { from: 'command', argv: await askCommand(deps, undefined, 'key') };
  return keySourceFor(deps, how);
}

async function keySourceFor(deps: Pick<AddDeps, 'prompter' | 'io' | 'theme' | 'env'>, how: string): Promise<KeySource> {
  if (how === 'rsa' || how === 'ec') return { from: 'generate', keyType: how };
  return askKeyFile(deps);
}

/**
 * The key file, asked until one reads and parses as a private key (before the KID is asked): a directory, a missing
 * file or a public key is explained and the name asked again, the answers before it kept.
 */
async function askKeyFile(deps: Pick<AddDeps, 'prompter' | 'io' | 'theme' | 'env'>): Promise<KeySource> {
  let last: string | undefined;
  for (;;) {
    const answer = await deps.prompter.input('Private key file:', { default: last, validate: (value) => (value.trim() === '' ? 'give the file name' : true) });
    last = answer.trim();
    try {
      const text = await readKeyFile(expandHome(last, deps.env), '');
      parsePrivateKey(text);
      return { from: 'file', path: last, text };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      reportFailure(deps, error);
    }
  }
}

/** A PEM carries no kid (a JWK may): the one the app's Public keys list shows must be sent, or Okta refuses the assertion. */
const isPem = (keyText: string): boolean => !keyText.trimStart().startsWith('{');

async function askKeyId(deps: Pick<AddDeps, 'prompter'>, enter = 'its JWK thumbprint'): Promise<string | undefined> {
  const answer = await deps.prompter.input(`Key ID (KID) of this key, as the app's Public keys list shows it (Enter: ${enter}):`, { validate: validWith(parseKeyId) });
  return parseKeyId(answer);
}

function validWith(parse: (raw: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      parse(value);
      return true;
    } catch (error) {
      return error instanceof UsageError ? error.message : 'invalid value';
    }
  };
}

