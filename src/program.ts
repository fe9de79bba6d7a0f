import { Command } from 'commander';
import type { Context } from './context.js';
import { addCommand, addRun } from './commands/add.js';
import { completionCommand, completionRun, namesCommand, namesRun } from './commands/completion.js';
import { doctorCommand, doctorRun } from './commands/doctor.js';
import { execCommand, execRun } from './commands/exec.js';
import { listCommand, listRun } from './commands/list.js';
import { removeCommand, removeRun } from './commands/remove.js';
import { testCommand, testRun } from './commands/test.js';
import { tokenCommand, tokenRun } from './commands/token.js';

/** The exit code a command's action decided on; commander's own result is ignored. */
export interface Outcome {
  code: number;
}

/**
 * A new program per run (commander keeps state between parses). Settings are copied to every subcommand, since
 * `addCommand` does not inherit them and commander would otherwise call process.exit by itself.
 */
export function buildProgram(ctx: Context, outcome: Outcome): Command {
  const program = new Command('okta-connect')
    .description('Set up, test and keep alive connections to Okta orgs; the API token stays in the OS keychain.')
    .version(ctx.version, '-V, --version')
    .option('--no-color', 'no colour in the output (also NO_COLOR=1)')
    .option('--debug', 'print stack traces of internal errors (also DEBUG=okta-connect)')
    .addHelpText(
      'after',
      '\nExamples:\n  okta-connect add\n  okta-connect test --name prod\n  okta-connect list\n\nExit codes: 0 ok, 2 usage, 3 not found, 4 token rejected, 5 permission, 6 network, 7 bad answer, 8 keychain, 130 interrupted.',
    );

  const record =
    <A extends unknown[]>(run: (...args: A) => Promise<number> | number) =>
    async (...args: A): Promise<void> => {
      outcome.code = await run(...args);
    };
  const commands = [
    addCommand(record((opts) => addRun(ctx, opts))),
    testCommand(record((opts) => testRun(ctx, opts))),
    listCommand(record((opts) => listRun(ctx, opts))),
    removeCommand(record((opts) => removeRun(ctx, opts))),
    execCommand(record((opts, argv) => execRun(ctx, opts, argv))),
    tokenCommand(record((opts) => tokenRun(ctx, opts))),
    doctorCommand(record((opts) => doctorRun(ctx, opts))),
    completionCommand(record((shell) => completionRun(ctx, program, shell))),
    namesCommand(record(() => namesRun(ctx))),
  ];
  for (const command of [program, ...commands]) {
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({
        writeOut: (text) => ctx.io.stdout.write(text),
        writeErr: (text) => ctx.io.stderr.write(text),
        // Usage errors are printed by main.ts in the one error format.
        outputError: () => undefined,
      });
    if (command !== program) program.addCommand(command, { hidden: command.name().startsWith('__') });
  }
  return program;
}
