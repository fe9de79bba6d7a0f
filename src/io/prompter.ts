export interface Choice<T extends string> {
  value: T;
  name: string;
}

/** Questions to a person at a terminal. Prompts go to stderr; Ctrl-C becomes a CancelledError (exit 130). */
export interface Prompter {
  input(message: string, options?: { default?: string; validate?: (value: string) => string | true }): Promise<string>;
  password(message: string, options?: { validate?: (value: string) => string | true }): Promise<string>;
  select<T extends string>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}
