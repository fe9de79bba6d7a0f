import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { chooseConnection } from '../connections/choose.js';
import type { OAuthCredential } from '../domain/credential.js';
import { UsageError } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions, withPositionalName } from '../domain/options.js';

export const tokenOptionsSchema = z.lazy(() => z.object({ name: optionFields.name, timeout: optionFields.timeout, secretTimeout: optionFields.secretTimeout }));
export type TokenOptions = z.output<typeof tokenOptionsSchema>;
export type TokenDeps = Pick<Context, 'io' | 'env' | 'connections' | 'prompter' | 'notify' | 'okta'>;

export function tokenCommand(run: (opts: TokenOptions) => Promise<void>): Command {
  return new Command('token')
    .description('print the token on stdout, for $(…) in scripts (for an OAuth connection: a fresh access token)')
    .argument('[name]', 'the connection (or --name; default: OKTA_CONNECT_NAME, or the only connection)')
    .option('-n, --name <name>', 'the connection')
    // An API token is printed from the keychain; an OAuth access token needs the org check and the token endpoint.
    .addOption(new Option('--timeout <seconds>', 'OAuth: time allowed for the org check and the token request, together').default('15'))
    .option(...SECRET_TIMEOUT_FLAG)
    .addHelpText('after', '\nExamples:\n  okta-connect token prod\n  curl -H "Authorization: SSWS $(okta-connect token --name prod)" https://acme.okta.com/api/v1/users/me')
    .action(async (name: string | undefined, opts: unknown) => {
      await run(parseOptions(tokenOptionsSchema, withPositionalName(name, opts)));
    });
}

export async function tokenRun(deps: TokenDeps, opts: TokenOptions): Promise<void> {
  const name = opts.name ?? (await chooseConnection(deps, { message: 'missing --name', hint: 'okta-connect token <name>; see okta-connect list' }));
  const connection = await deps.connections.resolve(name, undefined, { secretTimeoutMs: opts.secretTimeout });
  const { credential } = connection;
  const secret = credential.kind === 'api-token' ? credential.token : await accessTokenOf(deps, connection.name, connection.orgUrl, credential, opts.timeout);
  if (deps.io.isStdoutTTY) {
    deps.notify(`printing a secret to the terminal: it may stay in scrollback; prefer $(okta-connect token ${connection.name}) or okta-connect exec`);
  }
  deps.io.stdout.write(`${secret}\n`);
  await deps.connections.markUsed(connection);
}

/**
 * A fresh access token for an OAuth connection (never the private key): the org check first, as test does, so that no
 * client assertion goes to a host that is not an Okta org. A DPoP-bound token is refused: without a proof signed by the
 * private key for each request, Okta rejects it, so printing it would only hand out a secret nobody can use.
 */
async function accessTokenOf(deps: TokenDeps, name: string, orgUrl: string, credential: OAuthCredential, timeoutMs: number): Promise<string> {
  const okta = await deps.okta();
  const deadline = Date.now() + timeoutMs;
  await okta.checkOrg(orgUrl, timeoutMs);
  const grant = await okta.accessToken({ orgUrl, credential, timeoutMs: Math.max(1, deadline - Date.now()) });
  if (grant.isDPoP) {
    throw new UsageError(`the app ${credential.clientId} requires DPoP: its access tokens are bound to the private key, and every request must carry a fresh DPoP proof signed with it, so a bare token is not usable`, {
      hint: `run the tool through okta-connect exec ${name} -- <command> (the Okta SDKs and Terraform sign the proofs), or turn off "Require Demonstrating Proof of Possession (DPoP) header in token requests" on the app's General tab`,
    });
  }
  return grant.accessToken;
}
