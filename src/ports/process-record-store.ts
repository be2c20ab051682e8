import type { Key, Millis, RunId } from '../model/index.js';

/**
 * A provider process group as recorded when its turn started (S2, S4): who started it (the kernel
 * process `pid` on `host`, as owner `ownerId`) and for which run, so a janitor can kill the group
 * after that process died, and only then.
 */
export interface ProcessGroupRecord {
  /** The record's id: what a janitor claims. */
  readonly id: number;
  readonly pgid: number;
  readonly ownerId: string;
  readonly host: string;
  /** The kernel process that started the group. */
  readonly pid: number;
  readonly runId: RunId;
  readonly key: Key;
  /**
   * When the group's leader process started, in the host's own units (clock ticks since boot on
   * Linux), or null when it could not be read. It tells the group apart from a later group that
   * reuses the same id.
   */
  readonly leaderStart: number | null;
  readonly startedAt: Millis;
  /** When the group was seen gone (by its owner or a janitor); null while it is open. */
  readonly endedAt: Millis | null;
  /** The janitor that claimed the reaping of this group, if any, and when. */
  readonly reapClaimedBy: string | null;
  readonly reapClaimedAt: Millis | null;
}

export type NewProcessGroup = Pick<ProcessGroupRecord, 'pgid' | 'ownerId' | 'host' | 'pid' | 'runId' | 'key' | 'startedAt'> & {
  readonly leaderStart?: number | null;
};

/**
 * A janitor's claim on a group is its own for this long; after that (the janitor died between its
 * claim and the kill) another janitor may claim the group again. Killing a group twice is harmless.
 */
export const REAP_CLAIM_TTL_MS = 60_000;

/**
 * Durable records of provider process groups (S4). Unfenced: they describe processes, not key
 * state, and are written best effort by the kernel that starts a turn. Every method is one
 * transaction; a process that dies before a call's promise resolves has written all of it or
 * nothing, and every method throws `StoreUnavailableError` (nothing written) when the store cannot
 * be used just now.
 */
export interface ProcessRecordStore {
  /**
   * Records an open group. Recording the same `(pgid, ownerId)` while a record of it is open updates
   * that record instead of adding one. Dies before: the group is not recorded (a group whose kernel
   * dies is still killed by its watchdog; only the janitor's second line of defence is lost).
   * After: a janitor may reap the group once the kernel process is dead.
   */
  recordProcessGroup(group: NewProcessGroup): Promise<ProcessGroupRecord>;

  /**
   * Ends the open record(s) of `(pgid, ownerId)`: the group is gone. Returns how many were ended
   * (0 when none was open). Dies before: the record stays open; a janitor finds its owner dead
   * later and, the group being gone, only ends it.
   */
  endProcessGroup(pgid: number, ownerId: string, at: Millis): Promise<number>;

  /** Process group records, oldest first (at most `limit`, default 1000); with `open: true` only those not ended. */
  listProcessGroups(query: { readonly open?: boolean; readonly limit?: number }): Promise<ProcessGroupRecord[]>;

  /**
   * Claims the reaping of open record `id` for `janitorId` at `at`: true when the record is open
   * and unclaimed, or its claim is older than REAP_CLAIM_TTL_MS (decided in the statement that
   * writes, so of any number of claims made together exactly one is true); false when it is ended,
   * unknown, or freshly claimed. Only janitors of the record's host reap it, so `at` is read from
   * one host's clock.
   * The claimer kills the group and then ends the record (endProcessGroup). Dies after claiming,
   * before the kill: the claim expires and another janitor reaps the group.
   */
  claimOrphanReap(id: number, janitorId: string, at: Millis): Promise<boolean>;

  /**
   * Retention: deletes the records that ended before `endedBefore` (never an open one); returns how
   * many. Dies before it commits: nothing is deleted, and the next call deletes them.
   */
  pruneProcessGroups(endedBefore: Millis): Promise<number>;
}
