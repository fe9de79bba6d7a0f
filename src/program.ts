import { Command } from 'commander';
import type { Context } from './context.js';
import { exitCodeSummary } from './domain/errors.js';
import { addCommand, addRun } from './commands/add.js';
import { completionCommand, completionRun, namesCommand, namesRun } from './commands/completion.js';
import { doctorCommand, doctorRun } from './commands/doctor.js';
import { execCommand, execRun } from './commands/exec.js';
import { listCommand, listRun } from './commands/list.js';
import { removeCommand, removeRun } from './commands/remove.js';
import { rotateCommand, rotateRun } from './commands/rotate.js';
import { testCommand, testRun } from './commands/test.js';
import { tokenCommand, tokenRun } from './commands/token.js';

/**
 * A new program per run (commander keeps state between parses). Settings are copied to every subcommand, since
 * `addCommand` does not inherit them and commander would otherwise call process.exit by itself. The context is asked
 * for when a command runs, once commander has parsed the global flags it is built from.
 */
export function buildProgram(ctx: () => Context, version: string, argv: readonly string[]): Command {
  const program = new Command('okta-connect')
    .description('Set up, test and keep alive connections to Okta orgs; the API token stays in the OS keychain.')
    .version(version, '-v, --version')
    .option('--no-color', 'no colour in the output (also NO_COLOR=1)')
    .option('-q, --quiet', 'no notices or warnings on stderr; errors stay (also OKTA_CONNECT_QUIET=1)')
    .option('--debug', 'print stack traces of internal errors (also DEBUG=okta-connect)')
    .addHelpText(
      'after',
      `\nExamples:\n  okta-connect add\n  okta-connect test --name prod\n  okta-connect list\n\nExit codes: ${exitCodeSummary()}.`,
    );

  // What a command runs with: a refused environment variable fails every command before it does anything.
  const checked = (): Context => {
    const context = ctx();
    if (context.envError) throw context.envError;
    return context;
  };
  const commands = [
    addCommand((opts) => addRun(checked(), opts), argv),
    testCommand((opts) => testRun(checked(), opts)),
    listCommand((opts) => listRun(checked(), opts)).alias('ls'),
    removeCommand((opts) => removeRun(checked(), opts)).alias('rm'),
    rotateCommand((opts) => rotateRun(checked(), opts)),
    execCommand((opts, command) => execRun(checked(), opts, command), argv),
    tokenCommand((opts) => tokenRun(checked(), opts)),
    doctorCommand((opts) => doctorRun(checked(), opts)),
    completionCommand(async (shell) => {
      await Promise.resolve();
      completionRun(checked(), program, shell);
    }),
    namesCommand(() => namesRun(checked())),
  ];
  for (const command of [program, ...commands]) {
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({
        writeOut: (text) => ctx().io.stdout.write(text),
        writeErr: (text) => ctx().io.stderr.write(text),
        // Usage errors are printed by main.ts in the one error format.
        outputError: () => undefined,
      });
    if (command !== program) program.addCommand(command, { hidden: command.name().startsWith('__') });
  }
  return program;
}
