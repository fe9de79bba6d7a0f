import { CommanderError } from 'commander';
import type { Context, GlobalOptions } from './context.js';
import { CliError, ExitCode, SilentError, UsageError } from './domain/errors.js';
import { printable } from './domain/printable.js';
import { buildProgram } from './program.js';

/**
 * Run one command line; returns the exit code. Never calls process.exit and never throws. The context is made from the
 * global flags as commander parsed them (never from a look at argv, which also holds a child's arguments after `exec --`).
 */
export async function run(argv: string[], makeContext: (globals: GlobalOptions) => Context, version: string): Promise<number> {
  let ctx: Context | undefined;
  const program = buildProgram(() => (ctx ??= makeContext(globals())), version, argv);
  function globals(): GlobalOptions {
    const opts = program.opts<{ color?: boolean; debug?: boolean; quiet?: boolean }>();
    return { color: opts.color !== false, debug: opts.debug === true, quiet: opts.quiet === true };
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    ctx ??= makeContext(globals());
    const debug = globals().debug || (ctx.env.DEBUG ?? '').split(',').includes('okta-connect');
    return report(ctx, toCliError(error, argv), debug, error);
  }
}

function toCliError(error: unknown, argv: string[]): CliError | undefined {
  if (error instanceof CliError) return error;
  if (!(error instanceof CommanderError)) return undefined;
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
    return new SilentError(ExitCode.ok);
  }
  if (error.code === 'commander.executeSubCommandAsync' || error.exitCode === 0) return new SilentError(ExitCode.ok);
  const message = error.message.replace(/^error: /, '');
  if (error.code === 'commander.unknownOption' && argv.some((arg) => arg === '--token' || arg.startsWith('--token='))) {
    return new UsageError('there is no --token flag: a token in the arguments leaks into ps and shell history', {
      hint: 'pipe it instead: printf %s "$TOKEN" | okta-connect add --token-stdin …',
    });
  }
  if (error.code === 'commander.unknownCommand') {
    // The "command" may be a token pasted in the wrong place: echo it only when it looks like a command name.
    const shown = message.replace(/'([^']*)'/, (quoted, word: string) => (/^[a-z][a-z0-9-]{0,19}$/.test(word) ? quoted : "'…'"));
    return new UsageError(shown, { hint: 'see okta-connect --help' });
  }
  if (error.code === 'commander.unknownOption' && argv.includes('exec') && !argv.includes('--')) {
    return new UsageError("put -- before the command, so that its options are not taken for okta-connect's", {
      hint: 'okta-connect exec <name> -- <command> [args…]',
    });
  }
  if (error.code === 'commander.unknownOption') {
    // Never echo what followed "=": it may be a token (--token-stdin=<token>, a mistyped --tokn=<token>).
    return new UsageError(message.replace(/'(-[^'=]*)=[^']*'/g, "'$1=…'"), { hint: 'see okta-connect --help' });
  }
  if (error.code === 'commander.missingMandatoryOptionValue' || error.code === 'commander.optionMissingArgument') {
    return new UsageError(message, { hint: 'see okta-connect <command> --help' });
  }
  return new UsageError(message, { hint: 'see okta-connect --help' });
}

/**
 * The one printer: `error: …` then `hint: …` on one line each, secrets and terminal controls removed (messages quote
 * Okta, files and the environment), a stack only for bugs and only with --debug.
 */
function report(ctx: Context, error: CliError | undefined, debug: boolean, original: unknown): number {
  const clean = (text: string): string => ctx.redactor.redact(printable(text.replace(/\s*\n\s*/g, ' '))).trim();
  const stack = (error: unknown): string => ctx.redactor.redact(stackOf(error).split('\n').map(printable).join('\n'));
  if (error instanceof SilentError) return error.exitCode;
  if (error && error.exitCode !== ExitCode.internal) {
    ctx.io.stderr.write(`${ctx.theme.fail('error:')} ${clean(error.message)}\n`);
    if (error.hint) ctx.io.stderr.write(`hint: ${clean(error.hint)}\n`);
    if (debug) ctx.io.stderr.write(`${stack(error.cause ?? error)}\n`);
    return error.exitCode;
  }
  const message = error?.message ?? (original instanceof Error ? original.message : String(original));
  ctx.io.stderr.write(`${ctx.theme.fail('error:')} ${clean(message)}\n`);
  ctx.io.stderr.write(
    `hint: ${error?.hint ? clean(error.hint) : 'this is a bug in okta-connect: please report it, with the output of --debug'}\n`,
  );
  if (debug) ctx.io.stderr.write(`${stack(error?.cause ?? original)}\n`);
  return ExitCode.internal;
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
