import type Database from 'better-sqlite3';

/**
 * Group commit for a synchronous driver. Writes queued in the same turn of the event loop (from
 * any number of key runtimes) are applied in one `BEGIN IMMEDIATE` transaction, each inside its
 * own SAVEPOINT so one item's failure (a stale epoch) rolls back only that item. Every caller's
 * promise settles only after the outer COMMIT returned, so nobody is told "committed" before the
 * sync that makes it true.
 *
 * States: idle (queue empty) -> scheduled (flush requested on setImmediate) -> flushing -> idle.
 * A write queued while flushing lands in the next batch.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly sql;

  constructor(private readonly db: Database.Database) {
    // Prepared once: transaction control is on the hot path of every write.
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT item'),
      release: db.prepare('RELEASE item'),
      rollbackTo: db.prepare('ROLLBACK TO item'),
    };
  }

  /** Queues `apply` to run inside the next batch transaction; resolves with its value after COMMIT. */
  write<T>(apply: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('holdfast: the SQLite store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies everything queued now (used on close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.sql.begin.run();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) {
      this.sql.savepoint.run();
      try {
        const value = item.apply();
        this.sql.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.sql.rollbackTo.run();
        this.sql.release.run();
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.sql.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.sql.rollback.run();
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}

interface Pending {
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
