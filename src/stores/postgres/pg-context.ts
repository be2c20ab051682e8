import { heldEffectMessage } from '../../core/effect-claim.js';
import { priorityRank } from '../../core/mailbox.js';
import { checkFence } from '../../core/owner-lease.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
import type { Json, RunError, RunRecord, StepRecord, TerminalStatus } from '../../model/index.js';
import type { EnqueueResult, Fence, KeyNotice, NewCommand } from '../../ports/store.js';
import type { PgDatabase, Sql } from './pg-database.js';
import { runSelect, toOwner, toRun, toStep, type OwnerRow, type RunRow, type StepRow } from './pg-rows.js';

/** Statuses of a run that has not ended. */
export const PENDING = `('queued', 'running', 'waiting')`;

/**
 * What every part of the Postgres store shares: the database, and the operations that must mean
 * the same everywhere (the fence, journaling an entry, enqueuing, ending a run). Those that write
 * take the `sql` of a transaction of `db.transaction` and run inside it.
 *
 * The fence (K1): `fence` locks the key's owner row FOR SHARE and checks owner and epoch against
 * it. The lock is held until the transaction ends, and `acquireOwner` updates that row, so a
 * take-over waits for every fenced transaction in flight and each one after it sees the new epoch:
 * under READ COMMITTED the check and the writes that follow it cannot be split by a take-over.
 */
export class PgContext {
  /** The quoted schema, to qualify table names. */
  readonly s: string;
  readonly runSelect: string;

  constructor(readonly db: PgDatabase) {
    this.s = db.s;
    this.runSelect = runSelect(db.s);
  }

  get description(): string {
    return this.db.description;
  }

  async rows<T extends object>(sql: Sql, text: string, values: unknown[] = []): Promise<T[]> {
    return (await sql.query<T & Record<string, unknown>>(text, values)).rows;
  }

  async first<T extends object>(sql: Sql, text: string, values: unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(sql, text, values))[0];
  }

  async run(sql: Sql, id: string): Promise<RunRecord | undefined> {
    const row = await this.first<RunRow>(sql, `${this.runSelect} WHERE r.id = $1`, [id]);
    return row && toRun(row);
  }

  /** The run, its row locked for this transaction (its latest committed version). */
  async lockedRun(sql: Sql, id: string): Promise<RunRow | undefined> {
    return this.first<RunRow>(sql, `${this.runSelect} WHERE r.id = $1 FOR UPDATE OF r`, [id]);
  }

  /** Checks the fence under a share lock of the owner row, held until the transaction ends. */
  async fence(sql: Sql, f: Fence): Promise<void> {
    const row = await this.first<OwnerRow>(sql, `SELECT * FROM ${this.s}.owners WHERE key = $1 FOR SHARE`, [f.key]);
    const verdict = checkFence(row && toOwner(row), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
  }

  /** Fences, locks the run and checks it is running for the key; `what` says what could not happen otherwise. */
  async fencedRunning(sql: Sql, f: Fence, runId: string, what: string): Promise<RunRow> {
    await this.fence(sql, f);
    const row = await this.lockedRun(sql, runId);
    if (!row || row.key !== f.key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${f.key}"`);
    if (row.status !== 'running') throw new HoldfastError('run_not_running', `run ${runId} is ${row.status}, not running; ${what}`);
    return row;
  }

  /**
   * Enqueues a command, or returns the run its idempotence key already names (`created: false`).
   * Two enqueues of one key race on the unique index: the second waits for the first to commit and
   * then finds its run.
   */
  async enqueue(sql: Sql, command: NewCommand): Promise<EnqueueResult> {
    const inserted = await sql.query(
      `INSERT INTO ${this.s}.runs (id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, parent_id,
         deadline_at, traceparent, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $12)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq`,
      [
        command.id,
        command.key,
        command.flow,
        JSON.stringify(command.input),
        command.idempotencyKey,
        command.priority,
        priorityRank(command.priority),
        command.preempt,
        command.parentId ?? null,
        command.deadlineAt ?? null,
        command.traceparent ?? null,
        command.now,
      ],
    );
    const created = (inserted.rowCount ?? 0) > 0;
    const row = await this.first<RunRow>(sql, `${this.runSelect} WHERE r.idempotency_key = $1`, [command.idempotencyKey]);
    return { run: toRun(row!), created };
  }

  /**
   * Journals an entry of a running run of the fenced key, in one statement: the fence is in it
   * (owner row locked FOR SHARE, re-checked if a take-over committed meanwhile), with or without an
   * earlier `fence` in the transaction, and so is the end of a parked frame at or before `seq`. The
   * same entry again (same seq and name, a reply that was lost) returns what is journaled; another
   * name at a journaled seq throws `step_already_committed`. Idempotent, so it may also run as a
   * statement of its own (`db.idempotent`).
   */
  async journal(sql: Sql, f: Fence, runId: string, entry: { seq: number; name: string; result: Json }, now: number): Promise<StepRecord> {
    const s = this.s;
    for (let look = 1; ; look++) {
      const inserted = await this.rows<{ run_seq: string }>(
        sql,
        `WITH target AS (
           SELECT r.seq AS run_seq FROM ${s}.runs r JOIN ${s}.owners o ON o.key = r.key
           WHERE r.id = $1 AND r.key = $7 AND r.status = 'running' AND o.owner_id = $8 AND o.epoch = $5
           FOR SHARE OF o),
         inserted AS (
           INSERT INTO ${s}.steps (run_seq, seq, name, result, epoch, committed_at) SELECT run_seq, $2, $3, $4, $5, $6 FROM target
           ON CONFLICT (run_seq, seq) DO NOTHING RETURNING run_seq),
         unparked AS (
           UPDATE ${s}.runs SET frame = NULL, frame_turn_seq = NULL FROM inserted WHERE runs.seq = inserted.run_seq AND runs.frame_turn_seq <= $2)
         SELECT run_seq FROM inserted`,
        [runId, entry.seq, entry.name, JSON.stringify(entry.result), f.epoch, now, f.key, f.ownerId],
      );
      if (inserted.length > 0) return { runId, seq: entry.seq, name: entry.name, result: entry.result, epoch: f.epoch, committedAt: now };
      // Nothing wrong and nothing journaled (undefined): the run started running after the insert looked.
      const journaled = await this.journaled(sql, f, runId, entry, look === 3);
      if (journaled !== undefined) return journaled;
    }
  }

  /**
   * Why an entry was not inserted: a failed fence or run check (thrown), or the entry already at
   * its seq (returned). Undefined when neither (the state changed since the insert looked), unless
   * `last`, which then throws.
   */
  private async journaled(
    sql: Sql,
    f: Fence,
    runId: string,
    entry: { seq: number; name: string },
    last = false,
  ): Promise<StepRecord | undefined> {
    const owner = await this.first<OwnerRow>(sql, `SELECT * FROM ${this.s}.owners WHERE key = $1`, [f.key]);
    const verdict = checkFence(owner && toOwner(owner), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
    const run = await this.run(sql, runId);
    if (!run || run.key !== f.key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${f.key}"`);
    if (run.status !== 'running') {
      throw new HoldfastError('run_not_running', `run ${runId} is ${run.status}, not running; its steps cannot be committed`);
    }
    const journaled = await this.first<StepRow>(
      sql,
      `SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at
       FROM ${this.s}.steps s JOIN ${this.s}.runs r ON r.seq = s.run_seq WHERE r.id = $1 AND s.seq = $2`,
      [runId, entry.seq],
    );
    if (journaled?.name === entry.name) return toStep(journaled);
    if (journaled !== undefined)
      throw new HoldfastError('step_already_committed', `step #${entry.seq} of run ${runId} is already committed`);
    if (last) throw new HoldfastError('step_not_committed', `step #${entry.seq} of run ${runId} could not be committed; try again`);
    return undefined;
  }

  /**
   * Ends a run (status and outcome, its wait and frame gone). A parent waiting for it is woken;
   * when it did not complete, its unfinished children get an abort-drop request; the effects it
   * holds are let go (core/effect-claim `releasedEffect`). Returns the run and the keys that now
   * have work. The caller holds the fence of the run's key.
   */
  async finish(
    sql: Sql,
    run: Pick<RunRecord, 'id' | 'key' | 'parentId'>,
    status: TerminalStatus,
    outcome: { result?: Json; error?: RunError },
    now: number,
  ): Promise<{ run: RunRecord; wake: KeyNotice[] }> {
    const s = this.s;
    const finished = await sql.query(
      `UPDATE ${s}.runs SET status = $3, result = $4, error_code = $5, error_message = $6, finished_at = $7, frame = NULL, frame_turn_seq = NULL
       WHERE id = $1 AND key = $2 AND status IN ${PENDING}`,
      [
        run.id,
        run.key,
        status,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        outcome.error?.code ?? null,
        outcome.error?.message ?? null,
        now,
      ],
    );
    if (finished.rowCount === 0) {
      throw new HoldfastError('run_already_finished', `run ${run.id} is already ${(await this.run(sql, run.id))?.status ?? 'gone'}`);
    }
    await sql.query(`DELETE FROM ${s}.waits WHERE run_id = $1`, [run.id]);
    await sql.query(
      `WITH released AS (
         UPDATE ${s}.effects SET status = 'failed', next_attempt_at = NULL,
           error_code = CASE status WHEN 'claimed' THEN 'run_ended' ELSE error_code END,
           error_message = CASE status WHEN 'claimed' THEN $2 ELSE error_message END
         WHERE run_id = $1 AND (status = 'claimed' OR (status = 'failed' AND next_attempt_at IS NOT NULL)) RETURNING key)
       DELETE FROM ${s}.effect_origins WHERE effect_key IN (SELECT key FROM released)`,
      [run.id, heldEffectMessage(run.id, status)],
    );
    const wake: KeyNotice[] = [];
    if (run.parentId !== null) {
      const woken = await this.rows<{ key: string }>(
        sql,
        `UPDATE ${s}.waits w SET wake_at = $3 FROM ${s}.runs p
         WHERE w.run_id = $1 AND w.kind = 'child' AND w.on_run = $2 AND p.id = w.run_id RETURNING p.key`,
        [run.parentId, run.id, now],
      );
      for (const { key } of woken) wake.push({ key });
    }
    if (status !== 'completed') {
      const asked = await this.rows<{ key: string; id: string }>(
        sql,
        `UPDATE ${s}.runs SET cancel_mode = 'abort-drop'
         WHERE parent_id = $1 AND status IN ${PENDING} AND cancel_mode IS DISTINCT FROM 'abort-drop' RETURNING key, id`,
        [run.id],
      );
      for (const { key, id } of asked) wake.push({ key, cancelRunId: id });
    }
    return { run: (await this.run(sql, run.id))!, wake };
  }

  /** Puts a running run of the key in `waiting` with `wait`. */
  async enterWait(
    sql: Sql,
    runId: string,
    wait: { kind: string; wakeAt: number | null; onRun: string | null; detail: Json; since: number },
  ): Promise<void> {
    await sql.query(`UPDATE ${this.s}.runs SET status = 'waiting' WHERE id = $1 AND status = 'running'`, [runId]);
    await sql.query(
      `INSERT INTO ${this.s}.waits (run_id, kind, wake_at, on_run, detail, since) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id) DO UPDATE SET kind = excluded.kind, wake_at = excluded.wake_at, on_run = excluded.on_run,
         detail = excluded.detail, since = excluded.since`,
      [runId, wait.kind, wait.wakeAt, wait.onRun, JSON.stringify(wait.detail), wait.since],
    );
  }
}
