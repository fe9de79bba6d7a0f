import { constants } from 'node:os';
import { Command } from 'commander';
import { nodeCrypto } from '../domain/builtins.js';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import type { ResolvedConnection } from '../connections/store.js';
import { CliError, ExitCode, SilentError, UsageError } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, operandsAroundDashes, optionFields, parseOptions, withPositionalName } from '../domain/options.js';
import { chooseConnection } from '../connections/choose.js';

export const execOptionsSchema = z.lazy(() => z.object({ name: optionFields.name, secretTimeout: optionFields.secretTimeout }));
export type ExecOptions = z.output<typeof execOptionsSchema>;
export type ExecDeps = Pick<Context, 'env' | 'io' | 'connections' | 'prompter' | 'signals' | 'spawn'>;

/** `rawArgs`: the command line as typed, to find where `--` was (commander drops it). */
export function execCommand(run: (opts: ExecOptions, argv: string[]) => Promise<void>, rawArgs: readonly string[]): Command {
  return new Command('exec')
    .description("run a command with the connection's credentials in its environment")
    .usage('[name] [options] -- <command> [args...]')
    .option('-n, --name <name>', 'the connection (or the name before --; default: OKTA_CONNECT_NAME, or the only connection)')
    .option(...SECRET_TIMEOUT_FLAG)
    .argument('[words...]', 'the connection name (optional), then -- and the command with its arguments')
    .addHelpText(
      'after',
      [
        '',
        'Sets OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN, OKTA_CLIENT_AUTHORIZATIONMODE=SSWS (Okta SDKs), OKTA_ORG_NAME,',
        "OKTA_BASE_URL, OKTA_API_TOKEN (Terraform's Okta provider) and OKTA_CONNECT_CONNECTION.",
        'For an OAuth connection: OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey, OKTA_CLIENT_CLIENTID, OKTA_CLIENT_SCOPES,',
        'OKTA_CLIENT_PRIVATEKEY, OKTA_CLIENT_KEYID, and OKTA_API_CLIENT_ID, OKTA_API_PRIVATE_KEY, OKTA_API_PRIVATE_KEY_ID,',
        'OKTA_API_SCOPES instead of the token variables.',
        '',
        'Examples:',
        '  okta-connect exec prod -- terraform plan',
        '  okta-connect exec --name prod -- node sync-users.js --dry-run',
      ].join('\n'),
    )
    .action(async (words: string[], opts: unknown) => {
      const { name, argv } = splitAtDashes(words, rawArgs);
      await run(parseOptions(execOptionsSchema, withPositionalName(name, opts)), argv);
    });
}

/** `exec [name] -- <command…>`: at most one name before `--`, the command after it. */
export function splitAtDashes(words: string[], rawArgs: readonly string[]): { name: string | undefined; argv: string[] } {
  const { before, after } = operandsAroundDashes(words, rawArgs);
  if (after === undefined) {
    if (before.length === 0) return { name: undefined, argv: [] };
    throw new UsageError('put -- before the command, so that its options are not taken for okta-connect\'s', {
      hint: 'okta-connect exec <name> -- <command> [args…]',
    });
  }
  if (before.length > 1) {
    throw new UsageError('exec takes at most one connection name before --', { hint: 'okta-connect exec <name> -- <command> [args…]' });
  }
  return { name: before[0], argv: after };
}

/**
 * The variables exec owns, for either kind of connection: inherited values of all of them are removed before a
 * connection's are set, so that a token from the shell never meets an OAuth app's client id in the child (Terraform
 * refuses api_token with client_id; the SDK's PrivateKey mode ignores a token but an SSWS child would use it).
 */
export const EXEC_VARIABLES = [
  'OKTA_CLIENT_ORGURL',
  'OKTA_CLIENT_TOKEN',
  'OKTA_CLIENT_AUTHORIZATIONMODE',
  'OKTA_CLIENT_CLIENTID',
  'OKTA_CLIENT_SCOPES',
  'OKTA_CLIENT_PRIVATEKEY',
  'OKTA_CLIENT_KEYID',
  'OKTA_ORG_NAME',
  'OKTA_BASE_URL',
  'OKTA_API_TOKEN',
  'OKTA_API_CLIENT_ID',
  'OKTA_API_PRIVATE_KEY',
  'OKTA_API_PRIVATE_KEY_ID',
  'OKTA_API_SCOPES',
  // Terraform's bearer token: it conflicts with both kinds, and would win over neither cleanly.
  'OKTA_ACCESS_TOKEN',
  'OKTA_CONNECT_CONNECTION',
] as const;

/** Other connections' secrets and parts, as CI sets them: never handed to a child that was not given them. */
const CONNECTION_SECRET = /^OKTA_CONNECT_.+_(TOKEN|PRIVATE_KEY|CLIENT_ID|SCOPES|KEY_ID)$/;

/** The child's environment: ours, without inherited values of our names nor other connections' secret variables. */
export function childEnv(env: Context['env'], connection: ResolvedConnection): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if ((EXEC_VARIABLES as readonly string[]).includes(key)) continue;
    if (CONNECTION_SECRET.test(key)) continue;
    out[key] = value;
  }
  const host = new URL(connection.orgUrl).hostname;
  const [orgName = host, ...rest] = host.split('.');
  const terraformOrg = { OKTA_ORG_NAME: orgName, OKTA_BASE_URL: rest.join('.') };
  const { credential } = connection;
  if (credential.kind === 'oauth') {
    // PKCS#8 PEM: what Terraform's provider documents (PKCS#1 or PKCS#8, unencrypted), and the SDK reads PEM or JWK.
    const pem = nodeCrypto().createPrivateKey({ key: credential.privateKey, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString();
    return {
      ...out,
      // @okta/okta-sdk-nodejs src/config-loader.js: OKTA_ + the flattened client.* key upper-cased; client.js splits
      // the scopes on spaces.
      OKTA_CLIENT_ORGURL: connection.orgUrl,
      OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
      OKTA_CLIENT_CLIENTID: credential.clientId,
      OKTA_CLIENT_SCOPES: credential.scopes.join(' '),
      OKTA_CLIENT_PRIVATEKEY: pem,
      OKTA_CLIENT_KEYID: credential.keyId,
      // terraform-provider-okta okta/config/config.go: OKTA_API_SCOPES is split on commas.
      ...terraformOrg,
      OKTA_API_CLIENT_ID: credential.clientId,
      OKTA_API_PRIVATE_KEY: pem,
      OKTA_API_PRIVATE_KEY_ID: credential.keyId,
      OKTA_API_SCOPES: credential.scopes.join(','),
      OKTA_CONNECT_CONNECTION: connection.name,
    };
  }
  return {
    ...out,
    OKTA_CLIENT_ORGURL: connection.orgUrl,
    OKTA_CLIENT_TOKEN: credential.token,
    OKTA_CLIENT_AUTHORIZATIONMODE: 'SSWS',
    ...terraformOrg,
    OKTA_API_TOKEN: credential.token,
    OKTA_CONNECT_CONNECTION: connection.name,
  };
}

/**
 * What the terminal sends to the whole foreground process group, the child included: Ctrl-C (SIGINT) and Ctrl-\
 * (SIGQUIT). Passing them on again would be a second interrupt (Terraform aborts on the second Ctrl-C), so okta-connect
 * ignores them while the child runs and waits for it. Everything else reaches okta-connect alone and is passed on.
 */
const DELIVERED_BY_TERMINAL: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT']);

/** Resolves with the child's exit code, for cli.ts to exit with. */
export async function execRun(deps: ExecDeps, opts: ExecOptions, argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || command === '') throw new UsageError('missing the command to run', { hint: 'okta-connect exec prod -- terraform plan' });
  const name = opts.name ?? (await chooseConnection(deps, { message: 'missing --name', hint: 'okta-connect exec <name> -- <command> [args…]' }));
  const connection = await deps.connections.resolve(name, undefined, { secretTimeoutMs: opts.secretTimeout });
  // The token goes only into the child's environment, never its argv.
  const child = await deps.spawn(command, args, { stdio: 'inherit', env: childEnv(deps.env, connection) });
  const code = await new Promise<number>((resolve, reject) => {
    // Only a child that started can have used the token: record the use then, and finish recording before exiting.
    const recorded = new Promise<void>((done) => {
      child.once('spawn', () => {
        void deps.connections.markUsed(connection).then(done);
      });
      child.once('error', () => {
        done();
      });
    });
    const release = deps.signals.trap((signal) => {
      if (!DELIVERED_BY_TERMINAL.has(signal)) child.kill(signal);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      release();
      const notFound = error.code === 'ENOENT';
      reject(
        new CliError(notFound ? ExitCode.commandNotFound : ExitCode.cannotExecute, `cannot run ${command}: ${notFound ? 'command not found' : (error.code ?? error.message)}`, {
          hint: notFound ? 'check the command name and PATH' : 'check that the file is executable',
        }),
      );
    });
    child.on('exit', (code, signal) => {
      release();
      // Like a shell: a child killed by a signal gives 128 + the signal's number.
      void recorded.then(() => {
        resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
      });
    });
  });
  if (code !== ExitCode.ok) throw new SilentError(code);
}
