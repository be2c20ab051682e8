import { deadlineError } from '../../core/deadline.js';
import { HoldfastError } from '../../errors.js';
import type { CompactedRuns, DurableStore, FinishOutcome } from '../../ports/store.js';
import { PENDING, type PgContext } from './pg-context.js';
import { runSql } from './pg-run-sql.js';
import { int, intOrNull, toAttempt, toRun, type AttemptRow, type RunRow } from './pg-rows.js';

/**
 * The Postgres store's suspension, child runs, deadlines and retention (the DurableStore part of
 * the port), each one transaction.
 */
export function pgDurable(c: PgContext): DurableStore {
  const { db, s } = c;
  const q = runSql(s);
  return {
    suspendRun: (request) =>
      db.transaction(async (sql) => {
        const run = await c.fencedRunning(sql, request, request.runId, 'it cannot wait');
        const { kind, wakeAt, onRun, detail } = request.wait;
        if (kind === 'child') {
          // Locked: the child's finish (which wakes a parent waiting for it) waits for this
          // transaction, or this one sees the child already ended and does not wait.
          const child = await c.first<{ status: string }>(sql, `SELECT status FROM ${s}.runs WHERE id = $1 FOR SHARE`, [onRun ?? '']);
          if (child === undefined) throw new HoldfastError('run_not_found', `run ${run.id} waits for run ${onRun}, which does not exist`);
          if (child.status !== 'queued' && child.status !== 'running' && child.status !== 'waiting') return { suspended: false };
        }
        if (request.commit) await c.journal(sql, request, run.id, request.commit, request.now);
        if (request.failure) {
          const { seq, attempt, name, error, failedAt, retryAt } = request.failure;
          await sql.query(
            `INSERT INTO ${s}.step_attempts (run_seq, seq, attempt, name, error_code, error_message, failed_at, retry_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [run.seq, seq, attempt, name, error.code, error.message, failedAt, retryAt],
          );
        }
        await c.enterWait(sql, run.id, { kind, wakeAt, onRun: onRun ?? null, detail, since: request.now });
        return { suspended: true };
      }),

    // Unfenced: any process may end waits early (a lane released); waking a run early is always safe.
    wakeWaiting: (request) =>
      db.transaction(async (sql) => {
        const woken = await c.rows<{ key: string }>(
          sql,
          `UPDATE ${s}.waits w SET wake_at = $3 FROM ${s}.runs r
           WHERE w.on_run = $1 AND w.kind = $2 AND (w.wake_at IS NULL OR w.wake_at > $3) AND r.id = w.run_id AND r.status = 'waiting'
           RETURNING r.key`,
          [request.onRun, request.kind, request.now],
        );
        return [...new Set(woken.map((row) => row.key))].map((key) => ({ key }));
      }),

    spawnChild: (request) =>
      db.transaction(async (sql) => {
        const parent = await c.fencedRunning(sql, request, request.runId, 'it cannot spawn');
        // A position journaled under another name throws from the journal, and the rollback takes the child back.
        const { run: child } = await c.enqueue(sql, { ...request.child, parentId: parent.id });
        const entry = { seq: request.seq, name: request.name, result: { childId: child.id } };
        await c.journal(sql, request, parent.id, entry, request.child.now);
        return child;
      }),

    expireOverdue: (request) =>
      db.transaction(async (sql) => {
        await c.fence(sql, request);
        const overdue = await c.rows<{ id: string; parent_id: string | null; deadline_at: string }>(
          sql,
          `SELECT id, parent_id, deadline_at FROM ${s}.runs WHERE key = $1 AND status IN ('queued', 'waiting') AND deadline_at <= $2
           ORDER BY seq FOR UPDATE`,
          [request.key, request.now],
        );
        const outcomes: FinishOutcome[] = [];
        for (const run of overdue) {
          const error = deadlineError(run.id, int(run.deadline_at), 'pending');
          outcomes.push(await c.finish(sql, { id: run.id, key: request.key, parentId: run.parent_id }, 'failed', { error }, request.now));
        }
        return outcomes;
      }),

    async childrenOf(parentId) {
      return (await db.read((sql) => c.rows<RunRow>(sql, `${c.runSelect} WHERE r.parent_id = $1 ORDER BY r.seq`, [parentId]))).map(toRun);
    },

    async getStepAttempts(runId) {
      return (await db.read((sql) => c.rows<AttemptRow>(sql, q.attemptsOf, [runId]))).map(toAttempt);
    },

    async nextWakeAt(now) {
      const text = `SELECT least(
          (SELECT min(w.wake_at) FROM ${s}.waits w JOIN ${s}.runs r ON r.id = w.run_id WHERE w.wake_at > $1 AND r.status = 'waiting'),
          (SELECT min(deadline_at) FROM ${s}.runs WHERE status IN ('queued', 'waiting') AND deadline_at > $1),
          (SELECT min(next_fire_at) FROM ${s}.schedules WHERE next_fire_at > $1)) AS at`;
      const row = await db.read((sql) => c.first<{ at: string | null }>(sql, text, [now]));
      return intOrNull(row?.at ?? null) ?? undefined;
    },

    compactRuns: (request) =>
      db.transaction(async (sql): Promise<CompactedRuns> => {
        // SKIP LOCKED: kernels compacting together each take other runs, and none waits for another.
        const runs = await c.rows<{ seq: string; key: string }>(
          sql,
          `SELECT seq, key FROM ${s}.runs WHERE NOT compacted AND finished_at IS NOT NULL AND finished_at < $1
             AND status NOT IN ${PENDING} ORDER BY finished_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [request.finishedBefore, request.limit],
        );
        if (runs.length === 0) return { runs: 0, steps: 0, bytes: 0, keys: [] };
        const seqs = runs.map((r) => r.seq);
        const steps = await c.first<{ n: string; bytes: string }>(
          sql,
          `WITH gone AS (DELETE FROM ${s}.steps WHERE run_seq = ANY($1::bigint[]) RETURNING name, result)
           SELECT count(*) AS n, coalesce(sum(octet_length(name) + octet_length(result)), 0)::bigint AS bytes FROM gone`,
          [seqs],
        );
        const attempts = await c.first<{ bytes: string }>(
          sql,
          `WITH gone AS (DELETE FROM ${s}.step_attempts WHERE run_seq = ANY($1::bigint[]) RETURNING name, error_message)
           SELECT coalesce(sum(octet_length(name) + octet_length(error_message)), 0)::bigint AS bytes FROM gone`,
          [seqs],
        );
        await sql.query(`UPDATE ${s}.runs SET compacted = true WHERE seq = ANY($1::bigint[])`, [seqs]);
        return {
          runs: runs.length,
          steps: int(steps!.n),
          bytes: int(steps!.bytes) + int(attempts!.bytes),
          keys: [...new Set(runs.map((r) => r.key))],
        };
      }),
  };
}
