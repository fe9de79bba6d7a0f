import type { Readable, Writable } from 'node:stream';
import type * as Inquirer from '@inquirer/prompts';
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

export function inquirerPrompter(input: Readable, output: Writable): Prompter {
  const context = { input, output, clearPromptOnDone: false };
  const prompts = (): Promise<typeof Inquirer> => import('@inquirer/prompts');
  async function ask<T>(run: (p: typeof Inquirer) => Promise<T>): Promise<T> {
    try {
      return await run(await prompts());
    } catch (error) {
      if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
        throw new CancelledError('cancelled at the prompt: nothing was saved');
      }
      throw error;
    }
  }
  return {
    input: (message, options = {}) =>
      ask((p) => p.input({ message, default: options.default, validate: options.validate }, context)),
    password: (message, options = {}) =>
      ask((p) => p.password({ message, mask: '*', validate: options.validate }, context)),
    select: <T extends string>(message: string, choices: Choice<T>[]) =>
      ask((p) => p.select<T>({ message, choices }, context)),
    confirm: (message, defaultValue) => ask((p) => p.confirm({ message, default: defaultValue }, context)),
  };
}
