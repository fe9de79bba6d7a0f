import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { chooseConnection } from '../connections/choose.js';
import { UsageError } from '../domain/errors.js';
import { optionFields, parseOptions, withPositionalName } from '../domain/options.js';

export const tokenOptionsSchema = z.object({ name: optionFields.name });
export type TokenOptions = z.output<typeof tokenOptionsSchema>;
export type TokenDeps = Pick<Context, 'io' | 'env' | 'connections' | 'prompter' | 'notify'>;

export function tokenCommand(run: (opts: TokenOptions) => Promise<void>): Command {
  return new Command('token')
    .description('print the token on stdout, for $(…) in scripts')
    .argument('[name]', 'the connection (or --name; default: OKTA_CONNECT_NAME, or the only connection)')
    .option('-n, --name <name>', 'the connection')
    .addHelpText('after', '\nExamples:\n  okta-connect token prod\n  curl -H "Authorization: SSWS $(okta-connect token --name prod)" https://acme.okta.com/api/v1/users/me')
    .action(async (name: string | undefined, opts: unknown) => {
      await run(parseOptions(tokenOptionsSchema, withPositionalName(name, opts)));
    });
}

export async function tokenRun(deps: TokenDeps, opts: TokenOptions): Promise<void> {
  const name = opts.name ?? (await chooseConnection(deps, { message: 'missing --name', hint: 'okta-connect token <name>; see okta-connect list' }));
  const connection = await deps.connections.resolve(name);
  const { credential } = connection;
  if (credential.kind !== 'api-token') throw new UsageError(`token does not support OAuth connections yet ("${connection.name}")`);
  if (deps.io.isStdoutTTY) {
    deps.notify(`printing a secret to the terminal: it may stay in scrollback; prefer $(okta-connect token ${connection.name}) or okta-connect exec`);
  }
  deps.io.stdout.write(`${credential.token}\n`);
  await deps.connections.markUsed(connection);
}
