import type { ProcessGroupRecord, ProcessRecordStore } from '../../ports/process-record-store.js';
import { REAP_CLAIM_TTL_MS } from '../../ports/process-record-store.js';
import type { PgContext } from './pg-context.js';
import { int, intOrNull } from './pg-rows.js';

interface ProcessGroupRow {
  id: string;
  pgid: number;
  owner_id: string;
  host: string;
  pid: number;
  run_id: string;
  key: string;
  leader_start: string | null;
  started_at: string;
  ended_at: string | null;
  reap_claimed_by: string | null;
  reap_claimed_at: string | null;
}

/**
 * The Postgres store's process group records (S4). A reap claim locks the record with
 * `FOR UPDATE SKIP LOCKED` and writes the claim in the same statement: a janitor that finds the
 * record locked by another janitor's claim gets `false` at once instead of waiting for it, so of
 * any number of claims made together, in this process or others, at most one is true (exactly
 * one, unless the winner's transaction fails, in which case the record stays claimable).
 */
export function pgProcessRecords(c: PgContext): ProcessRecordStore {
  const { db, s } = c;
  return {
    recordProcessGroup: (group) =>
      db.transaction(async (sql) => {
        const row = await c.first<ProcessGroupRow>(
          sql,
          `INSERT INTO ${s}.process_groups (pgid, owner_id, host, pid, run_id, key, leader_start, started_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (pgid, owner_id) WHERE ended_at IS NULL DO UPDATE SET host = excluded.host, pid = excluded.pid,
             run_id = excluded.run_id, key = excluded.key, leader_start = excluded.leader_start, started_at = excluded.started_at
           RETURNING *`,
          [group.pgid, group.ownerId, group.host, group.pid, group.runId, group.key, group.leaderStart ?? null, group.startedAt],
        );
        return toRecord(row!);
      }),

    endProcessGroup: (pgid, ownerId, at) =>
      db.transaction(async (sql) => {
        const ended = await sql.query(
          `UPDATE ${s}.process_groups SET ended_at = $3 WHERE pgid = $1 AND owner_id = $2 AND ended_at IS NULL`,
          [pgid, ownerId, at],
        );
        return ended.rowCount ?? 0;
      }),

    async listProcessGroups(query) {
      const where = query.open ? 'WHERE ended_at IS NULL' : '';
      const rows = await db.read((sql) =>
        c.rows<ProcessGroupRow>(sql, `SELECT * FROM ${s}.process_groups ${where} ORDER BY id LIMIT $1`, [query.limit ?? 1000]),
      );
      return rows.map(toRecord);
    },

    claimOrphanReap: (id, janitorId, at) =>
      db.transaction(async (sql) => {
        const claimed = await sql.query(
          `UPDATE ${s}.process_groups SET reap_claimed_by = $2, reap_claimed_at = $3
           WHERE id = (SELECT id FROM ${s}.process_groups WHERE id = $1 AND ended_at IS NULL
             AND (reap_claimed_at IS NULL OR reap_claimed_at <= $4) FOR UPDATE SKIP LOCKED)`,
          [id, janitorId, at, at - REAP_CLAIM_TTL_MS],
        );
        return claimed.rowCount === 1;
      }),

    pruneProcessGroups: (endedBefore) =>
      db.transaction(async (sql) => {
        const pruned = await sql.query(`DELETE FROM ${s}.process_groups WHERE ended_at IS NOT NULL AND ended_at < $1`, [endedBefore]);
        return pruned.rowCount ?? 0;
      }),
  };
}

function toRecord(row: ProcessGroupRow): ProcessGroupRecord {
  return {
    id: int(row.id),
    pgid: row.pgid,
    ownerId: row.owner_id,
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    key: row.key,
    leaderStart: intOrNull(row.leader_start),
    startedAt: int(row.started_at),
    endedAt: intOrNull(row.ended_at),
    reapClaimedBy: row.reap_claimed_by,
    reapClaimedAt: intOrNull(row.reap_claimed_at),
  };
}
