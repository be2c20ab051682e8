import { renewOwnersSql } from './owner-renewer.js';
import { PENDING } from './pg-context.js';

/**
 * The SQL of the Postgres store's runs and owner leases that is more than one line, built for a
 * schema `s` (quoted). `$now` conditions compare against the caller's `now`: waits, deadlines and
 * wake-ups are on the kernels' clock, as they were written. Only owner leases may use the
 * database's clock (`DB_NOW_MS`, see postgres-store's `clock` option).
 */

/** The server's clock in epoch milliseconds, read when the statement evaluates it. */
export { DB_NOW_MS } from './owner-renewer.js';

/**
 * Whether a pending run gives its key work at `now` (a parameter): not waiting, or its wait or
 * deadline has come, or an operator's abort-drop waits for an owner's claim (core/mailbox hasWork).
 */
const hasWork = (now: string) =>
  `(r.status <> 'waiting' OR w.wake_at <= ${now} OR r.deadline_at <= ${now} OR r.cancel_mode = 'abort-drop')`;

/** Whether a pending run can be claimed at `now` (core/mailbox isClaimable, minus the runs asked to drop). */
const claimable = (now: string) =>
  `r.cancel_mode IS DISTINCT FROM 'abort-drop' AND (r.status <> 'waiting' OR w.wake_at <= ${now} OR r.deadline_at <= ${now})`;

/** Mailbox order (core/mailbox compareMailbox): running, urgent, parked, then by priority, FIFO. */
const MAILBOX_ORDER = `(r.status = 'running') DESC, (r.priority_rank = 0) DESC, (r.frame IS NOT NULL) DESC, r.priority_rank, r.seq`;

export function runSql(s: string) {
  const pendingRuns = `FROM ${s}.runs r LEFT JOIN ${s}.waits w ON w.run_id = r.id`;
  const nextRun = (urgentOnly: boolean) =>
    `UPDATE ${s}.runs u SET status = 'running', attempts = u.attempts + 1, epoch = $2, cancel_mode = NULL,
       started_at = coalesce(u.started_at, $3)
     WHERE u.id = (SELECT r.id ${pendingRuns} WHERE r.key = $1 AND r.status IN ${PENDING} AND ${claimable('$3')}
       ${urgentOnly ? 'AND r.priority_rank = 0' : ''} ORDER BY ${MAILBOX_ORDER} LIMIT 1 FOR UPDATE OF r)
     RETURNING u.id`;
  return {
    /** $1 after (null: from the first key), $2 limit, $3 now. */
    keysWithWork: `SELECT r.key, min(r.priority_rank) AS rank,
        coalesce(bool_or(r.status IN ('queued', 'waiting') AND r.deadline_at <= $3), false) AS overdue,
        o.owner_id, o.epoch, o.expires_at, o.channel
      ${pendingRuns} LEFT JOIN ${s}.owners o ON o.key = r.key
      WHERE r.status IN ${PENDING} AND ($1::text IS NULL OR r.key > $1) AND ${hasWork('$3')}
      GROUP BY r.key, o.key ORDER BY r.key LIMIT $2`,
    /**
     * $1 key, $2 owner, $3 epoch, $4 only when idle, $5 now. Releases only while the fence holds
     * and, with $4, only when the key has no work, decided in this one statement.
     */
    release: `UPDATE ${s}.owners SET owner_id = NULL, expires_at = 0, channel = NULL
      WHERE key = $1 AND owner_id = $2 AND epoch = $3
        AND NOT ($4::boolean AND EXISTS (SELECT 1 ${pendingRuns} WHERE r.key = $1 AND r.status IN ${PENDING} AND ${hasWork('$5')}))`,
    /** $1 keys, $2 epochs, $3 ttl, $4 owner, $5 now (the database's clock when null). Fenced in the statement. */
    renew: renewOwnersSql(s),
    /**
     * $1 key, $2 epoch, $3 now: claims the next run in mailbox order. `FOR UPDATE`, not `SKIP
     * LOCKED`: only the key's owner claims its runs, and the order must be exact, so a run another
     * transaction holds (an operator's cancel request) is waited for and re-checked, never jumped.
     */
    claimNext: nextRun(false),
    claimNextUrgent: nextRun(true),
    /** $1 key: the pending runs an operator asked to drop (nobody executes them now), locked. */
    droppable: `SELECT id, key, parent_id FROM ${s}.runs WHERE key = $1 AND status IN ${PENDING} AND cancel_mode = 'abort-drop'
      ORDER BY seq FOR UPDATE`,
    /** $1 run, $2 key: an abort-keep request is satisfied by the requeue; an abort-drop one stays for the next claim. */
    requeue: `UPDATE ${s}.runs SET status = 'queued', cancel_mode = CASE cancel_mode WHEN 'abort-keep' THEN NULL ELSE cancel_mode END
      WHERE id = $1 AND key = $2 AND status = 'running'`,
    stepsOf: `SELECT r.id AS run_id, st.seq, st.name, st.result, st.epoch, st.committed_at
      FROM ${s}.steps st JOIN ${s}.runs r ON r.seq = st.run_seq WHERE r.id = $1 ORDER BY st.seq`,
    attemptsOf: `SELECT r.id AS run_id, a.seq, a.attempt, a.name, a.error_code, a.error_message, a.failed_at, a.retry_at
      FROM ${s}.step_attempts a JOIN ${s}.runs r ON r.seq = a.run_seq WHERE r.id = $1 ORDER BY a.seq, a.attempt`,
    reopen: `UPDATE ${s}.runs SET status = 'queued', result = NULL, error_code = NULL, error_message = NULL, finished_at = NULL,
      cancel_mode = NULL, deadline_at = NULL WHERE id = $1 AND status IN ('failed', 'cancelled')`,
  };
}

export type RunSql = ReturnType<typeof runSql>;
