import { mapBounded } from '../domain/bounded.js';
import type { ConnectionRecord } from '../domain/connection.js';
import { CliError } from '../domain/errors.js';
import type { OktaGateway } from './ports.js';
import { probeConnection, testRecordOf, type ProbeResult } from './probe.js';
import type { ConnectionStore, ResolvedConnection, UseOptions } from './store.js';

/** Most connections tested at once. */
const CONCURRENCY = 8;

/** One connection's test: what was tested and what it found, or why it could not be tested. */
export type TestOutcome =
  | { name: string; connection: ResolvedConnection; result: ProbeResult }
  | { name: string; connection: undefined; error: CliError };

/** How long each test may take, and each secret command (--timeout, --secret-timeout). */
export interface TestManyTimes extends UseOptions {
  timeoutMs: number;
}

/**
 * Test these connections concurrently (bounded), calling `onDone` as each one finishes, then record the results in one
 * write. Outcomes come back in the order of `names`. test --all and doctor --test share it.
 */
export async function testMany(
  deps: { connections: ConnectionStore; okta: () => Promise<OktaGateway> },
  names: string[],
  records: ConnectionRecord[],
  times: TestManyTimes,
  onDone: (outcome: TestOutcome) => void = () => undefined,
): Promise<TestOutcome[]> {
  const { timeoutMs, secretTimeoutMs } = times;
  const okta = await deps.okta();
  // Secrets are read one at a time (a keychain is a shared desktop service; a burst of parallel sessions has been seen
  // to make gnome-keyring restart; a secret command's messages reach stderr whole, not interleaved with another's),
  // then the connections are tested concurrently.
  const resolved: { name: string; connection: ResolvedConnection | CliError }[] = [];
  for (const name of names) {
    const connection = await deps.connections.resolve(name, records, { secretTimeoutMs }).catch((error: unknown) => {
      if (error instanceof CliError) return error;
      throw error;
    });
    resolved.push({ name, connection });
  }
  const outcomes = await mapBounded(resolved, CONCURRENCY, async ({ name, connection }): Promise<TestOutcome> => {
    const outcome: TestOutcome =
      connection instanceof CliError
        ? { name, connection: undefined, error: connection }
        : { name, connection, result: await probeConnection(okta, { orgUrl: connection.orgUrl, credential: connection.credential, timeoutMs }) };
    onDone(outcome);
    return outcome;
  });
  await deps.connections.recordTests(
    outcomes.flatMap((outcome) => (outcome.connection ? [{ connection: outcome.connection, test: testRecordOf(outcome.result) }] : [])),
  );
  return outcomes;
}
