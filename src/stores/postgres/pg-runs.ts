import { decideAcquire, takenOverFrom } from '../../core/owner-lease.js';
import { reopened } from '../../core/reopen.js';
import { HoldfastError } from '../../errors.js';
import { PRIORITIES, type OperatorAction, type RunRecord } from '../../model/index.js';
import type { KeyNotice, RunStore } from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import { PENDING, type PgContext } from './pg-context.js';
import { RestartTransaction } from './pg-database.js';
import { DB_NOW_MS, runSql } from './pg-run-sql.js';
import { frameOf, int, toAttempt, toOwner, toRun, toStep, type AttemptRow, type OwnerRow, type RunRow, type StepRow } from './pg-rows.js';

/** Whose clock owner leases are measured on: the database server's, or the `now` each caller passes. */
export type LeaseClock = 'database' | 'caller';

/**
 * The Postgres store's runs, commands and owner leases (the RunStore part of the port). Every write
 * is one transaction of `db.transaction`; the fenced ones check the fence under the owner row's
 * lock (PgContext.fence) or in their one statement (renew, release, the step journal).
 *
 * Lease clock: with `database`, acquisition, renewal and the expiry comparison of `acquireOwner`
 * read the server's `clock_timestamp()` and ignore the caller's `now`, so a host whose clock is
 * off can neither take a live lease nor extend one past the TTL on the server's clock.
 */
export function pgRuns(c: PgContext, leaseClock: LeaseClock): RunStore {
  const { db, s } = c;
  const q = runSql(s);
  return {
    enqueue: (command) => db.transaction((sql) => c.enqueue(sql, command)),

    getRun: (id) => db.read((sql) => c.run(sql, id)),

    async listRuns(query) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.key !== undefined) where.push(`r.key = $${values.push(query.key)}`);
      if (query.status !== undefined && query.status.length > 0) where.push(`r.status = ANY($${values.push(query.status)}::text[])`);
      const text = `${c.runSelect} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.seq LIMIT $${values.push(query.limit ?? 1000)}`;
      return (await db.read((sql) => c.rows<RunRow>(sql, text, values))).map(toRun);
    },

    async getSteps(runId) {
      return (await db.read((sql) => c.rows<StepRow>(sql, q.stepsOf, [runId]))).map(toStep);
    },

    async keysWithWork(page) {
      type Row = OwnerRow & { rank: number; overdue: boolean; epoch: string | null };
      const rows = await db.read((sql) => c.rows<Row>(sql, q.keysWithWork, [page.after ?? null, page.limit, page.now]));
      return rows.map((r) => ({
        key: r.key,
        topPriority: PRIORITIES[r.rank] ?? 'normal',
        overdue: r.overdue,
        owner: r.epoch === null ? undefined : toOwner({ ...r, expires_at: r.expires_at ?? 0 }),
      }));
    },

    acquireOwner: (request) =>
      db.transaction(async (sql) => {
        const row = await c.first<OwnerRow & { db_now: string }>(
          sql,
          `SELECT *, ${DB_NOW_MS} AS db_now FROM ${s}.owners WHERE key = $1 FOR UPDATE`,
          [request.key],
        );
        let now = request.now;
        if (leaseClock === 'database') {
          now = int(row?.db_now ?? (await c.first<{ db_now: string }>(sql, `SELECT ${DB_NOW_MS} AS db_now`))!.db_now);
        }
        const existing = row && toOwner(row);
        const decided = decideAcquire(existing, { ...request, now });
        if (!decided) return undefined;
        const values = [decided.key, decided.ownerId, decided.epoch, decided.expiresAt, decided.channel];
        if (row) {
          await sql.query(`UPDATE ${s}.owners SET owner_id = $2, epoch = $3, expires_at = $4, channel = $5 WHERE key = $1`, values);
        } else {
          const inserted = await sql.query(
            `INSERT INTO ${s}.owners (key, owner_id, epoch, expires_at, channel) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`,
            values,
          );
          if (inserted.rowCount === 0) throw new RestartTransaction(`another owner took key "${request.key}" first`);
        }
        const from = takenOverFrom(existing, request);
        return from === undefined ? decided : { ...decided, takenOverFrom: from };
      }),

    renewOwners: (request) =>
      db.transaction(async (sql) => {
        const keys = request.leases.map((l) => l.key);
        const epochs = request.leases.map((l) => l.epoch);
        const now = leaseClock === 'database' ? null : request.now;
        const rows = await c.rows<{ key: string; epoch: string }>(sql, q.renew, [keys, epochs, request.ttlMs, request.ownerId, now]);
        const held = new Set(rows.map((r) => `${r.epoch}/${r.key}`));
        const renewed = request.leases.filter((l) => held.has(`${l.epoch}/${l.key}`)).map((l) => l.key);
        const lost = request.leases.filter((l) => !held.has(`${l.epoch}/${l.key}`)).map((l) => l.key);
        return { renewed, lost };
      }),

    releaseOwner: (request) =>
      db.transaction(async (sql) => {
        const values = [request.key, request.ownerId, request.epoch, request.ifIdle ?? false, request.now ?? 0];
        return ((await sql.query(q.release, values)).rowCount ?? 0) > 0;
      }),

    async getOwner(key) {
      const row = await db.read((sql) => c.first<OwnerRow>(sql, `SELECT * FROM ${s}.owners WHERE key = $1`, [key]));
      return row && toOwner(row);
    },

    claimNext: (request) =>
      db.transaction(async (sql) => {
        await c.fence(sql, request);
        const claim = request.urgentOnly ? q.claimNextUrgent : q.claimNext;
        const next = await c.first<{ id: string }>(sql, claim, [request.key, request.epoch, request.now]);
        if (next) await sql.query(`DELETE FROM ${s}.waits WHERE run_id = $1`, [next.id]);
        // Runs asked to drop are excluded from the claim above and ended here, after it: a request
        // that committed while the claim ran is applied now rather than left for the next claim.
        const wake: KeyNotice[] = [];
        const dropped: RunRecord[] = [];
        for (const run of await c.rows<{ id: string; key: string; parent_id: string | null }>(sql, q.droppable, [request.key])) {
          const done = await c.finish(
            sql,
            { id: run.id, key: run.key, parentId: run.parent_id },
            'cancelled',
            { error: OPERATOR_CANCEL },
            request.now,
          );
          wake.push(...done.wake);
          dropped.push(done.run);
        }
        if (!next) return { claimed: undefined, dropped, wake };
        const row = (await c.first<RunRow>(sql, `${c.runSelect} WHERE r.id = $1`, [next.id]))!;
        const steps = (await c.rows<StepRow>(sql, q.stepsOf, [next.id])).map(toStep);
        const attempts = (await c.rows<AttemptRow>(sql, q.attemptsOf, [next.id])).map(toAttempt);
        return { claimed: { run: toRun(row), steps, attempts, frame: frameOf(row) }, dropped, wake };
      }),

    // One statement, fenced in itself and idempotent: one round trip per step (see PgContext.journal).
    commitStep: (request) => db.idempotent((sql) => c.journal(sql, request, request.runId, request, request.now)),

    finishRun: (request) =>
      db.transaction(async (sql) => {
        await c.fence(sql, request);
        const row = await c.lockedRun(sql, request.runId);
        if (!row || row.key !== request.key)
          throw new HoldfastError('run_not_found', `run ${request.runId} does not exist for key "${request.key}"`);
        return c.finish(sql, toRun(row), request.status, { result: request.result, error: request.error }, request.now);
      }),

    requeueRun: (request) =>
      db.transaction(async (sql) => {
        await c.fence(sql, request);
        await sql.query(q.requeue, [request.runId, request.key]);
      }),

    parkRun: (request) =>
      db.transaction(async (sql) => {
        const { frame } = request;
        await c.fencedRunning(sql, request, frame.runId, 'it cannot be parked');
        await sql.query(`UPDATE ${s}.runs SET frame = $2, frame_turn_seq = $3 WHERE id = $1`, [
          frame.runId,
          JSON.stringify(frame),
          frame.turnSeq,
        ]);
        await c.enterWait(sql, frame.runId, {
          kind: 'preempted',
          wakeAt: frame.parkedAt,
          onRun: null,
          detail: frame as never,
          since: frame.parkedAt,
        });
      }),

    async peekUrgent(key) {
      const text = `${c.runSelect} WHERE r.key = $1 AND r.status = 'queued' AND r.priority_rank = 0
        AND r.cancel_mode IS DISTINCT FROM 'abort-drop' ORDER BY r.seq LIMIT 1`;
      const row = await db.read((sql) => c.first<RunRow>(sql, text, [key]));
      return row && toRun(row);
    },

    requestCancel: (request) =>
      db.transaction(async (sql) => {
        const changed = await sql.query(`UPDATE ${s}.runs SET cancel_mode = $2 WHERE id = $1 AND status IN ${PENDING}`, [
          request.runId,
          request.mode,
        ]);
        if ((changed.rowCount ?? 0) > 0) await insertAction(sql, request.runId, 'cancel', request.mode, request.now);
        return c.run(sql, request.runId);
      }),

    reopenRun: (request) =>
      db.transaction(async (sql) => {
        const row = await c.lockedRun(sql, request.runId);
        if (!row) return undefined;
        const after = reopened(toRun(row));
        await sql.query(q.reopen, [request.runId]);
        await sql.query(`DELETE FROM ${s}.waits WHERE run_id = $1`, [request.runId]);
        await sql.query(`DELETE FROM ${s}.step_attempts WHERE run_seq = $1`, [row.seq]);
        await insertAction(sql, request.runId, 'retry', row.status, request.now);
        return after;
      }),

    async operatorActions(runId) {
      type Row = { run_id: string; action: OperatorAction['action']; detail: string; at: string };
      const text = `SELECT run_id, action, detail, at FROM ${s}.operator_actions WHERE run_id = $1 ORDER BY seq`;
      const rows = await db.read((sql) => c.rows<Row>(sql, text, [runId]));
      return rows.map((r) => ({ runId: r.run_id, action: r.action, detail: r.detail, at: int(r.at) }));
    },
  };

  function insertAction(
    sql: Parameters<Parameters<typeof db.transaction>[0]>[0],
    runId: string,
    action: string,
    detail: string,
    at: number,
  ) {
    return sql.query(`INSERT INTO ${s}.operator_actions (run_id, action, detail, at) VALUES ($1, $2, $3, $4)`, [runId, action, detail, at]);
  }
}
