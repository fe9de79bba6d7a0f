import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import { parseName } from '../domain/connection.js';
import { tokenVar } from '../domain/env-overrides.js';
import { CancelledError, CliError, ExitCode, KeychainError, UsageError } from '../domain/errors.js';
import { startSpinner } from '../io/spinner.js';
import { notFound } from './resolve.js';
import { parseTimeout } from './shared.js';

export const removeOptionsSchema = z.object({
  name: z.optional(z.string()),
  revoke: z._default(z.boolean(), false),
  yes: z._default(z.boolean(), false),
  timeout: z.optional(z.string()),
});
export type RemoveOptions = z.output<typeof removeOptionsSchema>;
export type RemoveDeps = Pick<Context, 'io' | 'theme' | 'env' | 'metadata' | 'secrets' | 'prompter' | 'okta' | 'secretsSeen'>;

export function removeCommand(run: (opts: RemoveOptions) => Promise<void>): Command {
  return new Command('remove')
    .description('delete a connection (--revoke also revokes the token at Okta)')
    .option('-n, --name <name>', 'the connection to delete')
    .option('--revoke', 'revoke the token at Okta first (DELETE /api/v1/api-tokens/current)')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--timeout <seconds>', 'time allowed for --revoke', '15')
    .addHelpText('after', '\nExamples:\n  okta-connect remove --name prod\n  okta-connect remove --name old --revoke --yes')
    .action(async (opts: unknown) => {
      await run(removeOptionsSchema.parse(opts));
    });
}

export async function removeRun(deps: RemoveDeps, opts: RemoveOptions): Promise<number> {
  const timeoutMs = parseTimeout(opts.timeout);
  if (opts.name === undefined) throw new UsageError('missing --name', { hint: 'okta-connect remove --name <name>; see okta-connect list' });
  const name = parseName(opts.name);
  const records = await deps.metadata.list();
  const record = records.find((candidate) => candidate.name === name);
  const isEnvOnly = !record && Boolean(deps.env[tokenVar(name)]);
  // An env-only name on a machine without a keychain (CI) is "not found", with the hint to unset the variable.
  const token = await deps.secrets.get(name).catch((error: unknown) => {
    if (isEnvOnly && error instanceof KeychainError) return undefined;
    throw error;
  });
  if (!record && token === undefined) {
    const error = notFound(name, records);
    if (deps.env[tokenVar(name)]) error.hint = `"${name}" comes from ${tokenVar(name)} only: unset that variable instead`;
    throw error;
  }
  if (!opts.yes) {
    if (!deps.io.canPrompt) throw new UsageError('--yes is required to remove without a terminal', { hint: `okta-connect remove --name ${name} --yes` });
    const what = opts.revoke ? `Revoke the token at Okta and delete "${name}"?` : `Delete the connection "${name}" (${record?.orgUrl ?? 'no address saved'})?`;
    if (!(await deps.prompter.confirm(what, false))) throw new CancelledError('not removed');
  }
  if (opts.revoke) {
    if (token === undefined || !record) {
      throw new UsageError(`cannot revoke "${name}": its ${token === undefined ? 'token' : 'address'} is not saved`, {
        hint: `revoke it in the Admin Console, then okta-connect remove --name ${name} --yes`,
      });
    }
    deps.secretsSeen.add(token);
    await revoke(deps, record.orgUrl, token, timeoutMs);
  }
  // Metadata first, then the secret, under one lock: an add of the same name cannot slip in between.
  await deps.metadata.update(
    (connections) => connections.filter((candidate) => candidate.name !== name),
    async () => {
      await deps.secrets.delete(name);
    },
  );
  deps.io.stdout.write(`${deps.theme.okMark} removed ${name}${opts.revoke ? ' (token revoked at Okta)' : ''}\n`);
  if (deps.env[tokenVar(name)]) {
    deps.io.stderr.write(`${deps.theme.warnMark} ${tokenVar(name)} is still set in this environment\n`);
  }
  return ExitCode.ok;
}

/** Revoke first; a 401 means the token is already dead, anything else keeps the local entry. */
async function revoke(deps: RemoveDeps, orgUrl: string, token: string, timeoutMs: number): Promise<void> {
  const okta = await deps.okta();
  const spinner = startSpinner(deps.io, 'revoking the token…');
  try {
    await okta.checkOrg(orgUrl, timeoutMs);
    await okta.revokeCurrentToken({ orgUrl, token, timeoutMs });
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.auth) {
      deps.io.stderr.write(`${deps.theme.warnMark} the token was already invalid at Okta (401): removing it here\n`);
      return;
    }
    if (error instanceof CliError) {
      error.message = `could not revoke the token, so nothing was removed: ${error.message}`;
    }
    throw error;
  } finally {
    spinner.stop();
  }
}
