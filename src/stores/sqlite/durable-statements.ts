import type Database from 'better-sqlite3';
import { prepareAll, type Prepared } from './prepared.js';
import { RUN_SELECT } from './rows.js';

/** The SQL of suspension, child runs, failed attempts, wake-ups, retention, outbox and schedules. */
const DURABLE_SQL = {
  insertAttempt: `INSERT INTO step_attempts (run_seq, seq, attempt, name, error_code, error_message, failed_at, retry_at)
    SELECT seq, @seq, @attempt, @name, @code, @message, @failedAt, @retryAt FROM runs WHERE id = @runId`,
  attemptsOf: `SELECT r.id AS run_id, a.seq, a.attempt, a.name, a.error_code, a.error_message, a.failed_at, a.retry_at
    FROM step_attempts a JOIN runs r ON r.seq = a.run_seq WHERE r.id = ? ORDER BY a.seq, a.attempt`,
  childrenOf: `${RUN_SELECT} WHERE r.parent_id = ? ORDER BY r.seq`,
  runStatus: 'SELECT status FROM runs WHERE id = ?',
  // Waits on a run (a `lane` wait names the run holding the colliding lease) end now.
  wakeWaiting: `UPDATE waits INDEXED BY waits_on_run SET wake_at = @now
    WHERE on_run = @onRun AND kind = @kind AND (wake_at IS NULL OR wake_at > @now)
      AND run_id IN (SELECT id FROM runs WHERE status = 'waiting') RETURNING run_id`,
  keyOfRun: 'SELECT key FROM runs WHERE id = ?',
  nextWake: `SELECT min(at) AS at FROM (
      SELECT min(w.wake_at) AS at FROM waits w INDEXED BY waits_by_wake JOIN runs r ON r.id = w.run_id
        WHERE w.wake_at > @now AND r.status = 'waiting'
      UNION ALL SELECT min(deadline_at) FROM runs INDEXED BY runs_pending_deadline
        WHERE status IN ('queued', 'waiting') AND deadline_at > @now
      UNION ALL SELECT min(next_fire_at) FROM schedules WHERE next_fire_at > @now)`,
  toCompact: `SELECT seq, key FROM runs INDEXED BY runs_to_compact
    WHERE compacted = 0 AND finished_at IS NOT NULL AND finished_at < ? ORDER BY finished_at, seq LIMIT ?`,
  stepBytes:
    'SELECT count(*) AS n, coalesce(sum(length(CAST(name AS BLOB)) + length(CAST(result AS BLOB))), 0) AS bytes FROM steps WHERE run_seq = ?',
  attemptBytes:
    'SELECT coalesce(sum(length(CAST(name AS BLOB)) + length(CAST(error_message AS BLOB))), 0) AS bytes FROM step_attempts WHERE run_seq = ?',
  deleteSteps: 'DELETE FROM steps WHERE run_seq = ?',
  deleteAttempts: 'DELETE FROM step_attempts WHERE run_seq = ?',
  markCompacted: 'UPDATE runs SET compacted = 1 WHERE seq = ?',
  effect: 'SELECT * FROM effects WHERE key = ?',
  putEffect: `INSERT OR REPLACE INTO effects (key, name, run_id, status, origins, attempts, artifact, error_code, error_message,
    next_attempt_at, claimed_at, delivered_at) VALUES (@key, @name, @run_id, @status, @origins, @attempts, @artifact,
    @error_code, @error_message, @next_attempt_at, @claimed_at, @delivered_at)`,
  // A run that ends lets go of the effects it holds: the next claim of the key emits again.
  releaseHeld: `UPDATE effects INDEXED BY effects_held
    SET status = 'failed', next_attempt_at = NULL,
        error_code = CASE status WHEN 'claimed' THEN 'run_ended' ELSE error_code END,
        error_message = CASE status WHEN 'claimed' THEN @message ELSE error_message END
    WHERE run_id = @runId AND (status = 'claimed' OR (status = 'failed' AND next_attempt_at IS NOT NULL)) RETURNING key`,
  overdue: `SELECT id FROM runs INDEXED BY runs_pending_by_key
    WHERE key = @key AND status IN ('queued', 'running', 'waiting') AND status <> 'running' AND deadline_at <= @now ORDER BY seq`,
  coveringKey: 'SELECT effect_key FROM effect_origins WHERE origin = ?',
  cover: 'INSERT OR REPLACE INTO effect_origins (origin, effect_key) VALUES (?, ?)',
  uncover: 'DELETE FROM effect_origins WHERE effect_key = ?',
  schedule: 'SELECT * FROM schedules WHERE id = ?',
  insertSchedule: `INSERT INTO schedules (id, key, flow, input, priority, timing, catch_up, next_fire_at, last_fire_at, created_at)
    VALUES (@id, @key, @flow, @input, @priority, @timing, @catch_up, @next_fire_at, @last_fire_at, @created_at)`,
  deleteSchedule: 'DELETE FROM schedules WHERE id = ?',
  schedules: 'SELECT * FROM schedules ORDER BY id',
  dueSchedules: 'SELECT * FROM schedules INDEXED BY schedules_next WHERE next_fire_at <= ? ORDER BY next_fire_at',
  advanceSchedule: `UPDATE schedules SET next_fire_at = @nextAt, last_fire_at = coalesce(@firedAt, last_fire_at)
    WHERE id = @id AND next_fire_at = @fireAt`,
} as const;

export type DurableStatements = Prepared<typeof DURABLE_SQL>;

export function prepareDurableStatements(db: Database.Database): DurableStatements {
  return prepareAll(db, DURABLE_SQL);
}
