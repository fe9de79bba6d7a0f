import type { SecretCommandOutcome, SecretCommandRunner } from '../../src/connections/ports.js';
import type { EventLog } from './records.js';

/** Secret commands by their words joined with spaces, and what each run gives; a command not set up is "not found". */
export class FakeSecretCommandRunner implements SecretCommandRunner {
  readonly outcomes = new Map<string, SecretCommandOutcome | (() => SecretCommandOutcome)>();
  /** Every run: the argv and the timeout it was given. */
  readonly runs: { argv: string[]; timeoutMs: number }[] = [];

  constructor(
    private readonly log: EventLog,
    initial: Record<string, string | SecretCommandOutcome> = {},
  ) {
    for (const [line, outcome] of Object.entries(initial)) this.set(line, outcome);
  }

  /** A command that prints `output` (a string), or gives this outcome. */
  set(line: string, outcome: string | SecretCommandOutcome | (() => SecretCommandOutcome)): void {
    this.outcomes.set(line, typeof outcome === 'string' ? { kind: 'printed', stdout: outcome } : outcome);
  }

  async run(argv: readonly string[], timeoutMs: number): Promise<SecretCommandOutcome> {
    const line = argv.join(' ');
    this.log.push(`command.run ${line}`);
    this.runs.push({ argv: [...argv], timeoutMs });
    await Promise.resolve();
    const outcome = this.outcomes.get(line) ?? { kind: 'not-found' };
    return typeof outcome === 'function' ? outcome() : outcome;
  }
}
