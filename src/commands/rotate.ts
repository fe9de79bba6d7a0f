import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf, type ProbeResult } from '../connections/probe.js';
import { rotatedElsewhere } from '../connections/secret-command.js';
import { ownerText } from '../connections/views.js';
import { tokenPageUrl, tokenSchema, type ConnectionRecord } from '../domain/connection.js';
import { oauthCredential, secretOf, type Credential, type OAuthCredential } from '../domain/credential.js';
import { CancelledError, CliError, ExitCode, NotFoundError, UsageError, rephrase } from '../domain/errors.js';
import { appConsoleUrl, publicJwkOf, thumbprintOf } from '../domain/oauth.js';
import { jsonText } from '../domain/printable.js';
import { reportFailure } from './add.js';
import { askKeySource, keyOptionFields, keySource, printPublicKey, readKey, type KeySource } from './add-oauth.js';
import { shellCommand } from '../domain/shell.js';
import { optionFields, parseOptions, promptValidator, withPositionalName } from '../domain/options.js';
import { readStdinSecret } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';

export const rotateOptionsSchema = z.lazy(() =>
  z.object({
    name: optionFields.name,
    tokenStdin: optionFields.flag,
    revokeOld: optionFields.flag,
    json: optionFields.flag,
    timeout: optionFields.timeout,
    test: z._default(z.boolean(), true),
    ...keyOptionFields(),
  }),
);
export type RotateOptions = z.output<typeof rotateOptionsSchema>;
export type RotateDeps = Pick<Context, 'io' | 'theme' | 'env' | 'connections' | 'prompter' | 'okta' | 'notify'>;

export function rotateCommand(run: (opts: RotateOptions) => Promise<void>): Command {
  return new Command('rotate')
    .description('replace only the token of a saved connection: test the new one, swap it atomically')
    .argument('[name]', 'the connection (or --name; always named)')
    .option('-n, --name <name>', 'the connection')
    .option('--token-stdin', 'read the new token (or, for an OAuth connection, the new private key) from stdin (else it is asked, masked, in a terminal)')
    .option('--revoke-old', 'then revoke the old token at Okta (DELETE /api/v1/api-tokens/current); for OAuth, says which key to delete from the app')
    .option('--generate-key', 'OAuth: make a new key pair and print its public JWK to add to the app')
    .option('--key-type <type>', 'with --generate-key: rsa (2048, the default) or ec (P-256)')
    .option('--private-key-file <file>', 'OAuth: the new private key, PEM (PKCS#1/PKCS#8/SEC1) or JWK')
    .option('--key-id <kid>', "OAuth: the new key's kid (default: the JWK's own, else its thumbprint)")
    .option('--no-test', 'OAuth: swap the new key in without testing it (its public half is not in the app yet)')
    .option('--json', 'print the connection as JSON on stdout')
    .option('--timeout <seconds>', 'time allowed for the test (and the revocation)', '15')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  okta-connect rotate prod                       # asks the new token, masked',
        '  printf %s "$NEW_TOKEN" | okta-connect rotate prod --token-stdin --revoke-old',
        '  okta-connect rotate svc --generate-key          # OAuth: prints the public JWK, asks to test once it is added',
        '',
        'The address and the name stay; nothing changes unless the new secret passes the test (or --no-test, OAuth only).',
        'A connection whose token a secret command prints is rotated in the secret manager instead (exit 2 here).',
      ].join('\n'),
    )
    .action(async (name: string | undefined, opts: unknown) => {
      await run(parseOptions(rotateOptionsSchema, withPositionalName(name, opts)));
    });
}

export async function rotateRun(deps: RotateDeps, opts: RotateOptions): Promise<void> {
  if (opts.name === undefined) throw new UsageError('missing the connection to rotate', { hint: 'okta-connect rotate <name>; see okta-connect list' });
  const { name } = opts;
  const records = await deps.connections.records();
  const record = records.find((candidate) => candidate.name === name);
  if (!record) {
    throw new NotFoundError(`no saved connection named "${name}"`, {
      hint: records.length > 0 ? `saved: ${records.map((saved) => saved.name).join(', ')}` : 'create one with: okta-connect add',
    });
  }
  // Nothing to read or ask: a command prints this connection's token, from the user's secret manager.
  if (record.secretCommand) throw rotatedElsewhere({ argv: record.secretCommand, name, orgUrl: record.orgUrl }, record.kind);
  if (record.kind === 'oauth') {
    await rotateOAuth(deps, opts, record);
    return;
  }
  const oauthOnly = OAUTH_ONLY.filter(([key]) => (key === 'test' ? !opts.test : opts[key] !== undefined && opts[key] !== false)).map(([, flag]) => flag);
  if (oauthOnly.length > 0) {
    // A key must never take a token's place: refused before anything is read or made.
    throw new UsageError(`${oauthOnly.join(', ')}: for an OAuth connection, and "${name}" holds an API token`, {
      hint: `printf %s "$NEW_TOKEN" | okta-connect rotate ${name} --token-stdin`,
    });
  }
  if (!opts.tokenStdin && !deps.io.canPrompt) {
    throw new UsageError('missing --token-stdin (with the new token on stdin): no terminal to ask in', {
      hint: `printf %s "$NEW_TOKEN" | okta-connect rotate ${name} --token-stdin`,
    });
  }
  const credential = opts.tokenStdin && !deps.io.isStdinTTY ? await readStdinToken(deps, name) : await askToken(deps, record.orgUrl);

  const spinner = startSpinner(deps.io, `testing the new token at ${record.orgUrl}…`);
  let result;
  try {
    result = await probeConnection(await deps.okta(), { orgUrl: record.orgUrl, credential, timeoutMs: opts.timeout });
  } finally {
    spinner.stop();
  }
  if (result.error) {
    throw rephrase(result.error, {
      message: (message) => `${name}: the new token failed its test, so nothing was changed: ${message}`,
      hint: `check that it was created in ${record.orgUrl} and copied whole; ${result.error.hint ?? ''}`.replace(/; $/, ''),
    });
  }
  const { record: saved, previous } = await deps.connections.replaceSecret({ name, orgUrl: record.orgUrl, credential, test: testRecordOf(result) });
  const who = ownerText(result);
  if (opts.json) deps.io.stdout.write(`${JSON.stringify({ name, orgUrl: saved.orgUrl, rotated: true, owner: saved.owner, lastTest: saved.lastTest }, null, 2)}\n`);
  else deps.io.stdout.write(`${deps.theme.okMark} rotated ${name}  ${saved.orgUrl}${who === '' ? '' : `  ${who}`}\n`);

  if (!opts.revokeOld) return;
  if (previous === undefined) {
    deps.notify(`${name}: there was no old token in the keychain to revoke`);
    return;
  }
  await revokeOld(deps, name, record.orgUrl, previous, opts.timeout);
}

/** The old token is revoked only once the new one is saved: a failure here leaves a working connection. */
async function revokeOld(deps: RotateDeps, name: string, orgUrl: string, credential: Credential, timeoutMs: number): Promise<void> {
  const spinner = startSpinner(deps.io, 'revoking the old token…');
  try {
    const okta = await deps.okta();
    await okta.checkOrg(orgUrl, timeoutMs);
    await okta.revokeCurrentToken({ orgUrl, credential, timeoutMs });
    deps.io.stderr.write(`${deps.theme.okMark} the old token of ${name} was revoked at Okta\n`);
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.auth) {
      deps.notify(`${name}: the old token was already invalid at Okta (401)`);
      return;
    }
    if (error instanceof CliError) {
      throw rephrase(error, {
        message: (message) => `${name} now uses the new token, but the old one could not be revoked: ${message}`,
        hint: `revoke it in the Admin Console: ${tokenPageUrl(orgUrl)}`,
      });
    }
    throw error;
  } finally {
    spinner.stop();
  }
}

const OAUTH_ONLY: [keyof RotateOptions, string][] = [
  ['generateKey', '--generate-key'],
  ['keyType', '--key-type'],
  ['privateKeyFile', '--private-key-file'],
  ['keyId', '--key-id'],
  ['test', '--no-test'],
];

/**
 * A new key for an OAuth connection. Okta accepts it only once its public half is in the app, so the public JWK is
 * printed first; the key is tested (with the saved client id and scopes, at the saved address) when the user says it
 * is added, and swapped in only if it passes. `--no-test` swaps it untested. Nothing is ever revoked at Okta.
 */
async function rotateOAuth(deps: RotateDeps, opts: RotateOptions, record: ConnectionRecord): Promise<void> {
  const { name, orgUrl } = record;
  const example = `okta-connect rotate ${name} --generate-key`;
  const stdinExample = `okta-connect rotate ${name} --token-stdin < key.pem`;
  const source = keySource(opts, example, stdinExample);
  const interactive = deps.io.canPrompt;
  if (!interactive && source === undefined) {
    throw new UsageError('missing --generate-key, --private-key-file <file> or --token-stdin (the key on stdin): no terminal to ask in', { hint: example });
  }
  // A generated key cannot pass a test before its public half is in the app, and without a terminal nobody can say it
  // is: refused before it is made, rather than printing a key that is then thrown away.
  if (!interactive && source?.from === 'generate' && opts.test) {
    throw new UsageError('without a terminal, --generate-key needs --no-test: the new key cannot pass a test before its public half is added to the app', {
      hint: `${example} --no-test, add the printed public key to the app, then: okta-connect test ${name}`,
    });
  }
  if (record.clientId == null || record.scopes == null) {
    throw new UsageError(`the record of "${name}" has no client id or scopes`, { hint: `save it again: okta-connect add --oauth ${name} --force` });
  }
  const { clientId, scopes } = record;
  // Before any secret is read, asked or made: a keychain that cannot take it is said at once (exit 8).
  await deps.connections.checkCanSave();
  const chosen = source ?? (await askKeySource(deps));
  const keyText = await readKey(deps, chosen, stdinExample);
  const made = oauthCredential({ clientId, scopes: scopes.join(' '), privateKey: keyText, keyId: opts.keyId });
  made.notices.forEach(deps.notify);
  // Registered for redaction: from here on, no error or output can carry the key.
  const credential = deps.connections.intake('oauth', secretOf(made.value)).value as OAuthCredential;
  if (record.keyId != null && credential.keyId === record.keyId && opts.keyId === undefined && credential.keyId === thumbprintOf(publicJwkOf(credential.privateKey))) {
    // The kid is the key's own thumbprint: this is the saved key itself, and another kid would not make it a new one.
    throw new UsageError(`the new key is the one ${name} has (its thumbprint is the saved kid ${record.keyId}): nothing to rotate`, {
      hint: `give the new key's file (okta-connect rotate ${name} --private-key-file <new key>), or make one: okta-connect rotate ${name} --generate-key`,
    });
  }
  if (record.keyId != null && credential.keyId === record.keyId) {
    throw new UsageError(`the new key's kid is the old one's (${record.keyId}): Okta needs a different kid for each of the app's keys`, {
      hint: `give the kid the app lists for the new key with --key-id, e.g. ${sameSource(name, chosen)} --key-id ${record.keyId}-2`,
    });
  }
  printPublicKey(deps, orgUrl, credential, opts.json);

  let result: ProbeResult | undefined;
  if (opts.test) {
    if (!interactive) {
      result = await testKey(deps, orgUrl, credential, opts.timeout);
      if (result.error) throw keyFailed(name, orgUrl, clientId, result.error);
    } else {
      if (!(await deps.prompter.confirm('Test the new key now? (add the public key to the app first)', true))) {
        throw new CancelledError(`not rotated: ${name} keeps its old key, and the new one was not saved`, {
          hint: `to swap it in untested: okta-connect rotate ${name} --no-test (with the key given again, or a new one)`,
        });
      }
      for (;;) {
        result = await testKey(deps, orgUrl, credential, opts.timeout);
        if (!result.error) break;
        reportFailure(deps, result.error);
        const next = await deps.prompter.select(
          'The new key failed its test. What now?',
          [
            { value: 'again', name: 'Test again (after adding the public key to the app in the Admin Console)' },
            { value: 'cancel', name: 'Cancel (the old key stays, the new one is not saved)' },
          ],
          'again',
        );
        if (next === 'cancel') throw new CancelledError(`not rotated: ${name} keeps its old key, and the new one was not saved`);
      }
    }
  }

  const { record: saved, previous } = await deps.connections.replaceSecret({ name, orgUrl, credential, test: result && testRecordOf(result) });
  const tested = result === undefined ? '  (not tested)' : '';
  if (opts.json) {
    deps.io.stdout.write(
      `${jsonText({ name, kind: 'oauth', orgUrl: saved.orgUrl, rotated: true, tested: result !== undefined, clientId, keyId: credential.keyId, publicJwk: publicJwkOf(credential.privateKey), addKeyUrl: appConsoleUrl(orgUrl, clientId), lastTest: saved.lastTest })}\n`,
    );
  } else {
    deps.io.stdout.write(`${deps.theme.okMark} rotated ${name}  ${saved.orgUrl}  as client ${clientId}  kid ${credential.keyId}${tested}\n`);
  }
  if (result === undefined) deps.notify(`${name} now uses the new key, untested (--no-test); once its public key is added to the app, run: okta-connect test ${name}`);

  const oldKid = previous?.kind === 'oauth' ? previous.keyId : (record.keyId ?? undefined);
  if (opts.revokeOld) {
    deps.notify(
      `Okta has no revocation for a key: revoke the old one${oldKid === undefined ? '' : ` (kid ${oldKid})`} by deleting it from the app's Public keys (General > Public keys): ${appConsoleUrl(orgUrl, clientId)}`,
    );
  } else if (oldKid !== undefined) {
    deps.notify(`the old key (kid ${oldKid}) still works at Okta until it is deleted from the app's Public keys`);
  }
}

/** The rotate command that gives the new key the way it was given this time (for a hint that adds a flag to it). */
function sameSource(name: string, source: KeySource): string {
  if (source.from === 'file') return shellCommand(['okta-connect', 'rotate', name, '--private-key-file', source.path]);
  if (source.from === 'stdin') return `okta-connect rotate ${name} --token-stdin < key.pem`;
  return `okta-connect rotate ${name} --generate-key`;
}

async function testKey(deps: RotateDeps, orgUrl: string, credential: OAuthCredential, timeoutMs: number): Promise<ProbeResult> {
  const spinner = startSpinner(deps.io, `testing the new key at ${orgUrl}…`);
  try {
    return await probeConnection(await deps.okta(), { orgUrl, credential, timeoutMs });
  } finally {
    spinner.stop();
  }
}

function keyFailed(name: string, orgUrl: string, clientId: string, error: CliError): CliError {
  const link = appConsoleUrl(orgUrl, clientId);
  return rephrase(error, {
    message: (message) => `${name}: the new key failed its test, so nothing was changed: ${message}`,
    hint: [
      `add the public key above to the app${error.hint?.includes(link) === true ? '' : ` (${link})`}, then run this again (or swap it in untested with --no-test)`,
      error.hint,
    ]
      .filter((part) => part !== undefined && part !== '')
      .join('; '),
  });
}

async function readStdinToken(deps: RotateDeps, name: string): Promise<Credential> {
  const raw = await readStdinSecret(deps.io.stdin, `printf %s "$NEW_TOKEN" | okta-connect rotate ${name} --token-stdin`);
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach(deps.notify);
  return value;
}

async function askToken(deps: RotateDeps, orgUrl: string): Promise<Credential> {
  deps.io.stderr.write(`  Create the new token at ${tokenPageUrl(orgUrl)}\n  (Security > API > Tokens > Create Token; copy the value, it is shown once.)\n`);
  const raw = await deps.prompter.password('New API token (input masked):', { validate: promptValidator(tokenSchema) });
  const { value, notices } = deps.connections.intake('token', raw);
  notices.forEach(deps.notify);
  return value;
}
