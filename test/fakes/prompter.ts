import { CancelledError } from '../../src/domain/errors.js';
import type { Choice, Prompter } from '../../src/io/prompter.js';
import type { EventLog } from './records.js';

/** Simulates Ctrl-C at the prompt that receives it. */
export const CTRL_C = Symbol('ctrl-c');
export type Answer = string | boolean | typeof CTRL_C;

export interface Question {
  kind: 'input' | 'password' | 'select' | 'confirm';
  message: string;
  default?: string | boolean | undefined;
  choices?: string[];
  /** What stderr held when the question was asked (to check what was shown before it). */
  stderrBefore: string;
}

export interface Rejection {
  message: string;
  answer: string;
  reason: string;
}

/**
 * A prompter answering from a script. Answers go to prompts in order; `validate` runs on each and a rejected answer
 * is recorded and the same question takes the next answer, as at a real prompt. An exhausted script is a test error.
 */
export class FakePrompter implements Prompter {
  readonly questions: Question[] = [];
  readonly rejections: Rejection[] = [];
  private readonly script: Answer[];

  constructor(
    answers: Answer[],
    private readonly stderrSoFar: () => string,
    private readonly log: EventLog = [],
  ) {
    this.script = [...answers];
  }

  answer(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  get remaining(): number {
    return this.script.length;
  }

  private next(message: string): string | boolean {
    if (this.script.length === 0) throw new Error(`FakePrompter: no scripted answer left for "${message}"`);
    const answer = this.script.shift() as Answer;
    if (answer === CTRL_C) throw new CancelledError('cancelled at the prompt: nothing was saved');
    return answer;
  }

  private async text(
    kind: 'input' | 'password',
    message: string,
    options: { default?: string | undefined; validate?: (value: string) => string | true },
  ): Promise<string> {
    this.questions.push({ kind, message, default: options.default, stderrBefore: this.stderrSoFar() });
    this.log.push(`prompt.${kind}`);
    await Promise.resolve();
    for (;;) {
      const raw = this.next(message);
      if (typeof raw !== 'string') throw new Error(`FakePrompter: "${message}" needs a string answer, got ${String(raw)}`);
      // @inquirer/input: an empty answer takes the default, then validate runs on the result.
      const value = raw === '' && options.default !== undefined ? options.default : raw;
      const verdict = options.validate ? options.validate(value) : true;
      if (verdict === true) return value;
      this.rejections.push({ message, answer: value, reason: verdict });
    }
  }

  input(message: string, options: { default?: string; validate?: (value: string) => string | true } = {}): Promise<string> {
    return this.text('input', message, options);
  }

  password(message: string, options: { validate?: (value: string) => string | true } = {}): Promise<string> {
    return this.text('password', message, options);
  }

  async select<T extends string>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T> {
    this.questions.push({ kind: 'select', message, default: defaultValue, choices: choices.map((choice) => choice.value), stderrBefore: this.stderrSoFar() });
    this.log.push('prompt.select');
    await Promise.resolve();
    // An empty answer is Enter on the preselected choice, as at a real select.
    const given = this.next(message);
    const raw = given === '' && defaultValue !== undefined ? defaultValue : given;
    const choice = choices.find((candidate) => candidate.value === raw);
    if (!choice) throw new Error(`FakePrompter: "${String(raw)}" is not a choice of "${message}" (${choices.map((c) => c.value).join(', ')})`);
    return choice.value;
  }

  async confirm(message: string, defaultValue: boolean): Promise<boolean> {
    this.questions.push({ kind: 'confirm', message, default: defaultValue, stderrBefore: this.stderrSoFar() });
    this.log.push('prompt.confirm');
    await Promise.resolve();
    const raw = this.next(message);
    if (raw === '') return defaultValue;
    if (typeof raw !== 'boolean') throw new Error(`FakePrompter: "${message}" needs a boolean answer`);
    return raw;
  }
}

