import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../domain/errors.js';
import type { Choice, Prompter } from '../io/prompter.js';

/** Over @inquirer's prompts, loaded on the first question (see inquirer.ts); stdin is touched only then. */
export function inquirerPrompter(streams: { readonly stdin: Readable; readonly stderr: Writable }): Prompter {
  let context: { input: Readable; output: Writable; clearPromptOnDone: false } | undefined;
  async function ask<T>(run: () => Promise<T>): Promise<T> {
    context ??= { input: streams.stdin, output: streams.stderr, clearPromptOnDone: false };
    try {
      return await run();
    } catch (error) {
      if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
        throw new CancelledError('cancelled at the prompt: nothing was saved');
      }
      throw error;
    }
  }
  return {
    input: (message, options = {}) =>
      ask(async () => {
        const { input } = await import('./inquirer.js');
        return input({ message, default: options.default, validate: options.validate }, context);
      }),
    password: (message, options = {}) =>
      ask(async () => {
        const { password } = await import('./inquirer.js');
        return password({ message, mask: '*', validate: options.validate }, context);
      }),
    select: <T extends string>(message: string, choices: Choice<T>[], defaultValue?: T) =>
      ask(async () => {
        const { select } = await import('./inquirer.js');
        return select<T>({ message, choices, default: defaultValue }, context);
      }),
    confirm: (message, defaultValue) =>
      ask(async () => {
        const { confirm } = await import('./inquirer.js');
        return confirm({ message, default: defaultValue }, context);
      }),
  };
}
