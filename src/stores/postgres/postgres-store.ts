import type pg from 'pg';
import { pgDriver } from './pg-driver.js';
import { notifyWake } from './notify-wake.js';
import { InvalidInputError } from '../../errors.js';
import type { Store } from '../../ports/store.js';
import { systemClock, systemRandom } from '../../platform/system-clock.js';
import { PgContext } from './pg-context.js';
import { PgDatabase } from './pg-database.js';
import { pgDurable } from './pg-durable.js';
import { pgEventFeed } from './pg-event-feed.js';
import { pgLaneStore } from './pg-lane-store.js';
import { PgLeaseKeepers } from './pg-lease-keepers.js';
import { pgOutbox } from './pg-outbox.js';
import { pgProcessRecords } from './pg-process-records.js';
import { pgRuns, type LeaseClock } from './pg-runs.js';
import { pgSchedules } from './pg-schedules.js';

export type { LeaseClock } from './pg-runs.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`; give this or `pool`. */
  readonly connectionString?: string;
  /**
   * A pool of your own (`new pg.Pool(...)`), configured as you need; give this or
   * `connectionString`. The store never ends it, and does not listen to its `error` event: attach
   * a listener yourself, or an idle connection lost in a Postgres restart ends the process.
   */
  readonly pool?: pg.Pool;
  /** The schema holdfast's tables live in, created and migrated on first use (default `holdfast`). */
  readonly schema?: string;
  /**
   * Whose clock owner leases are measured on (K1, I6). `database` (default): acquisition, renewal
   * and expiry use the server's `clock_timestamp()`, and the `now` a kernel passes is ignored for
   * leases, so hosts with skewed clocks agree on when a lease expires. `caller`: the caller's
   * `now`, as the other stores do (deterministic tests on a virtual clock).
   */
  readonly clock?: LeaseClock;
  /** Connections in the pool this store creates (default 10). Not with `pool`. */
  readonly max?: number;
  /** `statement_timeout` of every connection of the pool this store creates (default 30 000 ms). Not with `pool`. */
  readonly statementTimeoutMs?: number;
  /** `application_name` of its connections, shown in `pg_stat_activity` (default `holdfast`). Not with `pool`. */
  readonly applicationName?: string;
  /** How long opening a connection, or waiting for a free one, may take (default 10 000 ms). Not with `pool`. */
  readonly connectTimeoutMs?: number;
  /**
   * `idle_in_transaction_session_timeout` of its connections (default 60 000 ms): the server ends
   * the session of a process stopped (SIGSTOP) in the middle of a transaction, releasing the row
   * locks it held, instead of letting it block other kernels. Not with `pool`.
   */
  readonly idleInTransactionTimeoutMs?: number;
}

const POOL_ONLY = ['max', 'statementTimeoutMs', 'applicationName', 'connectTimeoutMs', 'idleInTransactionTimeoutMs'] as const;

/**
 * The fleet store (I6): holdfast's state in a schema of a Postgres database that kernels on many
 * hosts share. Constructed synchronously; nothing connects until the first call, which opens the
 * pool and brings the schema up to the shipped migrations (once, shared by every call made
 * meanwhile; under an advisory lock, so processes starting together are safe).
 *
 * Crash semantics, for every method: a process that dies before the call's COMMIT reached the
 * server has written nothing (the server rolls the transaction back when the connection drops);
 * once the call resolved, the write is as durable as the server's `synchronous_commit` makes it
 * (on, the default: flushed to its WAL; with synchronous replicas, on them too).
 *
 * Every method is one transaction (READ COMMITTED). Fenced writes check owner and epoch under a
 * share lock of the key's owner row or inside their one statement (pg-context); serialization
 * failures, deadlocks and connections lost before COMMIT are retried a few times, then surface as
 * StoreUnavailableError, as do dropped connections, a server shutting down or restarting, too many
 * connections, and a read-only server after a failover (pg-errors).
 *
 * A connection lost while COMMIT is in flight is the one ambiguous case: the store asks the server
 * (by transaction id) whether it committed, and only when it cannot find out throws
 * CommitOutcomeUnknownError (a StoreUnavailableError). commitStep never does: it is one
 * statement, idempotent on its journal position, which the store simply repeats (one round trip
 * per step). Repeating the call is safe for enqueue, spawnChild, recordEffect (idempotent on their
 * keys and journal positions),
 * renewOwners, putSchedule, deleteSchedule, endProcessGroup, prune* and compactRuns; repeated
 * acquireOwner bumps the epoch once more (harmless: the caller gets the newer lease);
 * releaseOwner, fireSchedule and claimOrphanReap answer false/undefined the second time although
 * the first applied; claimNext claims the run it had claimed again, one attempt higher;
 * finishRun answers run_already_finished; appendEvents may append its batch twice; a lane
 * transaction decides again on the state its first run left.
 *
 * Parts: runs and owners (pg-runs), suspension, children and retention (pg-durable), the outbox
 * (pg-outbox), schedules (pg-schedules), the event feed (pg-event-feed), process group records
 * (pg-process-records), lane leases (pg-lane-store), and lease keeper threads that renew owner
 * leases over connections of their own (pg-lease-keepers). Not provided: group commit across keys
 * (each call is its own transaction).
 */
export function postgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema ?? 'holdfast';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidInputError(
      `postgresStore: schema ${JSON.stringify(schema)} must be a lower-case identifier (a-z, 0-9, _; at most 63)`,
    );
  }
  const { pool, ownsPool, connection } = openPool(options);
  // pg-pool hands a client to a waiting `pool.connect()` with no 'error' listener until the
  // caller's code runs (a microtask later). An error the driver parses in that gap (the server
  // ended the connection in the same packet that finished the client's previous query) would end
  // the process; with this listener the next statement fails instead ("not queryable") and is
  // retried like any lost connection.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const description = `postgres:${where(connection)}?schema=${schema}`;
  const db = new PgDatabase({ pool, ownsPool, schema, description, clock: systemClock, random: systemRandom });
  const context = new PgContext(db);
  const leaseClock = options.clock ?? 'database';
  const keepers = new PgLeaseKeepers(connection, schema, leaseClock);
  const store: Store = {
    description,
    lanes: pgLaneStore(context),
    ...pgRuns(context, leaseClock),
    ...pgDurable(context),
    ...pgOutbox(context),
    ...pgSchedules(context),
    ...pgEventFeed(context),
    ...pgProcessRecords(context),
    // Owner-lease renewal from a thread with a connection of its own (K10, owner-renewer.js).
    openLeaseKeeper: (o) => keepers.open(o),
    // Wake-up and preemption across hosts through LISTEN/NOTIFY (notify-wake.ts): each listener
    // holds a connection of its own, never one of the pool's; sends go through the pool.
    wakeTransport: (wakeContext) => notifyWake({ connection, schema, sendPool: pool, ...wakeContext }),
    close: async () => {
      await keepers.closeAll();
      await db.close();
    },
  };
  return store;
}

/** The pool the store uses, whether it ends it, and how to open more connections like its own. */
function openPool(options: PostgresStoreOptions): { pool: pg.Pool; ownsPool: boolean; connection: pg.ClientConfig } {
  if (options.pool !== undefined) {
    const conflicting = ['connectionString', ...POOL_ONLY].filter((k) => options[k as keyof PostgresStoreOptions] !== undefined);
    if (conflicting.length > 0) {
      throw new InvalidInputError(`postgresStore: with \`pool\`, configure ${conflicting.join(', ')} on that pool instead of here`);
    }
    return { pool: options.pool, ownsPool: false, connection: options.pool.options };
  }
  if (options.connectionString === undefined) {
    throw new InvalidInputError('postgresStore: pass `connectionString` (postgres://user@host:5432/database) or `pool`');
  }
  const connection: pg.ClientConfig = {
    connectionString: options.connectionString,
    application_name: options.applicationName ?? 'holdfast',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
  };
  const pool = new (pgDriver().Pool)({ ...connection, max: options.max ?? 10 });
  // An idle connection lost (a restart, a failover, pg_terminate_backend) is dropped from the pool
  // and replaced on demand; the next call that needs one sees StoreUnavailableError if the server
  // is still away. Without this listener the pool's 'error' event would end the process.
  pool.on('error', () => undefined);
  return { pool, ownsPool: true, connection };
}

/** `host:port/database` of a connection, never its password. */
function where(connection: pg.ClientConfig): string {
  try {
    if (connection.connectionString !== undefined) {
      const url = new URL(connection.connectionString);
      return `//${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
    }
  } catch {
    // not a URL (a key=value string): fall through
  }
  const host = connection.host ?? 'localhost';
  return `//${host}${connection.port === undefined ? '' : `:${connection.port}`}/${connection.database ?? ''}`;
}
