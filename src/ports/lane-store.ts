import type { LaneJournalRead, LaneRecord, LaneState, LiveLease, NewLaneRecord } from '../model/lane.js';
import type { Millis } from '../model/run.js';

/**
 * The lane-lease journal port (L3, L4, L9): an append-only journal of lane records plus a
 * materialized live set kept equal to `replay(journal)`, both changed only by `transact`.
 *
 * Every method is one transaction and returns a Promise. If the process dies before the promise
 * resolves, the transaction either committed whole (records, seqs and live set together) or did
 * not happen; nothing is ever half-appended.
 */
export interface LaneStore {
  /**
   * Runs read -> decide -> append as one write transaction, serialized against every other
   * writer of the same store, across processes. `decide` is a pure synchronous function of the
   * view; it must not do I/O or read a clock (pass `now` in through its closure). The records it
   * returns are numbered `lastSeq + 1, + 2, ...` in order, appended, and applied to the live set;
   * `appended` has them with their seqs. If `decide` throws, nothing is written and the promise
   * rejects with its error.
   */
  transact<T>(decide: LaneDecide<T>): Promise<LaneCommitted<T>>;

  /** The materialized state (live leases, generations, watermark), read in one snapshot. */
  state(): Promise<LaneState>;

  /**
   * The journal in append order, optionally only records at or after `sinceAt`. A record that
   * does not decode throws `LaneJournalCorruptError` naming its seq, except the last one, which
   * reads as torn (not written) and is reported in `torn`.
   */
  journal(options?: { readonly sinceAt?: Millis }): Promise<LaneJournalRead>;

  /**
   * Replaces the journal by one checkpoint of its state, numbered with the old highest seq, in one
   * transaction: a crash leaves the old journal or the new one, never a mix. The next record gets
   * the old highest seq + 1. An empty journal is left empty. A corrupt journal is not compacted.
   */
  compact(): Promise<LaneCompacted>;

  /**
   * Loads exported records into an empty journal (seqs kept) and rebuilds the live set from them,
   * in one transaction. Refuses (`lane_journal_not_empty`, nothing written) if the journal has any
   * record.
   */
  importJournal(records: readonly LaneRecord[]): Promise<{ readonly imported: number }>;
}

/** What `decide` sees: the live set (expired leases included) and the lane generations. */
export interface LaneView {
  /** Live leases ordered by id. */
  readonly leases: readonly LiveLease[];
  /** The highest seq in the journal, 0 when empty. */
  readonly lastSeq: number;
  /** The current generation of a lane, undefined if it was never acquired. */
  generation(lane: string): number | undefined;
}

export interface LaneDecision<T> {
  readonly append: readonly NewLaneRecord[];
  readonly value: T;
}

export type LaneDecide<T> = (view: LaneView) => LaneDecision<T>;

export interface LaneCommitted<T> {
  readonly value: T;
  readonly appended: readonly LaneRecord[];
}

export interface LaneCompacted {
  readonly recordsBefore: number;
  readonly recordsAfter: number;
  /** The seq the checkpoint carries; the next record continues after it. */
  readonly watermark: number;
}
