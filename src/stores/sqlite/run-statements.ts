import type Database from 'better-sqlite3';
import { RENEW_OWNER_SQL } from './owner-renewer.js';

/**
 * The prepared statements of the SQLite store's runs, steps, owners, frames and operator actions.
 * Prepared once per connection: statement preparation is not on any write path.
 *
 * `INDEXED BY runs_pending_by_key`: the partial index holds only pending runs, so a claim or a
 * scan never sorts a key's history.
 */
const RUN_SQL = {
  insertRun: `INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, created_at)
      VALUES (@id, @key, @flow, @input, @idempotencyKey, @priority, @rank, @preempt, 'queued', @now)`,
  runById: 'SELECT * FROM runs WHERE id = ?',
  runByIdem: 'SELECT * FROM runs WHERE idempotency_key = ?',
  stepsOf:
    'SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? ORDER BY s.seq',
  stepAt:
    'SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? AND s.seq = ?',
  owner: 'SELECT * FROM owners WHERE key = ?',
  upsertOwner: `INSERT INTO owners (key, owner_id, epoch, expires_at, channel) VALUES (@key, @ownerId, @epoch, @expiresAt, @channel)
      ON CONFLICT (key) DO UPDATE SET owner_id = excluded.owner_id, epoch = excluded.epoch, expires_at = excluded.expires_at, channel = excluded.channel`,
  renew: RENEW_OWNER_SQL,
  release: 'UPDATE owners SET owner_id = NULL, expires_at = 0, channel = NULL WHERE key = ? AND owner_id = ? AND epoch = ?',
  nextRun: `SELECT * FROM runs INDEXED BY runs_pending_by_key WHERE key = ? AND status IN ('queued', 'running')
      ORDER BY (status = 'running') DESC, (priority_rank = 0) DESC, parked DESC, priority_rank, seq LIMIT 1`,
  nextUrgentRun: `SELECT * FROM runs INDEXED BY runs_pending_by_key
      WHERE key = ? AND status IN ('queued', 'running') AND priority_rank = 0 ORDER BY (status = 'running') DESC, seq LIMIT 1`,
  frameOf: 'SELECT * FROM parked_frames WHERE run_id = ?',
  insertFrame: `INSERT OR REPLACE INTO parked_frames (run_id, key, epoch, turn_seq, attempt, provider, input, session_id, parked_by, parked_at)
      VALUES (@run_id, @key, @epoch, @turn_seq, @attempt, @provider, @input, @session_id, @parked_by, @parked_at)`,
  park: "UPDATE runs SET status = 'queued', parked = 1 WHERE id = ? AND key = ? AND status = 'running'",
  deleteFrame: 'DELETE FROM parked_frames WHERE run_id = ?',
  clearFrameAt: 'DELETE FROM parked_frames WHERE run_id = ? AND turn_seq <= ?',
  unpark: 'UPDATE runs SET parked = 0 WHERE id = ?',
  peekUrgent: `SELECT * FROM runs INDEXED BY runs_pending_by_key
      WHERE key = ? AND status IN ('queued', 'running') AND status = 'queued' AND priority_rank = 0
        AND (cancel_mode IS NULL OR cancel_mode <> 'abort-drop') ORDER BY seq LIMIT 1`,
  requestCancel: "UPDATE runs SET cancel_mode = ? WHERE id = ? AND status IN ('queued', 'running')",
  // A pending run asked to be dropped: queued, or left running by a dead owner (nobody executes it).
  droppable: `SELECT id FROM runs INDEXED BY runs_pending_by_key
      WHERE key = ? AND status IN ('queued', 'running') AND cancel_mode = 'abort-drop' ORDER BY seq`,
  pendingOfKey: "SELECT 1 FROM runs INDEXED BY runs_pending_by_key WHERE key = ? AND status IN ('queued', 'running') LIMIT 1",
  startRun:
    "UPDATE runs SET status = 'running', attempts = attempts + 1, epoch = ?, cancel_mode = NULL, started_at = coalesce(started_at, ?) WHERE id = ?",
  // Inserts only for a running run of the key, and only while the fence holds: the fence is in
  // the statement, so the common path costs one statement and no owner-row read.
  insertStep: `INSERT INTO steps (run_seq, seq, name, result, epoch, committed_at)
    SELECT r.seq, @seq, @name, @result, @epoch, @now FROM runs r JOIN owners o ON o.key = r.key
    WHERE r.id = @runId AND r.key = @key AND r.status = 'running' AND o.owner_id = @ownerId AND o.epoch = @epoch`,
  finish: `UPDATE runs SET status = @status, result = @result, error_code = @code, error_message = @message, finished_at = @now
      WHERE id = @id AND key = @key AND status IN ('queued', 'running')`,
  // An abort-keep request is satisfied by the requeue; an abort-drop one stays for the next claim.
  requeue: `UPDATE runs SET status = 'queued', cancel_mode = CASE cancel_mode WHEN 'abort-keep' THEN NULL ELSE cancel_mode END
    WHERE id = ? AND key = ? AND status = 'running'`,
  reopen: `UPDATE runs SET status = 'queued', result = NULL, error_code = NULL, error_message = NULL, finished_at = NULL,
      cancel_mode = NULL, parked = 0 WHERE id = ? AND status IN ('failed', 'cancelled')`,
  insertAction: 'INSERT INTO operator_actions (run_id, action, detail, at) VALUES (?, ?, ?, ?)',
  actionsOf: 'SELECT run_id, action, detail, at FROM operator_actions WHERE run_id = ? ORDER BY seq',
  keysWithWork: `SELECT r.key AS key, min(r.priority_rank) AS rank, o.owner_id, o.epoch, o.expires_at, o.channel
      FROM runs r INDEXED BY runs_pending_by_key LEFT JOIN owners o ON o.key = r.key
      WHERE r.status IN ('queued', 'running') AND r.key > ? GROUP BY r.key ORDER BY r.key LIMIT ?`,
} as const;

export type RunStatements = { readonly [K in keyof typeof RUN_SQL]: Database.Statement };

export function prepareRunStatements(db: Database.Database): RunStatements {
  return Object.fromEntries(Object.entries(RUN_SQL).map(([name, sql]) => [name, db.prepare(sql)])) as RunStatements;
}
