import type { Json } from '../../model/json.js';
import type { LaneMode, LaneRecord, LiveLease } from '../../model/lane.js';
import { int, intOrNull } from './pg-rows.js';

/** Row shapes of the lane tables (migrations/0002_lanes.sql) and their conversions. */

type Int8 = number | string;

export interface JournalRow {
  seq: Int8;
  op: string;
  at: Int8;
  lane: string | null;
  lease: Int8 | null;
  holder: string | null;
  kind: string | null;
  tree: string | null;
  mode: string | null;
  ttl_minutes: number | null;
  generation: Int8 | null;
  host: string | null;
  pid: number | null;
  run_id: string | null;
  reason: string | null;
  detail: string | null;
}

export interface LeaseRow {
  id: Int8;
  lane: string;
  kind: string;
  tree: string;
  mode: string;
  holder: string;
  host: string;
  pid: number;
  run_id: string | null;
  ttl_minutes: number;
  generation: Int8;
  acquired_at: Int8;
  beat_at: Int8;
}

export const JOURNAL_COLUMNS =
  'seq, op, at, lane, lease, holder, kind, tree, mode, ttl_minutes, generation, host, pid, run_id, reason, detail';
export const LEASE_COLUMNS = 'id, lane, kind, tree, mode, holder, host, pid, run_id, ttl_minutes, generation, acquired_at, beat_at';

/** A record's values in the order of JOURNAL_COLUMNS. */
export function journalParams(r: LaneRecord): unknown[] {
  return [
    r.seq,
    r.op,
    r.at,
    r.lane,
    r.lease,
    r.holder,
    r.kind,
    r.tree === null ? null : JSON.stringify(r.tree),
    r.mode,
    r.ttlMinutes,
    r.generation,
    r.host,
    r.pid,
    r.runId,
    r.reason,
    r.detail === null ? null : JSON.stringify(r.detail),
  ];
}

/** A row as a raw record object, to be validated by the codec (throws if its JSON is broken). */
export function rawRecordOfRow(row: JournalRow): Record<string, unknown> {
  return {
    seq: int(row.seq),
    op: row.op,
    at: int(row.at),
    lane: row.lane,
    lease: intOrNull(row.lease),
    holder: row.holder,
    kind: row.kind,
    tree: row.tree === null ? null : (JSON.parse(row.tree) as unknown),
    mode: row.mode,
    ttlMinutes: row.ttl_minutes,
    generation: intOrNull(row.generation),
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    reason: row.reason,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Json),
  };
}

/** A lease's values in the order of LEASE_COLUMNS. */
export function leaseParams(l: LiveLease): unknown[] {
  return [
    l.id,
    l.lane,
    l.kind,
    JSON.stringify(l.tree),
    l.mode,
    l.holder,
    l.host,
    l.pid,
    l.runId,
    l.ttlMinutes,
    l.generation,
    l.acquiredAt,
    l.beatAt,
  ];
}

export function leaseOfRow(row: LeaseRow): LiveLease {
  return {
    id: int(row.id),
    lane: row.lane,
    kind: row.kind,
    tree: JSON.parse(row.tree) as string[],
    mode: row.mode as LaneMode,
    holder: row.holder,
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    ttlMinutes: row.ttl_minutes,
    generation: int(row.generation),
    acquiredAt: int(row.acquired_at),
    beatAt: int(row.beat_at),
  };
}
