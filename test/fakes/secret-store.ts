import type { SecretStore } from '../../src/connections/ports.js';
import { withDeadline } from '../../src/domain/deadline.js';
import { CliError, KeychainError } from '../../src/domain/errors.js';
import { cloneError, type EventLog } from './records.js';

type SecretOp = 'get' | 'set' | 'delete' | 'names' | 'present';

export class FakeSecretStore implements SecretStore {
  readonly entries = new Map<string, string>();
  /** Make an operation fail with this error (a KeychainError by default through `breakAll`). */
  readonly failures: Partial<Record<SecretOp, Error>> = {};
  /** Make an operation never answer (a locked keychain waiting for a dialog). */
  readonly hangs: Partial<Record<SecretOp, boolean>> = {};

  constructor(
    private readonly log: EventLog,
    initial: Record<string, string> = {},
  ) {
    for (const [name, token] of Object.entries(initial)) this.entries.set(name, token);
  }

  /** Every operation fails like an absent Secret Service (exit 8). */
  breakAll(error: Error = new KeychainError('cannot read the token in the OS keychain: no Secret Service', { hint: 'install one' })): void {
    for (const op of ['get', 'set', 'delete', 'names', 'present'] as const) this.failures[op] = error;
  }

  hangAll(): void {
    for (const op of ['get', 'set', 'delete', 'names', 'present'] as const) this.hangs[op] = true;
  }

  private async gate(op: SecretOp, name?: string): Promise<void> {
    this.log.push(name === undefined ? `secrets.${op}` : `secrets.${op} ${name}`);
    await Promise.resolve();
    if (this.hangs[op]) await new Promise<never>(() => undefined);
    const failure = this.failures[op];
    if (failure) throw failure instanceof CliError ? cloneError(failure) : failure;
  }

  async get(name: string): Promise<string | undefined> {
    await this.gate('get', name);
    return this.entries.get(name);
  }

  async set(name: string, token: string): Promise<void> {
    await this.gate('set', name);
    this.entries.set(name, token);
  }

  async delete(name: string): Promise<boolean> {
    await this.gate('delete', name);
    return this.entries.delete(name);
  }

  async names(): Promise<string[]> {
    await this.gate('names');
    return [...this.entries.keys()];
  }

  /** Like the real one: a failing or hanging keychain gives undefined (within the timeout), never an error. */
  async present(names: string[], timeoutMs: number): Promise<Set<string> | undefined> {
    const lookup = this.gate('present').then(() => new Set(names.filter((name) => this.entries.has(name))));
    return withDeadline(lookup, timeoutMs, () => undefined).catch(() => undefined);
  }

}

