import type Database from 'better-sqlite3';
import { backoffDelay, type BackoffPolicy } from '../../core/backoff.js';
import { HoldfastError, StoreUnavailableError } from '../../errors.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { classifySqliteError, unavailableReason } from './sqlite-errors.js';

export interface WriteBatcherOptions {
  /** For error messages: `sqlite:/path/state.db`. */
  readonly where: string;
  /** How long a batch keeps retrying while another process holds the write lock. */
  readonly busyBudgetMs: number;
  readonly clock: Pick<Clock, 'monotonic' | 'setTimer'>;
}

/** Waits between attempts to take the write lock: 1, 2, 4 ... ms, at most 50 ms. */
const LOCK_RETRY: BackoffPolicy = { initialMs: 1, maxMs: 50, factor: 2 };

/**
 * Group commit for a synchronous driver, without ever waiting on the event loop for a lock.
 *
 * Writes queued in the same turn of the event loop (from any number of key runtimes) are applied
 * in one `BEGIN IMMEDIATE` transaction, each inside its own SAVEPOINT so one item's failure (a
 * stale epoch) rolls back only that item. Every caller's promise settles only after the outer
 * COMMIT returned, so nobody is told "committed" before the sync that makes it true. An item
 * queued with `alone` (compaction, import) gets a transaction of its own. An item queued as
 * `atomic` promises that when it throws it has written nothing (its first statement either fails
 * or it fails before any write), so it runs without a savepoint: two statements less per item on
 * the hottest path, the step commit.
 *
 * The connection's busy timeout is a couple of milliseconds: when another process holds the write
 * lock, the batch is put back and retried from a timer with backoff, for at most `busyBudgetMs`,
 * then each of its callers gets `StoreUnavailableError('locked')`. A transient failure while
 * applying or committing (disk full, read-only, I/O error) rolls the whole batch back and rejects
 * every item of it with `StoreUnavailableError`: nothing of it was written, all of it may be
 * retried.
 *
 * States: idle (queue empty) -> scheduled (flush on setImmediate) -> flushing -> idle, or
 * flushing -> waiting (lock busy, retry timer armed) -> flushing. A write queued meanwhile lands
 * in a later batch.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private retryTimer: TimerHandle | undefined;
  private lockRetries = 0;
  private closed = false;
  private readonly sql;

  constructor(
    private readonly db: Database.Database,
    private readonly options: WriteBatcherOptions,
  ) {
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

  /** Queues `apply` to run inside a batch transaction; resolves with its value after COMMIT. */
  write<T>(apply: () => T, options: { readonly alone?: boolean; readonly atomic?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new HoldfastError('store_closed', `${this.options.where} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        apply,
        alone: options.alone ?? false,
        atomic: options.atomic ?? false,
        queuedAt: this.options.clock.monotonic(),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Applies one batch now; what is queued after it is scheduled for the next turn. */
  flush(): void {
    this.scheduled = false;
    this.retryTimer = undefined;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    if (!this.begin(batch)) return;
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      const outcome = this.applyItem(item);
      if ('abort' in outcome) return this.abort(batch, outcome.abort);
      outcomes.push(outcome);
    }
    try {
      this.sql.commit.run();
    } catch (error) {
      this.abort(batch, error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    if (this.queue.length > 0) this.schedule();
  }

  /** Flushes what can be flushed now, then rejects whatever is left; no write is accepted after. */
  close(): void {
    this.retryTimer?.cancel();
    for (let guard = 0; this.queue.length > 0 && guard < 1000 && !this.retryTimer; guard++) this.flush();
    this.retryTimer?.cancel();
    this.closed = true;
    const left = this.queue;
    this.queue = [];
    for (const item of left) item.reject(new HoldfastError('store_closed', `${this.options.where} was closed before this write committed`));
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private takeBatch(): Pending[] {
    const first = this.queue[0];
    if (first === undefined) return [];
    if (first.alone) return this.queue.splice(0, 1);
    const nextAlone = this.queue.findIndex((item) => item.alone);
    return this.queue.splice(0, nextAlone === -1 ? this.queue.length : nextAlone);
  }

  /** Takes the write lock; when another process holds it, puts the batch back and arms a retry. */
  private begin(batch: Pending[]): boolean {
    try {
      this.sql.begin.run();
      this.lockRetries = 0;
      return true;
    } catch (error) {
      if (unavailableReason(error) === 'locked') {
        const waited = this.options.clock.monotonic() - batch[0]!.queuedAt;
        if (waited < this.options.busyBudgetMs) {
          this.queue.unshift(...batch);
          const delay = backoffDelay(LOCK_RETRY, ++this.lockRetries);
          this.retryTimer = this.options.clock.setTimer(delay, () => this.flush());
          return false;
        }
        this.lockRetries = 0;
        const unavailable = new StoreUnavailableError(
          'locked',
          this.options.where,
          `another process held the write lock for more than ${this.options.busyBudgetMs} ms`,
          error,
        );
        for (const item of batch) item.reject(unavailable);
      } else {
        const classified = classifySqliteError(error, this.options.where);
        for (const item of batch) item.reject(classified);
      }
      if (this.queue.length > 0) this.schedule();
      return false;
    }
  }

  /**
   * One item in its savepoint. A transient failure (or one after which SQLite rolled the whole
   * transaction back itself) aborts the batch; any other failure is the item's own.
   */
  private applyItem(item: Pending): Outcome | { abort: unknown } {
    if (item.atomic) {
      try {
        return { ok: true, value: item.apply() };
      } catch (error) {
        if (unavailableReason(error) !== undefined || !this.db.inTransaction) return { abort: error };
        return { ok: false, error };
      }
    }
    try {
      this.sql.savepoint.run();
      const value = item.apply();
      this.sql.release.run();
      return { ok: true, value };
    } catch (error) {
      if (unavailableReason(error) !== undefined || !this.db.inTransaction) return { abort: error };
      this.sql.rollbackTo.run();
      this.sql.release.run();
      return { ok: false, error };
    }
  }

  /** Rolls the whole batch back and rejects every item with the (classified) error. */
  private abort(batch: Pending[], error: unknown): void {
    if (this.db.inTransaction) {
      try {
        this.sql.rollback.run();
      } catch {
        // The transaction is gone either way; the callers learn of it below.
      }
    }
    const classified = classifySqliteError(error, this.options.where);
    for (const item of batch) item.reject(classified);
    if (this.queue.length > 0) this.schedule();
  }
}

interface Pending {
  readonly apply: () => unknown;
  readonly alone: boolean;
  readonly atomic: boolean;
  readonly queuedAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
