import { dirname, resolve } from 'node:path';
import { HoldfastError } from '../../errors.js';
import type { LeaseKeeper, LeaseKeeperOptions } from '../../ports/lease-keeper.js';
import type { Store } from '../../ports/store.js';
import { startLeaseKeeperThread } from '../../platform/lease-keeper-thread.js';
import { siblingFile } from '../../platform/shipped-file.js';
import { systemClock } from '../../platform/system-clock.js';
import { sqliteLaneStore } from './lane-store.js';
import { openDatabase, openDatabaseReadOnly, type SyncLevel } from './open-database.js';
import { SqliteContext } from './sqlite-context.js';
import { sqliteDurable } from './sqlite-durable.js';
import { sqliteEventFeed } from './sqlite-event-feed.js';
import { sqliteOutbox } from './sqlite-outbox.js';
import { sqliteProcessRecords } from './sqlite-process-records.js';
import { sqliteRuns } from './sqlite-runs.js';
import { sqliteSchedules } from './sqlite-schedules.js';
import { WriteBatcher } from './write-batcher.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory if missing. */
  readonly path: string;
  /**
   * `FULL` (default): every commit is synced to disk before it is reported, so a committed step
   * survives power loss. `NORMAL`: in WAL mode, commits survive a crash of the process but the last
   * ones may be lost on power loss or an OS crash; several times faster on slow disks.
   */
  readonly synchronous?: SyncLevel;
  /**
   * How long a write keeps retrying, asynchronously, while another process holds the write lock,
   * before it fails with `StoreUnavailableError('locked')` (default 5000 ms). The event loop never
   * waits for the lock itself for more than a couple of milliseconds.
   */
  readonly busyTimeoutMs?: number;
  /**
   * Opens an existing database for inspection only (`openDatabaseReadOnly`): never creates,
   * migrates or writes it, so a read-only file or directory can be read. Every write rejects
   * with `StoreUnavailableError('read_only')`, nothing written.
   */
  readonly readOnly?: boolean;
}

/**
 * The embedded default store: one SQLite file in WAL mode, every write in a `BEGIN IMMEDIATE`
 * transaction, writes from concurrent key runtimes group-committed (see WriteBatcher), and lease
 * renewal on a thread of its own while a kernel runs (`openLeaseKeeper`). Its parts: runs and
 * owners (sqlite-runs), suspension, children and retention (sqlite-durable), the outbox
 * (sqlite-outbox), schedules (sqlite-schedules), the run-event feed (sqlite-event-feed), process
 * group records (sqlite-process-records) and lane leases (lane-store).
 */
export function sqliteStore(options: SqliteStoreOptions): Store {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = options.readOnly
    ? openDatabaseReadOnly(options.path, busyTimeoutMs)
    : openDatabase(options.path, options.synchronous ?? 'FULL', busyTimeoutMs);
  const description = `sqlite:${options.path}`;
  const batcher = new WriteBatcher(db, { where: description, busyBudgetMs: busyTimeoutMs, clock: systemClock });
  const context = new SqliteContext(db, batcher, description);
  const keepers = new LeaseKeepers(options.path);
  const store: Store = {
    description,
    ...(options.path === ':memory:' ? {} : { localDirectory: dirname(resolve(options.path)) }),
    lanes: sqliteLaneStore(db, description, batcher),
    ...sqliteRuns(context),
    ...sqliteDurable(context),
    ...sqliteOutbox(context),
    ...sqliteSchedules(context),
    ...sqliteEventFeed(context),
    ...sqliteProcessRecords(context),
    openLeaseKeeper: (o) => keepers.open(o),
    close: async () => {
      await keepers.closeAll();
      batcher.close();
      db.close();
    },
  };
  return store;
}

/** Lease keeper threads of this store (one per kernel using it). */
class LeaseKeepers {
  private readonly open_ = new Set<LeaseKeeper>();

  constructor(private readonly path: string) {}

  /** Owner-lease renewal on a thread with its own connection, for as long as the keeper is open. */
  async open(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    if (this.path === ':memory:')
      throw new HoldfastError('keeper_unsupported', 'an in-memory SQLite database cannot be shared with a thread');
    const renewer = { module: siblingFile(import.meta.url, 'owner-renewer.js'), options: { path: resolve(this.path) } };
    const keeper = await startLeaseKeeperThread(renewer, options);
    const kept: LeaseKeeper = {
      now: () => keeper.now(),
      keep: (lease, acquiredAt) => keeper.keep(lease, acquiredAt),
      heartbeat: () => keeper.heartbeat(),
      close: async () => {
        if (this.open_.delete(kept)) await keeper.close();
      },
    };
    this.open_.add(kept);
    return kept;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open_].map((k) => k.close()));
  }
}
