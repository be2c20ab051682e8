import type { Json } from '../../model/json.js';
import type { LaneMode, LaneRecord, LiveLease } from '../../model/lane.js';

/** Row shapes of the lane tables and their conversions (see migrations/0002_lanes.sql). */

export interface JournalRow {
  seq: number;
  op: string;
  at: number;
  lane: string | null;
  lease: number | null;
  holder: string | null;
  kind: string | null;
  tree: string | null;
  mode: string | null;
  ttl_minutes: number | null;
  generation: number | null;
  host: string | null;
  pid: number | null;
  run_id: string | null;
  reason: string | null;
  detail: string | null;
}

export interface LeaseRow {
  id: number;
  lane: string;
  kind: string;
  tree: string;
  mode: string;
  holder: string;
  host: string;
  pid: number;
  run_id: string | null;
  ttl_minutes: number;
  generation: number;
  acquired_at: number;
  beat_at: number;
}

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
    seq: row.seq,
    op: row.op,
    at: row.at,
    lane: row.lane,
    lease: row.lease,
    holder: row.holder,
    kind: row.kind,
    tree: row.tree === null ? null : (JSON.parse(row.tree) as unknown),
    mode: row.mode,
    ttlMinutes: row.ttl_minutes,
    generation: row.generation,
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    reason: row.reason,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Json),
  };
}

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
    id: row.id,
    lane: row.lane,
    kind: row.kind,
    tree: JSON.parse(row.tree) as string[],
    mode: row.mode as LaneMode,
    holder: row.holder,
    host: row.host,
    pid: row.pid,
    runId: row.run_id,
    ttlMinutes: row.ttl_minutes,
    generation: row.generation,
    acquiredAt: row.acquired_at,
    beatAt: row.beat_at,
  };
}
