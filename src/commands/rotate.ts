import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { probeConnection, testRecordOf } from '../connections/probe.js';
import { rotatedElsewhere } from '../connections/secret-command.js';
import { ownerText } from '../connections/views.js';
import { tokenPageUrl, tokenSchema } from '../domain/connection.js';
import type { Credential } from '../domain/credential.js';
import { CliError, ExitCode, NotFoundError, UsageError, rephrase } from '../domain/errors.js';
import { optionFields, parseOptions, promptValidator, withPositionalName } from '../domain/options.js';
import { readStdinSecret } from '../io/streams.js';
import { startSpinner } from '../io/spinner.js';

export const rotateOptionsSchema = z.object({
  name: optionFields.name,
  tokenStdin: optionFields.flag,
  revokeOld: optionFields.flag,
  json: optionFields.flag,
  timeout: optionFields.timeout,
});
export type RotateOptions = z.output<typeof rotateOptionsSchema>;
export type RotateDeps = Pick<Context, 'io' | 'theme' | 'connections' | 'prompter' | 'okta' | 'notify'>;

export function rotateCommand(run: (opts: RotateOptions) => Promise<void>): Command {
  return new Command('rotate')
    .description('replace only the token of a saved connection: test the new one, swap it atomically')
    .argument('[name]', 'the connection (or --name; always named)')
    .option('-n, --name <name>', 'the connection')
    .option('--token-stdin', 'read the new token from stdin (else it is asked, masked, in a terminal)')
    .option('--revoke-old', 'then revoke the old token at Okta (DELETE /api/v1/api-tokens/current)')
    .option('--json', 'print the connection as JSON on stdout')
    .option('--timeout <seconds>', 'time allowed for the test (and the revocation)', '15')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  okta-connect rotate prod                       # asks the new token, masked',
        '  printf %s "$NEW_TOKEN" | okta-connect rotate prod --token-stdin --revoke-old',
        '',
        'The address and the name stay; nothing changes unless the new token passes the test.',
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
  if (record.secretCommand) throw rotatedElsewhere({ argv: record.secretCommand, name, orgUrl: record.orgUrl });
  if (record.kind === 'oauth') {
    // A token must never take an OAuth connection's place in the keychain; a new key for the app is not done yet.
    throw new UsageError(`rotate does not replace the key of an OAuth connection yet ("${name}")`, {
      hint: `make a new key with okta-connect add --oauth ${name} --force --org-url ${record.orgUrl} --client-id ${record.clientId ?? '<id>'} --scopes ${(record.scopes ?? []).join(',') || '<scopes>'} --generate-key, add its public JWK to the app, then delete the old key there`,
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
