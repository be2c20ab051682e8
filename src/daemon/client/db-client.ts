import { accessSync, constants } from 'node:fs';
import { DatabaseCorruptError, DatabaseReadOnlyError, HoldfastError, InvalidInputError, StoreUnavailableError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';
import { systemClock } from '../../platform/system-clock.js';
import { createKernel, type Kernel } from '../../runtime/kernel.js';
import { sqliteStore } from '../../stores/sqlite/sqlite-store.js';
import { checkDatabaseFile, isCorruptionError } from './database-file.js';
import type { HoldfastClient } from './holdfast-client.js';
import { storeClient } from './store-client.js';

export interface DbClientOptions {
  /** The database file (absolute, or relative to the process's working directory). */
  readonly path: string;
  /**
   * `read`: the file is opened read-only (`readOnly` SQLite store), so a read-only file or
   * directory can be inspected; submit, cancel, retry and compact reject. `write`: opened for
   * writing; those go through a kernel that is never started (a pure client), which records them
   * and tells the owning process over its wake channel.
   */
  readonly access: 'read' | 'write';
  /** What writes, for the message when the file is read-only (`holdfast cancel`). */
  readonly purpose?: string;
  readonly clock?: Clock;
}

/**
 * The client directly on a holdfast SQLite file (`--db PATH`). Never creates a file or a
 * directory, in either access: a missing path, a directory, an empty or corrupt file are reported
 * as such (typed errors naming the path) before SQLite touches it, and SQLite's own corruption
 * codes met later are reported as `corrupt_database` too. Migrates an older schema only with
 * `write` access.
 *
 * Durability of what it writes is the kernel's: a command or operator action is committed before
 * its promise resolves; dies before that, it may or may not be recorded (submitting again with
 * the same idempotence key, cancelling or retrying again, is safe).
 */
export function dbClient(options: DbClientOptions): HoldfastClient {
  const { path, access } = options;
  checkDatabaseFile(path);
  if (access === 'write' && !writable(path)) throw new DatabaseReadOnlyError(path, options.purpose ?? 'this command');
  let store: Store;
  try {
    store = sqliteStore({ path, readOnly: access === 'read' });
  } catch (error) {
    throw explained(error, path, options.purpose);
  }
  const kernel: Pick<Kernel, 'submit' | 'cancel' | 'retry'> =
    access === 'write' ? createKernel({ store, flows: [], acceptUnknownFlows: true }) : readOnlyKernel(path);
  const client = storeClient({ store, kernel, clock: options.clock ?? systemClock, onClose: () => store.close() });
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw explained(error, path, options.purpose);
    }
  };
  return {
    source: client.source,
    status: () => guarded(() => client.status()),
    listRuns: (query) => guarded(() => client.listRuns(query)),
    getRun: (idOrPrefix) => guarded(() => client.getRun(idOrPrefix)),
    resolveRunId: (prefix) => guarded(() => client.resolveRunId(prefix)),
    submit: (command) => guarded(() => client.submit(command)),
    cancel: (idOrPrefix, mode) => guarded(() => client.cancel(idOrPrefix, mode)),
    retry: (idOrPrefix) => guarded(() => client.retry(idOrPrefix)),
    outbox: (query) => guarded(() => client.outbox(query)),
    lanes: () => guarded(() => client.lanes()),
    events: (query) => guarded(() => client.events(query)),
    compactJournal: (olderThanMs) =>
      guarded(() => (access === 'write' ? client.compactJournal(olderThanMs) : Promise.reject(openedForReading(path)))),
    close: () => client.close(),
  };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A driver's error as an operator should read it: corruption and a read-only file named as such. */
function explained(error: unknown, path: string, purpose: string | undefined): unknown {
  if (error instanceof HoldfastError && error.code === 'corrupt_database') return error;
  if (isCorruptionError(error)) {
    const code = (error as { code?: unknown }).code;
    return new DatabaseCorruptError(path, `SQLite cannot read it (${typeof code === 'string' ? code : 'corrupt'})`);
  }
  if (error instanceof StoreUnavailableError && error.reason === 'read_only') {
    return new DatabaseReadOnlyError(path, purpose ?? 'this command');
  }
  return error;
}

function openedForReading(path: string): InvalidInputError {
  return new InvalidInputError(
    `the client on ${path} was opened for reading; open it with access 'write' to change it`,
    'client_read_only',
  );
}

function readOnlyKernel(path: string): Pick<Kernel, 'submit' | 'cancel' | 'retry'> {
  const refuse = () => Promise.reject(openedForReading(path));
  return { submit: refuse, cancel: refuse, retry: refuse };
}
