import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../domain/errors.js';

export interface Choice<T extends string> {
  value: T;
  name: string;
}

/** Questions to a person at a terminal. Prompts go to stderr; Ctrl-C becomes a CancelledError (exit 130). */
export interface Prompter {
  input(message: string, options?: { default?: string; validate?: (value: string) => string | true }): Promise<string>;
  password(message: string, options?: { validate?: (value: string) => string | true }): Promise<string>;
  select<T extends string>(message: string, choices: Choice<T>[]): Promise<T>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

/**
 * Over the prompts of @inquirer/prompts, each imported from its own package on first use: the umbrella package also
 * loads the editor prompt and its encoding tables (~0.8 MB) that okta-connect never shows.
 */
export function inquirerPrompter(input: Readable, output: Writable): Prompter {
  const context = { input, output, clearPromptOnDone: false };
  async function ask<T>(run: () => Promise<T>): Promise<T> {
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
        const { default: prompt } = await import('@inquirer/input');
        return prompt({ message, default: options.default, validate: options.validate }, context);
      }),
    password: (message, options = {}) =>
      ask(async () => {
        const { default: prompt } = await import('@inquirer/password');
        return prompt({ message, mask: '*', validate: options.validate }, context);
      }),
    select: <T extends string>(message: string, choices: Choice<T>[]) =>
      ask(async () => {
        const { default: prompt } = await import('@inquirer/select');
        return prompt<T>({ message, choices }, context);
      }),
    confirm: (message, defaultValue) =>
      ask(async () => {
        const { default: prompt } = await import('@inquirer/confirm');
        return prompt({ message, default: defaultValue }, context);
      }),
  };
}
