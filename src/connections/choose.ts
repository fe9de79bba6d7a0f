import { nameSchema } from '../domain/connection.js';
import { CliError, ExitCode, UsageError } from '../domain/errors.js';
import type { IO } from '../io/streams.js';
import type { Prompter } from '../io/prompter.js';
import type { ConnectionStore } from './store.js';

export interface ChooseDeps {
  env: Readonly<Record<string, string | undefined>>;
  io: Pick<IO, 'canPrompt'>;
  connections: Pick<ConnectionStore, 'names' | 'records'>;
  prompter: Pick<Prompter, 'select'>;
}

/**
 * The connection a command acts on when none is named (as aws-vault and AWS_PROFILE do it): OKTA_CONNECT_NAME, else the
 * only connection there is, else a picker in a terminal, else a usage error saying how to name one.
 */
export async function chooseConnection(deps: ChooseDeps, missing: { message: string; hint: string }): Promise<string> {
  const fromEnv = deps.env.OKTA_CONNECT_NAME;
  if (fromEnv) {
    const parsed = nameSchema.safeParse(fromEnv);
    if (!parsed.success) {
      throw new UsageError(`OKTA_CONNECT_NAME: invalid name: ${parsed.error.issues[0]?.message ?? 'invalid value'}`, { hint: 'fix or unset OKTA_CONNECT_NAME' });
    }
    return parsed.data;
  }
  const records = await deps.connections.records();
  const names = await deps.connections.names(records);
  const [only] = names;
  if (names.length === 1 && only !== undefined) return only;
  if (!deps.io.canPrompt) throw new UsageError(missing.message, { hint: missing.hint });
  if (names.length === 0) throw new CliError(ExitCode.notFound, 'no connections are saved', { hint: 'create one with: okta-connect add' });
  return deps.prompter.select(
    'Which connection?',
    names.map((name) => ({ value: name, name: `${name}  ${records.find((saved) => saved.name === name)?.orgUrl ?? '(env)'}` })),
  );
}
