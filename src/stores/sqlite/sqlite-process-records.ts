import type { NewProcessGroup, ProcessGroupRecord, ProcessRecordStore } from '../../ports/process-record-store.js';
import { REAP_CLAIM_TTL_MS } from '../../ports/process-record-store.js';
import { prepareAll } from './prepared.js';
import type { SqliteContext } from './sqlite-context.js';

const PROCESS_SQL = {
  record: `INSERT INTO process_groups (pgid, owner_id, host, pid, run_id, key, leader_start, started_at)
    VALUES (@pgid, @ownerId, @host, @pid, @runId, @key, @leaderStart, @startedAt)
    ON CONFLICT (pgid, owner_id) WHERE ended_at IS NULL DO UPDATE SET host = excluded.host, pid = excluded.pid,
      run_id = excluded.run_id, key = excluded.key, leader_start = excluded.leader_start, started_at = excluded.started_at
    RETURNING *`,
  end: 'UPDATE process_groups SET ended_at = @at WHERE pgid = @pgid AND owner_id = @ownerId AND ended_at IS NULL',
  all: 'SELECT * FROM process_groups ORDER BY id LIMIT ?',
  open: 'SELECT * FROM process_groups WHERE ended_at IS NULL ORDER BY id LIMIT ?',
  claim: `UPDATE process_groups SET reap_claimed_by = @janitorId, reap_claimed_at = @at
    WHERE id = @id AND ended_at IS NULL AND (reap_claimed_at IS NULL OR reap_claimed_at <= @staleBefore)`,
  prune: 'DELETE FROM process_groups WHERE ended_at IS NOT NULL AND ended_at < ?',
} as const;

interface ProcessGroupRow {
  id: number;
  pgid: number;
  owner_id: string;
  host: string;
  pid: number;
  run_id: string;
  key: string;
  leader_start: number | null;
  started_at: number;
  ended_at: number | null;
  reap_claimed_by: string | null;
  reap_claimed_at: number | null;
}

/**
 * The SQLite store's process group records (S4). The claim is one conditional UPDATE, so of any
 * number of janitors claiming a record together, in this process or others, exactly one changes
 * the row.
 */
export function sqliteProcessRecords(c: SqliteContext): ProcessRecordStore {
  const sql = prepareAll(c.db, PROCESS_SQL);
  return {
    recordProcessGroup(group: NewProcessGroup): Promise<ProcessGroupRecord> {
      const row = { ...group, leaderStart: group.leaderStart ?? null };
      return c.batcher.write(() => toRecord(sql.record.get(row) as ProcessGroupRow), { atomic: true });
    },

    endProcessGroup(pgid: number, ownerId: string, at: number): Promise<number> {
      return c.batcher.write(() => sql.end.run({ pgid, ownerId, at }).changes, { atomic: true });
    },

    async listProcessGroups(query): Promise<ProcessGroupRecord[]> {
      const limit = query.limit ?? 1000;
      const rows = c.read(() => (query.open ? sql.open.all(limit) : sql.all.all(limit))) as ProcessGroupRow[];
      return rows.map(toRecord);
    },

    claimOrphanReap(id: number, janitorId: string, at: number): Promise<boolean> {
      const staleBefore = at - REAP_CLAIM_TTL_MS;
      return c.batcher.write(() => sql.claim.run({ id, janitorId, at, staleBefore }).changes === 1, { atomic: true });
    },

    pruneProcessGroups(endedBefore: number): Promise<number> {
      return c.batcher.write(() => sql.prune.run(endedBefore).changes, { atomic: true });
    },
  };
}

function toRecord(row: ProcessGroupRow): ProcessGroupRecord {
  return {
    id: row.id,
    pgid: row.pgid,
    ownerId: row.owner_id,
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    key: row.key,
    leaderStart: row.leader_start,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    reapClaimedBy: row.reap_claimed_by,
    reapClaimedAt: row.reap_claimed_at,
  };
}
