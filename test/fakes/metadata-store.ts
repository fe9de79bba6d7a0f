import type { MetadataStore } from '../../src/connections/ports.js';
import { byName, connectionRecordSchema, type ConnectionRecord } from '../../src/domain/connection.js';
import { CliError } from '../../src/domain/errors.js';
import { cloneError, type EventLog } from './records.js';

export class FakeMetadataStore implements MetadataStore {
  readonly path = '/fake/config/okta-connect/connections.json';
  readonly dir = '/fake/config/okta-connect';
  private records: ConnectionRecord[];
  /** When set, `update` throws it after running the change (nothing is written). */
  failUpdate: Error | undefined;
  /** When set, `list` throws it. */
  failList: Error | undefined;
  updates = 0;

  constructor(
    private readonly log: EventLog,
    initial: ConnectionRecord[] = [],
  ) {
    this.records = initial.map((record) => connectionRecordSchema.parse(record));
  }

  /** What is stored, sorted by name (copies). */
  all(): ConnectionRecord[] {
    return structuredClone(this.records).sort(byName);
  }

  /** Write behind the command's back, as another okta-connect process would. */
  put(record: ConnectionRecord): void {
    this.records = [...this.records.filter((existing) => existing.name !== record.name), connectionRecordSchema.parse(record)];
  }

  get(name: string): ConnectionRecord | undefined {
    return this.all().find((record) => record.name === name);
  }

  async list(): Promise<ConnectionRecord[]> {
    this.log.push('metadata.list');
    await Promise.resolve();
    if (this.failList) throw this.failList;
    return this.all();
  }

  /** Folder 0700 and file 0600 (or no file yet), as the real store writes them. */
  modes(): Promise<{ dir: number | null; file: number | null }> {
    return Promise.resolve({ dir: 0o700, file: this.records.length > 0 ? 0o600 : null });
  }

  /** Like the real store: `change` and `afterWrite` run under the lock; 'metadata.update' is logged when the file is written. */
  update(
    change: (connections: ConnectionRecord[]) => ConnectionRecord[] | Promise<ConnectionRecord[]>,
    afterWrite?: () => Promise<void>,
  ): Promise<void> {
    return this.exclusive(async () => {
      const next = await change(this.all());
      if (this.failUpdate) throw this.failUpdate instanceof CliError ? cloneError(this.failUpdate) : this.failUpdate;
      this.log.push('metadata.update');
      // Like the real store, only what the schema accepts can be read back: a malformed record fails loudly here.
      this.records = next.map((record) => connectionRecordSchema.parse(structuredClone(record)));
      this.updates += 1;
      await afterWrite?.();
    });
  }

  /** Like the real store: `work` under the lock, nothing written; 'metadata.lock' and 'metadata.unlock' are logged. */
  whileLocked<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.log.push('metadata.lock');
      try {
        return await work();
      } finally {
        this.log.push('metadata.unlock');
      }
    });
  }

  /** The lock: one holder at a time, in the order they asked. */
  private queue: Promise<unknown> = Promise.resolve();

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(work);
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}
