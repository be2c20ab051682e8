import type { Json } from './json.js';
import type { Millis } from './run.js';

/**
 * Lane leases (L1–L9): records of the lane journal and the live leases folded from it.
 *
 * The journal is append-only. Its records, in append order, are the whole truth; the live set is
 * a fold over them (`replay` in core/lane-lease). `refuse`, `halt` and `spawn` change no state; a
 * `checkpoint` replaces the state with its snapshot (written only by compaction).
 */

export const LANE_OPS = ['acquire', 'release', 'heartbeat', 'adopt', 'scavenge', 'refuse', 'halt', 'spawn', 'checkpoint'] as const;
export type LaneOp = (typeof LANE_OPS)[number];

export const LANE_MODES = ['shared', 'exclusive'] as const;
/** `shared` leases may overlap each other; any overlap with an `exclusive` one is refused. */
export type LaneMode = (typeof LANE_MODES)[number];

/** A lease on the live set. Its `id` is the `seq` of the `acquire` record that created it. */
export interface LiveLease {
  readonly id: number;
  readonly lane: string;
  readonly kind: string;
  /** Normalised path prefixes; `''` means "everything". */
  readonly tree: readonly string[];
  readonly mode: LaneMode;
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  readonly runId: string | null;
  readonly ttlMinutes: number;
  readonly generation: number;
  readonly acquiredAt: Millis;
  /** The newest beat: the last heartbeat or adopt, else the acquire. */
  readonly beatAt: Millis;
}

/** The state the journal folds to. Equal journals (after compaction too) fold to equal states. */
export interface LaneState {
  /** Live leases ordered by id. */
  readonly leases: readonly LiveLease[];
  /** The current generation of every lane ever acquired, by lane name (sorted keys). */
  readonly generations: Readonly<Record<string, number>>;
  /** The highest seq folded (0 for an empty journal): the next record gets `lastSeq + 1`. */
  readonly lastSeq: number;
}

/**
 * One journal record. Fields that do not apply to an op are `null`. `lease` names the lease a
 * release, heartbeat, adopt or scavenge acts on (the id of its acquire); for an acquire it is null
 * because the new lease's id is the record's own seq.
 */
export interface LaneRecord {
  readonly seq: number;
  readonly op: LaneOp;
  readonly at: Millis;
  readonly lane: string | null;
  readonly lease: number | null;
  readonly holder: string | null;
  readonly kind: string | null;
  readonly tree: readonly string[] | null;
  readonly mode: LaneMode | null;
  readonly ttlMinutes: number | null;
  readonly generation: number | null;
  readonly host: string | null;
  readonly pid: number | null;
  readonly runId: string | null;
  /** Machine-readable reason: a refusal code, a halt or spawn reason. */
  readonly reason: string | null;
  /** Op-specific detail: the colliding lease of a refusal, a halt's command, a checkpoint's snapshot. */
  readonly detail: Json | null;
}

/** A record before the store numbers it. */
export type NewLaneRecord = Omit<LaneRecord, 'seq'>;

/** A journal as read back: its records in append order, and a torn last record if one was dropped. */
export interface LaneJournalRead {
  readonly records: LaneRecord[];
  /** Where the torn last record was (export line number or stored seq) and what was wrong with it. */
  readonly torn: { readonly at: number; readonly problem: string } | null;
}
