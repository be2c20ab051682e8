import type pg from 'pg';
import { backoffDelay, type BackoffPolicy } from '../../core/backoff.js';
import { HoldfastError, StoreUnavailableError } from '../../errors.js';
import type { Clock, Random } from '../../ports/clock.js';
import { classifyPgError, CommitOutcomeUnknownError, isConnectionLost, isRetryableConflict } from './pg-errors.js';
import { migrateSchema, quoteIdentifier } from './pg-migrations.js';

/** What statements run on: a pooled client inside a transaction, or the pool itself for a read. */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Thrown inside a transaction to run it again from the start (a concurrent insert won a race). */
export class RestartTransaction extends Error {
  constructor(why: string) {
    super(`restart the transaction: ${why}`);
  }
}

/** How many times one call runs its transaction before it reports the store unavailable. */
const MAX_ATTEMPTS = 5;
/** Waits between attempts after a serialization failure, a deadlock or a lost idle connection. */
const CONFLICT_BACKOFF: BackoffPolicy = { initialMs: 2, maxMs: 100, factor: 3 };
/** Waits between the questions "did that COMMIT commit?" after the connection was lost during it. */
const OUTCOME_BACKOFF: BackoffPolicy = { initialMs: 25, maxMs: 800, factor: 2 };
const OUTCOME_QUESTIONS = 6;

export interface PgDatabaseOptions {
  readonly pool: pg.Pool;
  /** Whether `close()` ends the pool: true for a pool this store created, false for the caller's. */
  readonly ownsPool: boolean;
  readonly schema: string;
  readonly description: string;
  readonly clock: Pick<Clock, 'setTimer'>;
  readonly random: Pick<Random, 'next'>;
}

/**
 * The Postgres store's connection: a pool, the schema brought up to date once before first use
 * (one shared promise; a failed attempt is forgotten so the next call tries again), and the
 * transaction runner every write goes through.
 *
 * `transaction(work)` runs `work` between BEGIN and COMMIT (READ COMMITTED) on one pooled client.
 * Before its COMMIT is sent, a failure leaves nothing written: a serialization failure, a
 * deadlock, a lost connection or a `RestartTransaction` runs the whole transaction again, up to
 * MAX_ATTEMPTS times, after which the caller gets StoreUnavailableError; any other error (a
 * HoldfastError of the store's rules, a constraint violation) rolls back and is thrown as it is.
 * When the connection is lost while COMMIT is in flight, the outcome is asked from the server by
 * the transaction's id (`txid_status`) on another connection: committed -> the call succeeds;
 * aborted -> StoreUnavailableError, nothing written; no answer -> CommitOutcomeUnknownError.
 */
export class PgDatabase {
  readonly schema: string;
  /** The quoted schema name, to qualify table names in statements. */
  readonly s: string;
  readonly description: string;
  private readyPromise: Promise<void> | undefined;
  private closed = false;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(private readonly options: PgDatabaseOptions) {
    this.schema = options.schema;
    this.s = quoteIdentifier(options.schema);
    this.description = options.description;
  }

  /** Connects and migrates once; every call before it finished waits for the same attempt. */
  ready(): Promise<void> {
    this.readyPromise ??= this.migrate().catch((error: unknown) => {
      this.readyPromise = undefined;
      throw classifyPgError(error, this.description);
    });
    return this.readyPromise;
  }

  /** A read outside a transaction; a lost idle connection is retried once, other transient errors are classified. */
  read<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.track(async () => {
      await this.ready();
      for (let attempt = 1; ; attempt++) {
        try {
          return await work(this.options.pool);
        } catch (error) {
          if (attempt < 2 && isConnectionLost(error)) continue;
          throw classifyPgError(error, this.description);
        }
      }
    });
  }

  /** Runs `work` in one transaction; see the class comment for retries and errors. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.track(async () => {
      await this.ready();
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(work);
        } catch (error) {
          const again =
            error instanceof RestartTransaction || isRetryableConflict(error) || (isConnectionLost(error) && !committing(error));
          if (again && attempt < MAX_ATTEMPTS) {
            await this.pause(backoffDelay(CONFLICT_BACKOFF, attempt, this.options.random.next()));
            continue;
          }
          if (error instanceof RestartTransaction) {
            throw new StoreUnavailableError('locked', this.description, `a write raced others ${MAX_ATTEMPTS} times in a row`, error);
          }
          throw classifyPgError(error, this.description);
        }
      }
    });
  }

  /**
   * Runs `work` without an explicit transaction: each of its statements commits on its own. For a
   * call that writes in one statement and is idempotent (repeating it after it committed returns
   * the same outcome): a serialization failure, a deadlock or a lost connection (even one lost
   * while the statement committed) repeats the whole call, up to MAX_ATTEMPTS times. One round
   * trip instead of a transaction's three.
   */
  idempotent<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.track(async () => {
      await this.ready();
      for (let attempt = 1; ; attempt++) {
        try {
          return await work(this.options.pool);
        } catch (error) {
          if ((isRetryableConflict(error) || isConnectionLost(error)) && attempt < MAX_ATTEMPTS) {
            await this.pause(backoffDelay(CONFLICT_BACKOFF, attempt, this.options.random.next()));
            continue;
          }
          throw classifyPgError(error, this.description);
        }
      }
    });
  }

  /** Rejects new calls, waits for those in flight, then ends the pool if this store created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    if (this.options.ownsPool) await this.options.pool.end();
  }

  private async attempt<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.options.pool.connect();
    // A connection lost between two statements is reported as an 'error' event of the client; the
    // statement that follows fails with it. Without a listener the event would end the process.
    const onError = (): void => undefined;
    client.on('error', onError);
    let lost: Error | undefined;
    let xid: string | undefined;
    try {
      const begun = (await client.query('BEGIN; SELECT txid_current()::text AS xid')) as unknown as pg.QueryResult<{ xid: string }>[];
      xid = begun[1]?.rows[0]?.xid;
      const value = await work(client);
      try {
        await client.query('COMMIT');
      } catch (error) {
        if (!isConnectionLost(error)) throw error;
        lost = error as Error;
        throw new CommitInFlight(error, value);
      }
      return value;
    } catch (error) {
      if (error instanceof CommitInFlight) return this.afterLostCommit(xid, error);
      if (isConnectionLost(error)) lost = error as Error;
      else await client.query('ROLLBACK').catch((rollbackError: Error) => (lost = rollbackError));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(lost);
    }
  }

  /** The connection was lost during COMMIT: asks the server whether the transaction committed. */
  private async afterLostCommit<T>(xid: string | undefined, lost: CommitInFlight): Promise<T> {
    for (let question = 1; xid !== undefined && question <= OUTCOME_QUESTIONS; question++) {
      try {
        const { rows } = await this.options.pool.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid]);
        const status = rows[0]?.status;
        if (status === 'committed') return lost.value as T;
        if (status === 'aborted')
          throw new StoreUnavailableError(
            'disconnected',
            this.description,
            'the connection was lost during COMMIT, which did not commit',
            lost.cause,
          );
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        // The server cannot be reached yet: ask again.
      }
      await this.pause(backoffDelay(OUTCOME_BACKOFF, question));
    }
    throw new CommitOutcomeUnknownError(this.description, lost.cause);
  }

  private async migrate(): Promise<void> {
    const client = await this.options.pool.connect();
    const onError = (): void => undefined;
    client.on('error', onError);
    let lost: Error | undefined;
    try {
      await migrateSchema(client, this.schema, this.description);
    } catch (error) {
      if (isConnectionLost(error)) lost = error as Error;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(lost);
    }
  }

  private async track<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new HoldfastError('store_closed', `${this.description} is closed; open a new store`);
    this.inFlight++;
    try {
      return await call();
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimer(ms, resolve));
  }
}

/** The connection was lost while COMMIT was in flight; carries what the transaction would return. */
class CommitInFlight extends Error {
  constructor(
    override readonly cause: unknown,
    readonly value: unknown,
  ) {
    super('the connection was lost while COMMIT was in flight');
  }
}

function committing(error: unknown): boolean {
  return error instanceof CommitOutcomeUnknownError || error instanceof CommitInFlight;
}
