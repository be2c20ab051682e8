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

  constructor(private readonly db: Database.Database) {}

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
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) {
      this.db.exec('SAVEPOINT item');
      try {
        const value = item.apply();
        this.db.exec('RELEASE item');
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.db.exec('ROLLBACK TO item');
        this.db.exec('RELEASE item');
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
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
