import { displayCommand } from '../domain/secret-command.js';
import { CancelledError, SecretCommandError, UsageError, type CliError } from '../domain/errors.js';
import type { ConnectionKind } from '../domain/credential.js';
import type { SecretCommandOutcome } from './ports.js';

/** Whose secret command it is, for the message and the hint: a saved connection, or the one `add` is making. */
export interface CommandOwner {
  argv: readonly string[];
  /** Undefined while `add` has not been told the name yet. */
  name: string | undefined;
  orgUrl: string | undefined;
}

/** "the secret command of "prod" (pass show okta/prod)" */
export function commandLabel(owner: CommandOwner): string {
  return `the secret command${owner.name === undefined ? '' : ` of "${owner.name}"`} (${displayCommand(owner.argv)})`;
}

function replaceHint(owner: CommandOwner): string {
  const name = owner.name ?? '<name>';
  const url = owner.orgUrl === undefined ? '' : ` --org-url ${owner.orgUrl}`;
  return `okta-connect add --name ${name}${url} --force --secret-command -- <command…>`;
}

/** A failed run as the error the user sees (exit 8, or 130 when interrupted). Never holds the command's output. */
export function commandFailure(outcome: Exclude<SecretCommandOutcome, { kind: 'printed' }>, owner: CommandOwner, timeoutFlag: string): CliError {
  const label = commandLabel(owner);
  const program = displayCommand(owner.argv.slice(0, 1));
  const yourself = `run it yourself to see why: ${displayCommand(owner.argv)}`;
  const said = (line: string | null): string => (line === null ? '' : `: ${line}`);
  switch (outcome.kind) {
    case 'not-found':
      return new SecretCommandError(`${label} cannot run: ${program}: command not found`, {
        hint: `install ${program} or put it on PATH (the command runs with okta-connect's PATH), or save another command: ${replaceHint(owner)}`,
      });
    case 'cannot-run':
      return new SecretCommandError(`${label} cannot run: ${program}: ${outcome.why}`, { hint: `check that ${program} is an executable program` });
    case 'exited':
      if (outcome.code === 127) {
        return new SecretCommandError(`${label} failed with exit code 127 (command not found)${said(outcome.lastStderrLine)}`, {
          hint: `check the program names in the command, and PATH; ${yourself}`,
        });
      }
      return new SecretCommandError(`${label} failed with exit code ${String(outcome.code)}${said(outcome.lastStderrLine)}`, {
        hint: `its messages are above; ${yourself}`,
      });
    case 'killed':
      return new SecretCommandError(`${label} was killed by ${outcome.signal}${said(outcome.lastStderrLine)}`, { hint: yourself });
    case 'timed-out':
      return new SecretCommandError(`${label} did not finish within ${seconds(outcome.timeoutMs)} s, so it was stopped`, {
        hint: `it may be waiting for input it cannot get (its stdin is closed): sign in to or unlock your secret manager first, or allow more time with ${timeoutFlag} <seconds>`,
      });
    case 'too-large':
      return new SecretCommandError(`${label} printed more than ${String(outcome.limitBytes / 1024)} KiB, so it was stopped: a token is under 200 characters`, {
        hint: "make it print the token alone, e.g. sh -c '… | head -n 1'",
      });
    case 'interrupted':
      return new CancelledError(`interrupted while ${label} ran: it was stopped`);
  }
}

/** The command exited 0, but what it printed is no secret of this kind. `why` never quotes the output. */
export function invalidOutput(owner: CommandOwner, kind: ConnectionKind, why: string | undefined): SecretCommandError {
  const label = commandLabel(owner);
  const what = kind === 'oauth' ? 'private key' : 'token';
  if (why === undefined) {
    return new SecretCommandError(`${label} printed nothing`, {
      hint: `check that the entry exists and holds the ${what}: run ${displayCommand(owner.argv)}`,
    });
  }
  return new SecretCommandError(`${label} printed no valid ${kind === 'oauth' ? 'private key' : 'secret'}: ${why}`, {
    hint:
      kind === 'oauth'
        ? 'make it print the private key alone, PEM or JWK, whole (pass show prints the whole entry); what it printed was not shown'
        : "make it print the token alone (for an entry of several lines: sh -c '… | head -n 1'); what it printed was not shown",
  });
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/**
 * rotate has nothing to replace for a connection whose token a command prints: the token lives in the user's secret
 * manager, and the next use reads the new one from there. A usage error (exit 2): nothing was rotated.
 */
export function rotatedElsewhere(owner: CommandOwner & { name: string }, kind: ConnectionKind): UsageError {
  const command = displayCommand(owner.argv);
  const [program, verb, entry] = owner.argv;
  // pass, whose recipe the README gives: the entry that `pass show` prints is overwritten by `pass insert --force`.
  const example = program === 'pass' && verb === 'show' && entry !== undefined && owner.argv.length === 3 ? ` (${displayCommand(['pass', 'insert', '--force', entry])})` : '';
  if (kind === 'oauth') {
    // The kid is in the metadata: a new key with another kid needs the connection saved again (the add command).
    return new UsageError(`"${owner.name}" has no key here to rotate: ${command} prints it, so the private key lives in your secret manager`, {
      hint: `store the new key where ${command} reads it${example} and add its public half to the app; if its kid changed, save the connection again (okta-connect add --oauth ${owner.name} --force --key-id <kid> … --secret-command -- ${command}); then check it: okta-connect test ${owner.name}; delete the old key in the Admin Console`,
    });
  }
  return new UsageError(`"${owner.name}" has no token here to rotate: ${command} prints it, so the secret lives in your secret manager`, {
    hint: `store the new token in your secret manager where ${command} reads it${example}, then check it: okta-connect test ${owner.name}; revoke the old one in the Admin Console`,
  });
}
