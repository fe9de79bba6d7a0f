import { promises as fs } from 'node:fs';
import { nodeCrypto } from '../domain/builtins.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { listItem, ownerText } from '../connections/views.js';
import { subdomainOf, type ConnectionRecord } from '../domain/connection.js';
import { oauthCredential, secretOf, type OAuthCredential } from '../domain/credential.js';
import { clientIdVar } from '../domain/env-overrides.js';
import { CancelledError, ExitCode, UsageError, rephrase, type CliError } from '../domain/errors.js';
import { appConsoleUrl, parseClientId, parseScopes, publicJwkOf } from '../domain/oauth.js';
import { jsonText, printable } from '../domain/printable.js';
import { readStdinSecret } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';
import type { AddDeps, AddOptions } from './add.js';
import { askName, askOrgUrl, assertFree, confirmReplace } from './add.js';

const MAX_KEY_FILE_BYTES = 64 * 1024;
const EXAMPLE = 'okta-connect add --oauth --name svc --org-url https://acme.okta.com --client-id 0oa… --scopes okta.users.read --generate-key';
const STDIN_EXAMPLE = 'okta-connect add --oauth --token-stdin … < key.pem';

/** The flags that say where a private key comes from (add --oauth and rotate share them). */
export type KeyFlags = Pick<AddOptions, 'privateKeyFile' | 'tokenStdin' | 'generateKey' | 'keyType'>;

/** Where the private key comes from: a file, stdin, or made here. */
export type KeySource = { from: 'file'; path: string } | { from: 'stdin' } | { from: 'generate'; keyType: 'rsa' | 'ec' };

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
  const records = await deps.connections.records();
  if (opts.name !== undefined) assertFree(records, opts.name, opts.force);
  const interactive = deps.io.canPrompt;
  if (!interactive) {
    const missing = [
      opts.orgUrl === undefined ? '--org-url <url>' : null,
      opts.clientId === undefined ? '--client-id <id>' : null,
      opts.scopes === undefined ? '--scopes <list>' : null,
      source === undefined ? '--private-key-file <file>, --token-stdin (the key on stdin) or --generate-key' : null,
      opts.name === undefined ? '--name <name>' : null,
    ].filter((flag) => flag !== null);
    if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}: no terminal to ask in`, { hint: EXAMPLE });
  }
  // Values given by flag are checked before anything else happens: a typo is exit 2 with nothing read or asked.
  const flagClientId = opts.clientId === undefined ? undefined : parseClientId(opts.clientId);
  const flagScopes = opts.scopes === undefined ? undefined : parseScopes(opts.scopes);
  // Before any secret is read, asked or made: a keychain that cannot take it is said at once (exit 8).
  await deps.connections.checkCanSave();
  const existing = (name: string): ConnectionRecord | undefined => records.find((record) => record.name === name);
  const flagged = opts.name === undefined ? undefined : existing(opts.name);
  if (flagged && interactive) await confirmReplace(deps, flagged);

  const givenKey = source !== undefined && source.from !== 'generate' ? await readKey(deps, source, STDIN_EXAMPLE) : undefined;

  const { orgUrl } = opts.orgUrl ? { orgUrl: opts.orgUrl.value } : await askOrgUrl(deps, opts);
  const clientId = flagClientId ?? parseClientId(await deps.prompter.input("Client ID of the API Services app (General tab, starts with 0oa):", { validate: validWith(parseClientId) }));
  const scopes = flagScopes ?? parseScopes(await deps.prompter.input('Okta API scopes granted to the app (e.g. okta.users.read okta.groups.read):', { validate: validWith(parseScopes) }));
  const chosen = source ?? (await askKeySource(deps));
  const keyText = givenKey ?? (await readKey(deps, chosen, STDIN_EXAMPLE));
  const made = oauthCredential({ clientId: clientId.value, scopes: scopes.join(' '), privateKey: keyText, keyId: opts.keyId });
  made.notices.forEach((notice) => {
    deps.notify(notice);
  });
  // Registered for redaction: from here on, no error or output can carry the key.
  const credential = deps.connections.intake('oauth', secretOf(made.value)).value as OAuthCredential;
  const name = opts.name ?? (await askName(deps, records, subdomainOf(orgUrl), opts.force));
  const replaced = opts.name === undefined ? existing(name) : undefined;
  if (replaced) await confirmReplace(deps, replaced);

  const isGenerated = chosen.from === 'generate';
  if (isGenerated) printPublicKey(deps, orgUrl, credential, opts.json);
  let result: ProbeResult | undefined;
  const shouldTest = opts.test && (!isGenerated || (interactive && (await deps.prompter.confirm('Test the connection now? (add the public key to the app first)', true))));
  while (shouldTest) {
    const spinner = startSpinner(deps.io, `testing ${orgUrl}…`);
    try {
      result = await probeConnection(await deps.okta(), { orgUrl, credential, timeoutMs: opts.timeout });
    } finally {
      spinner.stop();
    }
    if (!result.error) break;
    const failure = result.error;
    // A generated key is saved whatever the test says: its public half may be at Okta already.
    if (isGenerated) {
      reportFailure(deps, failure);
      break;
    }
    if (!interactive) throw rephrase(failure, { message: (message) => `${message}: nothing was saved` });
    reportFailure(deps, failure);
    const next = await deps.prompter.select(
      'The test failed. What now?',
      [
        { value: 'again', name: 'Test again (after fixing the app in the Admin Console)' },
        { value: 'save', name: 'Save anyway' },
        { value: 'cancel', name: 'Cancel (nothing is saved)' },
      ],
      failure.exitCode === ExitCode.network ? 'again' : 'cancel',
    );
    if (next === 'cancel') throw new CancelledError('cancelled: nothing was saved');
    if (next === 'save') break;
  }

  const record = await deps.connections.save({ name, orgUrl, credential, force: opts.force, test: result && testRecordOf(result) });
  if (opts.json) {
    const item = listItem({ name, kind: record.kind, orgUrl, source: 'keychain', record });
    deps.io.stdout.write(`${jsonText(isGenerated ? { ...item, publicJwk: publicJwkOf(credential.privateKey), addKeyUrl: appConsoleUrl(orgUrl, credential.clientId) } : item)}\n`);
  } else {
    const who = result?.ok ? ownerText(result) : `as client ${credential.clientId}`;
    const tested = result === undefined ? '  (not tested)' : result.ok ? '' : '  (saved despite the failed test)';
    deps.io.stdout.write(`${deps.theme.okMark} saved ${name}  ${orgUrl}  ${who}${tested}\n`);
  }
  if (isGenerated && result?.ok !== true) deps.notify(`once the public key is added to the app, run: okta-connect test ${name}`);
  if (deps.env[clientIdVar(name)]) deps.notify(`${clientIdVar(name)} is set: the environment wins over the keychain for this connection`);
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
    return { from: 'file', path: opts.privateKeyFile };
  }
  if (opts.tokenStdin) return { from: 'stdin' };
  if (opts.generateKey) return { from: 'generate', keyType: opts.keyType ?? 'rsa' };
  return undefined;
}

/** The key's text from its source: stdin (`stdinExample` is the hint when it is empty), a file, or a new key pair. */
export async function readKey(deps: Pick<AddDeps, 'io'>, source: KeySource, stdinExample: string): Promise<string> {
  if (source.from === 'stdin') return readStdinSecret(deps.io.stdin, stdinExample, 'private key');
  if (source.from === 'file') return readKeyFile(source.path);
  return generatedKey(source.keyType);
}

async function readKeyFile(path: string): Promise<string> {
  const shown = printable(path);
  try {
    const info = await fs.stat(path);
    if (!info.isFile()) throw new UsageError(`--private-key-file: ${shown} is not a file`, { hint: 'give the PEM or JWK file of the private key' });
    if (info.size > MAX_KEY_FILE_BYTES) throw new UsageError(`--private-key-file: ${shown} is larger than 64 KiB: that is not one key`, { hint: 'give the PEM or JWK file of the private key' });
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`--private-key-file: cannot read ${shown} (${typeof code === 'string' ? code : 'unreadable'})`, { hint: 'check the file name and that you may read it' });
  }
}

/** RSA 2048 or EC P-256, as a private JWK: its kid is the thumbprint the parser gives it. */
function generatedKey(keyType: 'rsa' | 'ec'): string {
  const { privateKey } =
    keyType === 'rsa' ? nodeCrypto().generateKeyPairSync('rsa', { modulusLength: 2048 }) : nodeCrypto().generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify(privateKey.export({ format: 'jwk' }));
}

/** The public JWK, one line (for copy and paste, or grep '^{'), and where to add it. */
export function printPublicKey(deps: Pick<AddDeps, 'io'>, orgUrl: string, credential: OAuthCredential, json: boolean): void {
  const jwk = publicJwkOf(credential.privateKey);
  // With --json, stdout is the one JSON document (it carries publicJwk and addKeyUrl); these lines go to stderr.
  (json ? deps.io.stderr : deps.io.stdout).write(
    [
      `Public key (kid ${jwk.kid ?? ''}, ${jwk.alg ?? ''}): add it to the app under General > Public keys > Add key:`,
      JSON.stringify(jwk),
      `  ${appConsoleUrl(orgUrl, credential.clientId)}`,
      '',
    ].join('\n'),
  );
}

export async function askKeySource(deps: Pick<AddDeps, 'prompter'>): Promise<KeySource> {
  const how = await deps.prompter.select(
    'The private key:',
    [
      { value: 'rsa', name: 'Generate a new RSA 2048 key (its public half is printed, to add to the app)' },
      { value: 'ec', name: 'Generate a new EC P-256 key' },
      { value: 'file', name: 'Read it from a file (PEM or JWK)' },
    ],
    'rsa',
  );
  if (how === 'rsa' || how === 'ec') return { from: 'generate', keyType: how };
  const path = await deps.prompter.input('Private key file:', { validate: (value) => (value.trim() === '' ? 'give the file name' : true) });
  return { from: 'file', path: path.trim() };
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

export function reportFailure(deps: Pick<AddDeps, 'io' | 'theme'>, failure: CliError): void {
  deps.io.stderr.write(`${deps.theme.failMark} ${printable(failure.message)}\n${failure.hint ? `  ${printable(failure.hint)}\n` : ''}`);
}
