import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Context } from '../context.js';
import type { Credential } from '../domain/credential.js';
import { clientIdVar, tokenVar } from '../domain/env-overrides.js';
import { appConsoleUrl } from '../domain/oauth.js';
import { printable } from '../domain/printable.js';
import type { ConnectionRecord } from '../domain/connection.js';
import { CliError, ExitCode, SilentError, UsageError, rephrase } from '../domain/errors.js';
import { SECRET_TIMEOUT_FLAG, optionFields, parseOptions, withPositionalName } from '../domain/options.js';
import { displayCommand } from '../domain/secret-command.js';
import { startSpinner } from '../io/spinner.js';

export const removeOptionsSchema = z.lazy(() =>
  z.object({
    name: optionFields.name,
    revoke: optionFields.flag,
    yes: optionFields.flag,
    timeout: optionFields.timeout,
    secretTimeout: optionFields.secretTimeout,
  }),
);
export type RemoveOptions = z.output<typeof removeOptionsSchema>;
export type RemoveDeps = Pick<Context, 'io' | 'theme' | 'env' | 'connections' | 'prompter' | 'okta' | 'notify'>;

export function removeCommand(run: (opts: RemoveOptions) => Promise<void>): Command {
  return new Command('remove')
    .description('delete a connection (--revoke also revokes the token at Okta)')
    .argument('[name]', 'the connection to delete (or --name; always named)')
    .option('-n, --name <name>', 'the connection to delete')
    .option('--revoke', 'revoke the token at Okta first (DELETE /api/v1/api-tokens/current)')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--timeout <seconds>', 'time allowed for --revoke', '15')
    .option(...SECRET_TIMEOUT_FLAG)
    .addHelpText('after', '\nExamples:\n  okta-connect remove prod\n  okta-connect remove --name prod\n  okta-connect remove --name old --revoke --yes')
    .action(async (name: string | undefined, opts: unknown) => {
      await run(parseOptions(removeOptionsSchema, withPositionalName(name, opts)));
    });
}

export async function removeRun(deps: RemoveDeps, opts: RemoveOptions): Promise<void> {
  if (opts.name === undefined) throw new UsageError('missing --name', { hint: 'okta-connect remove <name> (always named); see okta-connect list' });
  const { name } = opts;
  // Before anything is read or run. The hint is the same command with --yes: one that dropped --revoke would delete a
  // token locally and leave it valid at Okta.
  if (!opts.yes && !deps.io.canPrompt) {
    throw new UsageError('--yes is required to remove without a terminal', { hint: `okta-connect remove --name ${name}${opts.revoke ? ' --revoke' : ''} --yes` });
  }
  // A secret command runs only for --revoke: removing needs no secret.
  const { record, credential, records } = await deps.connections.saved(name, { needsSecret: opts.revoke, secretTimeoutMs: opts.secretTimeout });
  const isOAuth = record?.kind === 'oauth' || credential?.kind === 'oauth';
  if (!opts.yes) {
    const what =
      opts.revoke && isOAuth
        ? `Delete "${name}" and its private key? (Nothing is revoked at Okta: the app's public key stays until it is deleted there.)`
        : opts.revoke
          ? `Revoke the token at Okta and delete "${name}"?`
          : `Delete the connection "${name}" (${record?.orgUrl ?? 'no address saved'})?`;
    if (!(await deps.prompter.confirm(what, false))) throw declined(deps);
  }
  if (opts.revoke && isOAuth) {
    // An OAuth app has no call that revokes a key: its access tokens live an hour at most, and the key is revoked by
    // deleting its public half from the app. The local private key is deleted, so nothing here can sign again.
    await deps.connections.remove(name);
    const keyId = record?.keyId ?? (credential?.kind === 'oauth' ? credential.keyId : undefined);
    const clientId = record?.clientId ?? (credential?.kind === 'oauth' ? credential.clientId : undefined);
    deps.io.stdout.write(`${deps.theme.okMark} removed ${name} and its private key (nothing was revoked at Okta)\n`);
    deps.notify(
      `to revoke the key, delete the public key${keyId === undefined ? '' : ` with kid ${printable(keyId)}`} from the app's General > Public keys` +
        (record && clientId !== undefined ? ` (${appConsoleUrl(record.orgUrl, clientId)})` : ''),
    );
    if (deps.env[clientIdVar(name)]) deps.notify(`${clientIdVar(name)} is still set in this environment`);
    return;
  }
  if (opts.revoke) {
    if (credential === undefined || !record) {
      throw new UsageError(`cannot revoke "${name}": its ${credential === undefined ? 'token (the one saved for its address)' : 'address'} is not saved`, {
        hint: `revoke it in the Admin Console, then okta-connect remove --name ${name} --yes`,
      });
    }
    const sharing = sharers(record, records);
    for (const other of sharing) {
      deps.notify(
        other.isSameToken
          ? `${other.name} has the same token as "${name}": revoking it breaks ${other.name} too`
          : `${other.name} uses the same org and owner as "${name}", maybe the same token: revoking it would break ${other.name} too`,
      );
    }
    if (sharing.length > 0 && deps.io.canPrompt && !(await deps.prompter.confirm('Revoke it anyway?', false))) throw declined(deps);
    await revoke(deps, record.orgUrl, credential, opts.timeout);
  }
  await deps.connections.remove(name);
  deps.io.stdout.write(`${deps.theme.okMark} removed ${name}${opts.revoke ? ' (token revoked at Okta)' : ''}\n`);
  if (deps.env[tokenVar(name)]) {
    deps.notify(`${tokenVar(name)} is still set in this environment`);
  }
  if (opts.revoke && record?.secretCommand) {
    deps.notify(`the revoked token is still in your secret manager (${displayCommand(record.secretCommand)} prints it): delete it there`);
  }
}

/** Saved connections that hold the same token (the same fingerprint), or may (the same org and owner). */
function sharers(record: ConnectionRecord, records: ConnectionRecord[]): { name: string; isSameToken: boolean }[] {
  return records
    .filter((other) => other.name !== record.name)
    .map((other) => ({
      name: other.name,
      isSameToken: other.secretFingerprint !== null && other.secretFingerprint === record.secretFingerprint,
      isSameOwner: other.orgUrl === record.orgUrl && record.owner !== null && other.owner?.id === record.owner.id,
    }))
    .filter((other) => other.isSameToken || other.isSameOwner)
    .map(({ name, isSameToken }) => ({ name, isSameToken }));
}

/** A declined confirmation is no error: it says so and exits 130, as the contract's table says. */
function declined(deps: Pick<RemoveDeps, 'io'>): SilentError {
  deps.io.stderr.write('not removed\n');
  return new SilentError(ExitCode.interrupted);
}

/** Revoke first; a 401 means the token is already dead, anything else keeps the local entry. */
async function revoke(deps: RemoveDeps, orgUrl: string, credential: Credential, timeoutMs: number): Promise<void> {
  const okta = await deps.okta();
  const spinner = startSpinner(deps.io, 'revoking the token…');
  try {
    await okta.checkOrg(orgUrl, timeoutMs);
    await okta.revokeCurrentToken({ orgUrl, credential, timeoutMs });
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.auth) {
      deps.notify('the token was already invalid at Okta (401): removing it here');
      return;
    }
    if (error instanceof CliError) {
      throw rephrase(error, { message: (message) => `could not revoke the token, so nothing was removed: ${message}` });
    }
    throw error;
  } finally {
    spinner.stop();
  }
}
