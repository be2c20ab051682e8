import type { LaneRecord, LaneState } from '../../model/lane.js';
import { replay, snapshotDetail } from './replay.js';

/**
 * Compaction (L9): the whole journal becomes one `checkpoint` record whose snapshot is the state
 * the journal folds to, numbered with the journal's highest seq (the watermark), so the next
 * record continues after it and `replay(compact(J))` equals `replay(J)`. An empty journal stays
 * empty. Pure: the store swaps the journal for the result in one transaction.
 */
export function compact(journal: readonly LaneRecord[]): LaneRecord[] {
  if (journal.length === 0) return [];
  const state = replay(journal);
  const last = journal[journal.length - 1]!;
  return [checkpointRecord(state, last.at)];
}

/** The checkpoint of a folded state, stamped `at` and numbered with the state's watermark. */
export function checkpointRecord(state: LaneState, at: number): LaneRecord {
  return {
    seq: state.lastSeq,
    op: 'checkpoint',
    at,
    lane: null,
    lease: null,
    holder: null,
    kind: null,
    tree: null,
    mode: null,
    ttlMinutes: null,
    generation: null,
    host: null,
    pid: null,
    runId: null,
    reason: null,
    detail: snapshotDetail(state),
  };
}
