import type {
  StepAttempt,
  CancelMode,
  OperatorAction,
  Epoch,
  Json,
  Key,
  Millis,
  OwnerLease,
  ParkedFrame,
  PreemptKind,
  Priority,
  RunError,
  RunId,
  RunRecord,
  RunStatus,
  StepRecord,
  TerminalStatus,
} from '../model/index.js';

/**
 * The runs, commands and owner leases of the store port (K1–K8). Every method is one transaction
 * and returns a Promise, even where the driver is synchronous, so a networked store slots in
 * unchanged.
 *
 * Crash semantics hold for every method: if the process dies before the returned promise resolves,
 * the transaction either committed whole or did not happen at all; a resolved promise means the
 * write is as durable as the store's configured sync level promises.
 *
 * Fenced methods take `{ key, ownerId, epoch }` and throw `StaleEpochError` (nothing written) when
 * `epoch` is not the key's current owner epoch or `ownerId` is not its current holder. The fence is
 * checked inside the transaction that writes, never read first and written later.
 *
 * Every method throws `StoreUnavailableError` (nothing written) when the store cannot be used just
 * now (locked past the busy timeout, disk full or read-only, I/O error, connection lost); any other
 * error is a real failure. Every read-decide-write is one method: correctness never depends on the
 * order in which two calls issued together are applied.
 */
export interface RunStore {
  /**
   * Records a command durably. Idempotent on `idempotencyKey`, forever: a second call with the
   * same key returns the existing run (whatever its status) with `created: false`, and never a new
   * one. Unfenced: anyone may submit.
   */
  enqueue(command: NewCommand): Promise<EnqueueResult>;

  getRun(id: RunId): Promise<RunRecord | undefined>;
  listRuns(query: RunQuery): Promise<RunRecord[]>;
  /** The committed steps of a run, in order. */
  getSteps(runId: RunId): Promise<StepRecord[]>;

  /**
   * Keys that have work at `now` (queued or running runs, and waiting runs whose wait or deadline
   * has come), with their owner lease if any, in key order, at most `limit` of them after `after`
   * (exclusive): page through all of them by passing the last key of a page as the next `after`.
   * The kernel decides from this which keys it may try to own.
   */
  keysWithWork(page: KeyPage): Promise<KeyWork[]>;

  /**
   * Takes the owner lease of a key if it is free, expired at `now`, already held by `ownerId`, or
   * held by `takeOverFrom`. Every acquisition bumps the epoch, one's own lease included, so
   * whatever a runtime of an earlier acquisition still has in flight is fenced out. Returns
   * `undefined` when another owner holds a live lease; the lease names, in `takenOverFrom`, the
   * owner it was taken over from, if another owner held it and had not released it.
   */
  acquireOwner(request: AcquireOwner): Promise<AcquiredOwner | undefined>;

  /**
   * Extends the leases `ownerId` still holds at the given epochs; returns the keys whose lease was
   * renewed and those that were lost (taken over or released).
   */
  renewOwners(request: RenewOwners): Promise<{ renewed: Key[]; lost: Key[] }>;

  /**
   * Releases a lease, keeping its epoch so the next owner bumps past it. No-op (false) if the lease
   * is no longer this fence's. With `ifIdle`, releases only when the key has no work at `now` (see
   * keysWithWork; a run that waits for later does not count), decided in the same transaction: a
   * submit that lands before the release keeps the owner, one that lands after finds the key free.
   * Either way no command is stranded, and a waiting run is woken by a kernel's wake timer.
   */
  releaseOwner(request: Fence & { readonly ifIdle?: boolean; readonly now?: Millis }): Promise<boolean>;

  getOwner(key: Key): Promise<OwnerLease | undefined>;

  /**
   * Fenced. Decides the key's next run in one transaction: first ends `cancelled` (error
   * OPERATOR_CANCEL) every run of the key whose cancel was requested with `abort-drop` and that is
   * not executing (queued, waiting, or left `running` by a dead owner), so a dropped run is never
   * claimed; then claims the next claimable run in mailbox order (see core/mailbox): a run left
   * `running` first, then urgent, then parked, then normal, then background, FIFO within each. A
   * waiting run is claimable once its wait or its deadline has come (at `now`). With `urgentOnly`,
   * only an urgent run is claimed. The claimed run is marked running with one more attempt (a
   * pending `abort-keep` request is satisfied by the claim and cleared; its wait is ended, while a
   * parked frame stays with the run) and returned with its committed steps, its failed step attempts and its
   * parked frame.
   */
  claimNext(request: ClaimNext): Promise<ClaimOutcome>;

  /**
   * Fenced. Appends a committed step (or provider turn) to a run's journal; committing at or past
   * a parked frame's position removes the frame. If the process dies before the promise resolves,
   * the step is not committed and runs again on recovery. Committing the same step again (same
   * seq and name, after a reply was lost) returns the journaled record unchanged; a different
   * name at a committed seq throws `step_already_committed`.
   */
  commitStep(request: CommitStep): Promise<StepRecord>;

  /**
   * Fenced. Ends a run with a terminal status and its result or error, and ends its wait. In the
   * same transaction: a parent waiting for this run (`ctx.join`) is woken, and when the run did
   * not complete, every unfinished child of it gets an `abort-drop` request, and the effects it
   * holds are let go (core/effect-claim `releasedEffect`: the next claim of their key emits them
   * again). Returns the run and the keys that now have work to dispatch (the parent's, the
   * children's).
   */
  finishRun(request: FinishRun): Promise<FinishOutcome>;

  /**
   * Fenced. Puts a running run back in the queue (its committed steps are kept; a pending
   * `abort-keep` cancel request is thereby satisfied and cleared, a pending `abort-drop` one stays
   * and the next claim drops the run).
   */
  requeueRun(request: Fence & { runId: RunId }): Promise<void>;

  /**
   * Fenced. Parks a running run (`steal`): it waits (`preempted`) and keeps its frame,
   * claimable at once after the urgent burst, in one transaction. A crash before it commits leaves
   * the run `running`, recovered from its last committed step; after it, the run resumes from the
   * frame once the urgent burst has drained. The frame is kept until a step at or past its position
   * commits.
   */
  parkRun(request: Fence & { readonly frame: ParkedFrame }): Promise<void>;

  /**
   * The oldest queued urgent run of a key that no operator asked to drop: the durable demand that
   * preemption acts on (K5).
   */
  peekUrgent(key: Key): Promise<RunRecord | undefined>;

  /**
   * Unfenced (operators may call it from anywhere). Records a cancel request on a queued, waiting
   * or running run, and the operator action, and returns the run; returns it unchanged if it
   * already ended, undefined if it does not exist. The owning runtime applies the request when told, or
   * at its next claim.
   */
  requestCancel(request: { readonly runId: RunId; readonly mode: CancelMode; readonly now: Millis }): Promise<RunRecord | undefined>;

  /**
   * Unfenced (an operator's retry). Re-opens a `failed` or `cancelled` run: it is queued again at
   * its priority with its committed steps kept (it resumes from the last one), its error and
   * deadline cleared, its failed step attempts forgotten (a fresh retry budget), and the operator
   * action recorded, all in one transaction (core/reopen). Its idempotence key keeps naming it.
   * Throws `run_not_retryable` for a run that is queued, running or completed, or whose journal
   * was compacted; returns
   * undefined when no run has this id.
   */
  reopenRun(request: { readonly runId: RunId; readonly now: Millis }): Promise<RunRecord | undefined>;

  /** The operator actions recorded on a run, oldest first. */
  operatorActions(runId: RunId): Promise<OperatorAction[]>;
}

export interface Fence {
  readonly key: Key;
  readonly ownerId: string;
  readonly epoch: Epoch;
}

export interface NewCommand {
  readonly id: RunId;
  /** The spawning run (`ctx.spawn`), if any. */
  readonly parentId?: RunId | null;
  /** When the run fails with `deadline` if it has not ended. */
  readonly deadlineAt?: Millis | null;
  readonly key: Key;
  readonly flow: string;
  readonly input: Json;
  readonly idempotencyKey: string;
  readonly priority: Priority;
  readonly preempt: PreemptKind | null;
  /** The W3C `traceparent` the run's spans continue (see RunRecord.traceparent); default null. */
  readonly traceparent?: string | null;
  readonly now: Millis;
}

export interface EnqueueResult {
  readonly run: RunRecord;
  readonly created: boolean;
}

export interface RunQuery {
  readonly key?: Key;
  readonly status?: readonly RunStatus[];
  readonly limit?: number;
}

export interface KeyPage {
  readonly after?: Key;
  readonly limit: number;
  /** Waiting runs whose wait or deadline is at or before `now` count as work. */
  readonly now: Millis;
}

export interface KeyWork {
  readonly key: Key;
  readonly owner: OwnerLease | undefined;
  /** Best pending priority (urgent first). */
  readonly topPriority: Priority;
  /** A queued or waiting run of the key is past its deadline (see DurableStore.expireOverdue). */
  readonly overdue: boolean;
}

export interface AcquireOwner {
  readonly key: Key;
  readonly ownerId: string;
  readonly now: Millis;
  readonly ttlMs: number;
  readonly channel: string | null;
  /** Take over from this owner even before its lease expires: the caller has seen it is dead. */
  readonly takeOverFrom?: string | undefined;
}

/** A lease `acquireOwner` granted. */
export interface AcquiredOwner extends OwnerLease {
  /**
   * The owner the key was taken over from: another owner still held the lease, never released
   * (it had expired, or its holder was proven dead). Absent when the key was free, released, or
   * already the caller's.
   */
  readonly takenOverFrom?: string;
}

export interface RenewOwners {
  readonly ownerId: string;
  readonly leases: readonly { readonly key: Key; readonly epoch: Epoch }[];
  readonly now: Millis;
  readonly ttlMs: number;
}

export interface ClaimNext extends Fence {
  readonly now: Millis;
  /** Claim only an urgent run (the runtime holds an urgent execution slot). */
  readonly urgentOnly?: boolean;
}

export interface ClaimOutcome {
  /** The claimed run, or undefined when the key has nothing (of the asked priority) to run. */
  readonly claimed: ClaimedRun | undefined;
  /** Runs this claim ended `cancelled` because an operator asked for `abort-drop`. */
  readonly dropped: RunRecord[];
  /** Keys with work because a dropped run ended (a parent woken, children asked to drop). */
  readonly wake: KeyNotice[];
}

/** The error recorded on a run an operator dropped. */
export const OPERATOR_CANCEL: RunError = { code: 'cancelled', message: 'cancelled by an operator (kernel.cancel, mode abort-drop)' };

export interface ClaimedRun {
  readonly run: RunRecord;
  readonly steps: StepRecord[];
  /** Failed attempts of steps not yet committed (retries), oldest first. */
  readonly attempts: StepAttempt[];
  readonly frame: ParkedFrame | undefined;
}

export interface FinishOutcome {
  readonly run: RunRecord;
  /** Keys with work because of this: a parent woken from its join, children asked to drop. */
  readonly wake: KeyNotice[];
}

/** A key that got work from another key's transaction, and the run asked to drop, if that is why. */
export interface KeyNotice {
  readonly key: Key;
  readonly cancelRunId?: RunId;
}

export interface CommitStep extends Fence {
  readonly runId: RunId;
  readonly seq: number;
  readonly name: string;
  readonly result: Json;
  readonly now: Millis;
}

export interface FinishRun extends Fence {
  readonly runId: RunId;
  readonly status: TerminalStatus;
  readonly result?: Json;
  readonly error?: RunError;
  readonly now: Millis;
}
