import type { Json, Key, Millis, RunId, RunRecord, StepAttempt, WaitKind } from '../model/index.js';
import type { Fence, FinishOutcome, KeyNotice, NewCommand } from './run-store.js';

/**
 * Suspension, child runs and retention (D5–D8). Every method is one transaction; fenced methods
 * throw `StaleEpochError` (nothing written) like those of the run store.
 */
export interface DurableStore {
  /**
   * Fenced. Suspends a running run (D8) in one transaction: commits `commit` (a journal entry) if
   * given, records `failure` (a failed step attempt) if given, and puts the run in `waiting` with
   * `wait`, which ends at `wait.wakeAt` (or, for a `child` wait, when that run ends). A `child`
   * wait whose run has already ended is not entered: `{ suspended: false }`, nothing written.
   * Process dies before it commits: the run is still running and is recovered from its last
   * committed step; after: it waits, durably, and a kernel wakes it at `wakeAt` even after a restart.
   */
  suspendRun(request: SuspendRun): Promise<{ readonly suspended: boolean }>;

  /**
   * Fenced (the parent's key). Spawns a child run (D7): enqueues it, idempotent on its idempotence
   * key, and journals the spawn in the parent at `seq` with `{ childId }`, in one transaction.
   * Returns the child. A re-run that spawns again at the same position gets the same child.
   */
  spawnChild(request: SpawnChild): Promise<RunRecord>;

  /**
   * Fenced. Fails (code `deadline`, core/deadline) every queued or waiting run of the key whose
   * deadline is at or before `now`, each ended as finishRun ends a run (its parent woken, its
   * children asked to drop, its held effects let go), in one transaction. The key's owner calls it
   * when a deadline comes while it executes another run, so a run waiting its turn fails at its
   * deadline, not whenever the key frees. Dies before it commits: the runs stay pending, and the
   * next call, or the claim that would start one, fails them.
   */
  expireOverdue(request: Fence & { readonly now: Millis }): Promise<FinishOutcome[]>;

  /**
   * Optional capability. Unfenced (like requestCancel: any process may call it). Ends now every
   * wait of kind `kind` on run `onRun` (RunWait.onRun): those runs become claimable at `now`, and
   * their keys are returned, to dispatch. Nothing else changes. Waking a run early is always safe:
   * it asks again for what it waited on and waits again if it must. Dies before it commits:
   * nothing changed, and the runs wake at their own `wakeAt`. A store without it wakes them only
   * then.
   */
  wakeWaiting?(request: { readonly onRun: RunId; readonly kind: WaitKind; readonly now: Millis }): Promise<KeyNotice[]>;

  /** The runs `parentId` spawned, in spawn order. */
  childrenOf(parentId: RunId): Promise<RunRecord[]>;

  /** A run's failed step attempts (retries), in order. */
  getStepAttempts(runId: RunId): Promise<StepAttempt[]>;

  /**
   * The earliest instant after `now` at which something needs a kernel: a waiting run's wake, a
   * queued or waiting run's deadline, a schedule's next tick. Undefined when nothing is due ever.
   */
  nextWakeAt(now: Millis): Promise<Millis | undefined>;

  /**
   * Retention (D5): for at most `limit` runs that ended before `finishedBefore` and are not yet
   * compacted, deletes their step journal and failed attempts, keeping the run's summary (status,
   * result, error, timings, idempotence key: a submit with its key still returns it). One
   * transaction per call: crash-safe, and short enough never to hold commits back for long.
   */
  compactRuns(request: { readonly finishedBefore: Millis; readonly limit: number }): Promise<CompactedRuns>;
}

export interface SuspendRun extends Fence {
  readonly runId: RunId;
  readonly now: Millis;
  readonly commit?: { readonly seq: number; readonly name: string; readonly result: Json };
  readonly failure?: Omit<StepAttempt, 'runId'>;
  readonly wait: { readonly kind: WaitKind; readonly wakeAt: Millis | null; readonly onRun?: RunId; readonly detail: Json };
}

export interface SpawnChild extends Fence {
  /** The parent. */
  readonly runId: RunId;
  readonly seq: number;
  readonly name: string;
  readonly child: NewCommand;
}

export interface CompactedRuns {
  readonly runs: number;
  readonly steps: number;
  /** Journal bytes removed (step names and results, attempt errors). */
  readonly bytes: number;
  /** Keys of the compacted runs, for logs. */
  readonly keys: Key[];
}
