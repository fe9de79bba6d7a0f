import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { UsageError } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions } from '../domain/options.js';

export const tokenOptionsSchema = z.object({ name: optionFields.name, secretTimeout: optionFields.secretTimeout });
export type TokenOptions = z.output<typeof tokenOptionsSchema>;
export type TokenDeps = Pick<Context, 'io' | 'theme' | 'connections'>;

export function tokenCommand(run: (opts: TokenOptions) => Promise<void>): Command {
  return new Command('token')
    .description('print the token on stdout, for $(…) in scripts')
    .option('-n, --name <name>', 'the connection')
    .option(...SECRET_TIMEOUT_FLAG)
    .addHelpText('after', '\nExamples:\n  curl -H "Authorization: SSWS $(okta-connect token --name prod)" https://acme.okta.com/api/v1/users/me')
    .action(async (opts: unknown) => {
      await run(parseOptions(tokenOptionsSchema, opts));
    });
}

export async function tokenRun(deps: TokenDeps, opts: TokenOptions): Promise<void> {
  if (opts.name === undefined) throw new UsageError('missing --name', { hint: 'okta-connect token --name <name>' });
  const connection = await deps.connections.resolve(opts.name, undefined, { secretTimeoutMs: opts.secretTimeout });
  if (deps.io.isStdoutTTY) {
    deps.io.stderr.write(`${deps.theme.warnMark} printing a secret to the terminal: it may stay in scrollback; prefer $(okta-connect token --name ${connection.name}) or okta-connect exec\n`);
  }
  deps.io.stdout.write(`${connection.credential.token}\n`);
  await deps.connections.markUsed(connection);
}
