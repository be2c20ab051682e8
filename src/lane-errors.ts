import { HoldfastError, InvalidInputError } from './errors.js';

/* The typed errors of lane leases (L1-L9): the lane journal, tree paths, and ctx.lane. */

/**
 * A lane journal record that is not the last one does not decode: the journal is corrupt at that
 * record. Nothing was written. It is never skipped, because the live set after it would be wrong.
 */
export class LaneJournalCorruptError extends HoldfastError {
  readonly seq: number | null;
  readonly position: number;
  constructor(where: string, position: number, seq: number | null, problem: string) {
    super(
      'lane_journal_corrupt',
      `lane journal ${where} is corrupt at ${seq === null ? `position ${position}` : `seq ${seq}`}: ${problem}; restore it from an export (holdfast lane import) or repair that record`,
    );
    this.seq = seq;
    this.position = position;
  }
}

/** `lane import` into a journal that already has records. Nothing was written. */
export class LaneJournalNotEmptyError extends HoldfastError {
  constructor(where: string, records: number) {
    super(
      'lane_journal_not_empty',
      `lane journal ${where} already has ${records} record(s); import only into a fresh database (pass another --db)`,
    );
  }
}

/**
 * A lane tree path that leaves the tree the lanes share: absolute (`/etc`, `C:\x`,
 * `\\server\share`) or climbing above its root with `..` (`../x`). Nothing was written.
 */
export class LanePathRefusedError extends InvalidInputError {
  readonly path: string;
  constructor(path: string, why: string) {
    super(
      `tree path ${JSON.stringify(path)} ${why}, so it could name files outside the tree the lanes share; name it relative to that root (for example "src/api")`,
      'lane_path_refused',
    );
    this.path = path;
  }
}

/** The lease a `ctx.lane` request collided with, as `LaneRefusedError` names it. */
export interface CollidingLease {
  readonly id: number;
  readonly lane: string;
  readonly holder: string;
  /** The run holding it, when a flow took it with `ctx.lane`. */
  readonly runId: string | null;
  readonly tree: readonly string[];
  readonly mode: string;
}

/**
 * `ctx.lane` with `onRefuse: 'fail'` (or a lane the run itself already holds) was refused: its tree
 * or lane name collides with a live lease. The refusal is journaled in the lane journal and in
 * the run's journal, so a re-run throws it again. Nothing is held.
 */
export class LaneRefusedError extends HoldfastError {
  readonly lane: string;
  /** `lane_held`, `tree_overlap` or `unscoped_request` (see the lane arbiter). */
  readonly reason: string;
  readonly colliding: CollidingLease;
  constructor(lane: string, reason: string, colliding: CollidingLease, detail: string, hint: string) {
    const by = colliding.runId === null ? `holder ${colliding.holder}` : `run ${colliding.runId} (holder ${colliding.holder})`;
    const held = `lease #${colliding.id} of lane "${colliding.lane}" (${colliding.mode}, tree [${colliding.tree.join(', ')}])`;
    super('lane_refused', `ctx.lane "${lane}" was refused (${reason}): ${held} is held by ${by}; ${detail}; ${hint}`);
    this.lane = lane;
    this.reason = reason;
    this.colliding = colliding;
  }
}

/**
 * The lane lease a `ctx.lane` function ran under could no longer be proven held (a heartbeat found
 * it released, scavenged or adopted by another holder, for example after the process was paused
 * past the lease's TTL): other work may have used the tree meanwhile. Nothing of the function's
 * result was journaled.
 */
export class LaneLostError extends HoldfastError {
  readonly lane: string;
  readonly lease: number;
  constructor(lane: string, lease: number, runId: string) {
    super(
      'lane_lost',
      `run ${runId} lost lease #${lease} of lane "${lane}" while its ctx.lane function ran (released, scavenged or adopted by another holder); check what the function wrote, then retry the run (holdfast retry)`,
    );
    this.lane = lane;
    this.lease = lease;
  }
}
