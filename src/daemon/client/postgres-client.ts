import { InvalidInputError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../platform/system-clock.js';
import { createKernel, type Kernel } from '../../runtime/kernel.js';
import { openPostgresLocation } from '../store-location.js';
import type { HoldfastClient } from './holdfast-client.js';
import { storeClient } from './store-client.js';

export interface PostgresClientOptions {
  /** `postgres://user@host:5432/db?schema=holdfast` (see store-location). */
  readonly url: string;
  /** `read` refuses submit, cancel, retry and compact; `write` records them through a pure client kernel. */
  readonly access: 'read' | 'write';
  readonly clock?: Clock;
}

/**
 * The client directly on a holdfast Postgres database (`--db postgres://...`). Writes go through
 * a kernel that is never started (a pure client): it records the command or operator action and
 * tells the owning process over `LISTEN/NOTIFY`. Durability is the store's: a command is committed
 * before its promise resolves; dies before that, it may or may not be recorded (submitting again
 * with the same idempotence key, cancelling or retrying again, is safe). Migrates the schema on
 * first use, as every process on the database does.
 */
export function postgresClient(options: PostgresClientOptions): HoldfastClient {
  const store = openPostgresLocation(options.url);
  const refuse = () =>
    Promise.reject(
      new InvalidInputError(
        `the client on ${store.description} was opened for reading; open it with access 'write' to change it`,
        'client_read_only',
      ),
    );
  const kernel: Pick<Kernel, 'submit' | 'cancel' | 'retry'> =
    options.access === 'write'
      ? createKernel({ store, flows: [], acceptUnknownFlows: true })
      : { submit: refuse, cancel: refuse, retry: refuse };
  const client = storeClient({ store, kernel, clock: options.clock ?? systemClock, onClose: () => store.close() });
  return options.access === 'write' ? client : { ...client, compactJournal: refuse };
}
