import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { parseName } from '../domain/connection.js';
import { ExitCode, UsageError } from '../domain/errors.js';
import { markHandedOut, resolveConnection } from './resolve.js';

export const tokenOptionsSchema = z.object({ name: z.optional(z.string()) });
export type TokenOptions = z.output<typeof tokenOptionsSchema>;
export type TokenDeps = Pick<Context, 'io' | 'theme' | 'env' | 'clock' | 'metadata' | 'secrets' | 'secretsSeen'>;

export function tokenCommand(run: (opts: TokenOptions) => Promise<void>): Command {
  return new Command('token')
    .description('print the token on stdout, for $(…) in scripts')
    .option('-n, --name <name>', 'the connection')
    .addHelpText('after', '\nExamples:\n  curl -H "Authorization: SSWS $(okta-connect token --name prod)" https://acme.okta.com/api/v1/users/me')
    .action(async (opts: unknown) => {
      await run(tokenOptionsSchema.parse(opts));
    });
}

export async function tokenRun(deps: TokenDeps, opts: TokenOptions): Promise<number> {
  if (opts.name === undefined) throw new UsageError('missing --name', { hint: 'okta-connect token --name <name>' });
  const connection = await resolveConnection(deps, parseName(opts.name));
  if (deps.io.isStdoutTTY) {
    deps.io.stderr.write(`${deps.theme.warnMark} printing a secret to the terminal: it may stay in scrollback; prefer $(okta-connect token --name ${connection.name}) or okta-connect exec\n`);
  }
  deps.io.stdout.write(`${connection.token}\n`);
  await markHandedOut(deps, connection);
  return ExitCode.ok;
}
