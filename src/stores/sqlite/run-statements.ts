import type Database from 'better-sqlite3';
import { RENEW_OWNER_SQL } from './owner-renewer.js';
import { prepareAll, type Prepared } from './prepared.js';
import { RUN_SELECT } from './rows.js';

/**
 * Whether a run of the pending index gives its key work at @now: not waiting, or its wait or
 * deadline has come, or an operator's abort-drop waits for an owner's claim.
 */
const HAS_WORK = `(r.status <> 'waiting' OR w.wake_at <= @now OR r.deadline_at <= @now OR r.cancel_mode = 'abort-drop')`;
/** Whether a run of the pending index can be claimed at @now. */
const CLAIMABLE = `(r.cancel_mode IS NULL OR r.cancel_mode <> 'abort-drop') AND (r.status <> 'waiting' OR w.wake_at <= @now OR r.deadline_at <= @now)`;
const PENDING = `r.status IN ('queued', 'running', 'waiting')`;
const PENDING_RUNS = `FROM runs r INDEXED BY runs_pending_by_key LEFT JOIN waits w ON w.run_id = r.id`;
const WAIT_COLUMNS = `w.kind AS wait_kind, w.wake_at AS wait_wake_at, w.on_run AS wait_on_run, w.detail AS wait_detail, w.since AS wait_since`;
/** Mailbox order (core/mailbox): running, urgent, parked, then by priority, FIFO. */
const MAILBOX_ORDER = `(r.status = 'running') DESC, (r.priority_rank = 0) DESC, (r.frame IS NOT NULL) DESC, r.priority_rank, r.seq`;

/**
 * The SQL of the SQLite store's runs, steps, waits, owners and operator actions. `INDEXED BY
 * runs_pending_by_key`: the partial index holds only pending runs, so a claim or a scan never
 * sorts a key's history.
 */
const RUN_SQL = {
  insertRun: `INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, parent_id, deadline_at, traceparent, created_at)
    VALUES (@id, @key, @flow, @input, @idempotencyKey, @priority, @rank, @preempt, 'queued', @parentId, @deadlineAt, @traceparent, @now)`,
  runById: `${RUN_SELECT} WHERE r.id = ?`,
  runByIdem: `${RUN_SELECT} WHERE r.idempotency_key = ?`,
  stepsOf:
    'SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? ORDER BY s.seq',
  stepAt:
    'SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? AND s.seq = ?',
  owner: 'SELECT * FROM owners WHERE key = ?',
  upsertOwner: `INSERT INTO owners (key, owner_id, epoch, expires_at, channel) VALUES (@key, @ownerId, @epoch, @expiresAt, @channel)
    ON CONFLICT (key) DO UPDATE SET owner_id = excluded.owner_id, epoch = excluded.epoch, expires_at = excluded.expires_at, channel = excluded.channel`,
  renew: RENEW_OWNER_SQL,
  release: 'UPDATE owners SET owner_id = NULL, expires_at = 0, channel = NULL WHERE key = ? AND owner_id = ? AND epoch = ?',
  nextRun: `SELECT r.*, ${WAIT_COLUMNS} ${PENDING_RUNS} WHERE r.key = @key AND ${PENDING} AND ${CLAIMABLE} ORDER BY ${MAILBOX_ORDER} LIMIT 1`,
  nextUrgentRun: `SELECT r.*, ${WAIT_COLUMNS} ${PENDING_RUNS}
    WHERE r.key = @key AND ${PENDING} AND r.priority_rank = 0 AND ${CLAIMABLE} ORDER BY ${MAILBOX_ORDER} LIMIT 1`,
  // A pending run asked to be dropped: nobody executes it now (the caller's runtime executes nothing).
  droppable: `SELECT id FROM runs INDEXED BY runs_pending_by_key
    WHERE key = ? AND status IN ('queued', 'running', 'waiting') AND cancel_mode = 'abort-drop' ORDER BY seq`,
  keyHasWork: `SELECT 1 ${PENDING_RUNS} WHERE r.key = @key AND ${PENDING} AND ${HAS_WORK} LIMIT 1`,
  keysWithWork: `SELECT r.key AS key, min(r.priority_rank) AS rank,
    max(r.status IN ('queued', 'waiting') AND r.deadline_at <= @now) AS overdue, o.owner_id, o.epoch, o.expires_at, o.channel
    ${PENDING_RUNS} LEFT JOIN owners o ON o.key = r.key
    WHERE ${PENDING} AND r.key > @after AND ${HAS_WORK} GROUP BY r.key ORDER BY r.key LIMIT @limit`,
  startRun:
    "UPDATE runs SET status = 'running', attempts = attempts + 1, epoch = ?, cancel_mode = NULL, started_at = coalesce(started_at, ?) WHERE id = ?",
  // A claim ends the run's wait; a parked frame (on the run) stays until a step at or past it commits.
  endWait: 'DELETE FROM waits WHERE run_id = ?',
  putWait: `INSERT OR REPLACE INTO waits (run_id, kind, wake_at, on_run, detail, since) VALUES (@runId, @kind, @wakeAt, @onRun, @detail, @since)`,
  toWaiting: "UPDATE runs SET status = 'waiting' WHERE id = ? AND key = ? AND status = 'running'",
  // Inserts only for a running run of the key, and only while the fence holds: the fence is in
  // the statement, so the common path costs one statement and no owner-row read.
  insertStep: `INSERT INTO steps (run_seq, seq, name, result, epoch, committed_at)
    SELECT r.seq, @seq, @name, @result, @epoch, @now FROM runs r JOIN owners o ON o.key = r.key
    WHERE r.id = @runId AND r.key = @key AND r.status = 'running' AND o.owner_id = @ownerId AND o.epoch = @epoch`,
  clearFrameAt: "UPDATE runs SET frame = NULL WHERE id = ? AND frame IS NOT NULL AND json_extract(frame, '$.turnSeq') <= ?",
  park: "UPDATE runs SET status = 'waiting', frame = @frame WHERE id = @runId AND key = @key AND status = 'running'",
  finish: `UPDATE runs SET status = @status, result = @result, error_code = @code, error_message = @message, finished_at = @now,
    frame = NULL
    WHERE id = @id AND key = @key AND status IN ('queued', 'running', 'waiting')`,
  wakeParent: "UPDATE waits SET wake_at = @now WHERE run_id = @parentId AND kind = 'child' AND on_run = @childId",
  dropChildren: `UPDATE runs SET cancel_mode = 'abort-drop' WHERE parent_id = ? AND status IN ('queued', 'running', 'waiting')
    AND (cancel_mode IS NULL OR cancel_mode <> 'abort-drop') RETURNING key, id`,
  // An abort-keep request is satisfied by the requeue; an abort-drop one stays for the next claim.
  requeue: `UPDATE runs SET status = 'queued', cancel_mode = CASE cancel_mode WHEN 'abort-keep' THEN NULL ELSE cancel_mode END
    WHERE id = ? AND key = ? AND status = 'running'`,
  peekUrgent: `${RUN_SELECT} WHERE r.key = ? AND r.status = 'queued' AND r.priority_rank = 0
    AND (r.cancel_mode IS NULL OR r.cancel_mode <> 'abort-drop') ORDER BY r.seq LIMIT 1`,
  requestCancel: "UPDATE runs SET cancel_mode = ? WHERE id = ? AND status IN ('queued', 'running', 'waiting')",
  reopen: `UPDATE runs SET status = 'queued', result = NULL, error_code = NULL, error_message = NULL, finished_at = NULL,
    cancel_mode = NULL, deadline_at = NULL WHERE id = ? AND status IN ('failed', 'cancelled')`,
  insertAction: 'INSERT INTO operator_actions (run_id, action, detail, at) VALUES (?, ?, ?, ?)',
  actionsOf: 'SELECT run_id, action, detail, at FROM operator_actions WHERE run_id = ? ORDER BY seq',
} as const;

export type RunStatements = Prepared<typeof RUN_SQL>;

export function prepareRunStatements(db: Database.Database): RunStatements {
  return prepareAll(db, RUN_SQL);
}
