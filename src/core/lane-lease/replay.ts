import type { Json } from '../../model/json.js';
import type { LaneRecord, LaneState, LiveLease } from '../../model/lane.js';

/**
 * The lane journal as a state machine (L3). Each record has one effect on the live set:
 *
 *   acquire           -> insert a lease (id = the record's seq) and set the lane's generation
 *   release, scavenge -> delete the named lease
 *   heartbeat         -> the named lease's beat moves to the record's time
 *   adopt             -> the named lease moves to a new holder (host, pid) and is beaten
 *   checkpoint        -> the whole state is replaced by the record's snapshot
 *   refuse, halt, spawn -> nothing
 *
 * `replay` folds these in append order; the stores apply the same effects to their materialized
 * tables inside the transaction that appends the record, so both agree by construction. Pure.
 */

export type LaneEffect =
  | { readonly kind: 'insert'; readonly lease: LiveLease }
  | { readonly kind: 'delete'; readonly id: number }
  | { readonly kind: 'beat'; readonly id: number; readonly at: number }
  | {
      readonly kind: 'adopt';
      readonly id: number;
      readonly holder: string;
      readonly host: string;
      readonly pid: number;
      readonly at: number;
    }
  | { readonly kind: 'reset'; readonly snapshot: LaneSnapshot }
  | { readonly kind: 'none' };

/** What a checkpoint carries: the live leases and the generations. */
export interface LaneSnapshot {
  readonly leases: readonly LiveLease[];
  readonly generations: Readonly<Record<string, number>>;
}

export const EMPTY_LANE_STATE: LaneState = { leases: [], generations: {}, lastSeq: 0 };

/** The effect of one record on the live set. */
export function effectOf(record: LaneRecord): LaneEffect {
  switch (record.op) {
    case 'acquire':
      return { kind: 'insert', lease: leaseOfAcquire(record) };
    case 'release':
    case 'scavenge':
      return record.lease === null ? { kind: 'none' } : { kind: 'delete', id: record.lease };
    case 'heartbeat':
      return record.lease === null ? { kind: 'none' } : { kind: 'beat', id: record.lease, at: record.at };
    case 'adopt':
      return record.lease === null
        ? { kind: 'none' }
        : { kind: 'adopt', id: record.lease, holder: record.holder ?? '', host: record.host ?? '', pid: record.pid ?? 0, at: record.at };
    case 'checkpoint':
      return { kind: 'reset', snapshot: snapshotOf(record.detail) };
    case 'refuse':
    case 'halt':
    case 'spawn':
      return { kind: 'none' };
  }
}

/** Whether a record changes the live set (everything but refuse, halt and spawn). */
export function changesState(record: Pick<LaneRecord, 'op'>): boolean {
  return record.op !== 'refuse' && record.op !== 'halt' && record.op !== 'spawn';
}

/** The state after one more record. */
export function applyRecord(state: LaneState, record: LaneRecord): LaneState {
  const lastSeq = Math.max(state.lastSeq, record.seq);
  const effect = effectOf(record);
  switch (effect.kind) {
    case 'insert': {
      const leases = [...state.leases.filter((l) => l.id !== effect.lease.id), effect.lease].sort((a, b) => a.id - b.id);
      return { leases, generations: withGeneration(state.generations, effect.lease.lane, effect.lease.generation), lastSeq };
    }
    case 'delete':
      return { ...state, leases: state.leases.filter((l) => l.id !== effect.id), lastSeq };
    case 'beat':
      return { ...state, leases: state.leases.map((l) => (l.id === effect.id ? { ...l, beatAt: effect.at } : l)), lastSeq };
    case 'adopt':
      return {
        ...state,
        leases: state.leases.map((l) =>
          l.id === effect.id ? { ...l, holder: effect.holder, host: effect.host, pid: effect.pid, beatAt: effect.at } : l,
        ),
        lastSeq,
      };
    case 'reset':
      return {
        leases: [...effect.snapshot.leases].sort((a, b) => a.id - b.id),
        generations: sortedRecord(effect.snapshot.generations),
        lastSeq,
      };
    case 'none':
      return { ...state, lastSeq };
  }
}

/** The live set and generations a journal folds to, in append order. */
export function replay(journal: readonly LaneRecord[]): LaneState {
  return journal.reduce(applyRecord, EMPTY_LANE_STATE);
}

export function leaseOfAcquire(record: LaneRecord): LiveLease {
  return {
    id: record.seq,
    lane: record.lane ?? '',
    kind: record.kind ?? '',
    tree: record.tree ?? [],
    mode: record.mode ?? 'exclusive',
    holder: record.holder ?? '',
    host: record.host ?? '',
    pid: record.pid ?? 0,
    runId: record.runId,
    ttlMinutes: record.ttlMinutes ?? 0,
    generation: record.generation ?? 0,
    acquiredAt: record.at,
    beatAt: record.at,
  };
}

/** The checkpoint detail for a state (the inverse of snapshotOf). */
export function snapshotDetail(state: Pick<LaneState, 'leases' | 'generations'>): Json {
  return {
    leases: state.leases.map((l) => ({ ...l, tree: [...l.tree] })),
    generations: { ...state.generations },
  };
}

/** Reads a checkpoint's snapshot; the codec has validated its shape. */
export function snapshotOf(detail: Json | null): LaneSnapshot {
  const d = (detail ?? {}) as unknown as Partial<LaneSnapshot>;
  return { leases: d.leases ?? [], generations: d.generations ?? {} };
}

function withGeneration(generations: Readonly<Record<string, number>>, lane: string, generation: number): Record<string, number> {
  return sortedRecord({ ...generations, [lane]: generation });
}

function sortedRecord(r: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
