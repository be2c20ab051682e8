import type { WorkerStatus } from '../supervisor.js';
import type { LaneStatus } from '../../lanes/service.js';
import type {
  CancelMode,
  EffectRecord,
  EffectStatus,
  Epoch,
  Key,
  Millis,
  OperatorAction,
  Priority,
  RunId,
  RunRecord,
  RunStatus,
  StepAttempt,
  StepRecord,
  WaitKind,
} from '../../model/index.js';
import type { FeedEvent } from '../../ports/event-feed.js';
import type { SubmitOptions } from '../../runtime/submit-command.js';
import type { AcceptedCommand } from '../command-sink.js';

/**
 * What an operator asks of holdfast, whatever is behind it: a database file (`dbClient`), the admin
 * API of a running `holdfast serve` (`httpClient`), or a process's own store and kernel
 * (`storeClient`). Every CLI verb and every admin route goes through it, so they answer the same
 * way.
 *
 * Every method that takes a run id also takes a unique prefix of one (the timeline prints eight
 * characters): an unknown one rejects with `run_not_found`, one naming several runs with
 * `run_id_ambiguous` (`RunIdAmbiguousError`, listing candidates). Errors are `HoldfastError`s with
 * a stable `code`.
 */
export interface HoldfastClient {
  /** Where this client reads and writes: `sqlite:/path/state.db`, or the admin API's URL. */
  readonly source: string;
  /** Keys with live work: owner, epoch, lease expiry, mailbox depth, the running, parked and waiting runs. */
  status(): Promise<HoldfastStatus>;
  /** Runs in arrival order, optionally of one key and some statuses (default limit 100). */
  listRuns(query?: RunListQuery): Promise<RunRecord[]>;
  /** One run with its step journal, failed attempts, operator actions and tree of children. */
  getRun(idOrPrefix: string): Promise<RunDetail>;
  /** The full id of the one run whose id starts with `prefix` (an exact id is its own answer). */
  resolveRunId(prefix: string): Promise<RunId>;
  /**
   * Records a command durably (K3: idempotent on `idempotencyKey`, forever). Resolved: committed,
   * it will run exactly once. Rejected or died before it resolved: it may or may not be recorded;
   * submitting again with the same idempotence key is always safe.
   */
  submit(command: SubmitOptions): Promise<AcceptedCommand>;
  /**
   * Asks the owner to stop a run (recorded first, then the owner is told). Returns its status after
   * the request was recorded: an active run is still `running` until its owner stops it.
   */
  cancel(idOrPrefix: string, mode?: CancelMode): Promise<OperatorOutcome>;
  /** Re-opens a failed or cancelled run (`run_not_retryable` otherwise); it resumes from its last step. */
  retry(idOrPrefix: string): Promise<OperatorOutcome>;
  /** Effects owed (claimed, failed) by default, oldest claim first. */
  outbox(query?: OutboxQuery): Promise<EffectRecord[]>;
  /** The live lane leases with their age, last beat and liveness verdict. */
  lanes(): Promise<LaneStatus[]>;
  /** The run-event feed after a cursor; `next` is the cursor to pass on (the last seq, or `after`). */
  events(query: EventQuery): Promise<EventPage>;
  /**
   * Prunes the step journals of runs that ended more than `olderThanMs` ago, a few runs per
   * transaction: dies part way, what was compacted stays compacted and the rest is left whole.
   */
  compactJournal(olderThanMs: number): Promise<CompactedJournal>;
  /** Lets go of what the client holds (a database connection); idempotent. */
  close(): Promise<void>;
}

export interface RunListQuery {
  readonly key?: Key;
  readonly status?: readonly RunStatus[];
  readonly limit?: number;
}

export interface OutboxQuery {
  /** Default: owed (`claimed` and `failed`). Empty: every status. */
  readonly status?: readonly EffectStatus[];
  readonly limit?: number;
}

export interface EventQuery {
  /** Only events with `seq > after` (0: from the oldest kept). */
  readonly after: number;
  readonly limit?: number;
}

export interface EventPage {
  readonly events: FeedEvent[];
  /** The cursor for the next page: the last event's seq, or `after` when there was none. */
  readonly next: number;
}

/** A run as `holdfast run` shows it. */
export interface RunDetail extends RunRecord {
  readonly steps: StepRecord[];
  readonly failedAttempts: StepAttempt[];
  readonly actions: OperatorAction[];
  readonly children: RunDetail[];
}

/** What an operator action left: the run's full id and its status once the request was recorded. */
export interface OperatorOutcome {
  readonly runId: RunId;
  readonly status: RunStatus;
}

export interface CompactedJournal {
  readonly runs: number;
  readonly steps: number;
  readonly bytes: number;
}

/** A run in a status view. */
export interface RunBrief {
  readonly id: RunId;
  readonly flow: string;
  readonly priority: Priority;
  readonly attempts: number;
  readonly createdAt: Millis;
  readonly startedAt: Millis | null;
}

/** A run that waits: why, and until when (`wakeAt` null while it waits for another run). */
export interface WaitingRunBrief extends RunBrief {
  readonly kind: WaitKind;
  readonly wakeAt: Millis | null;
  readonly onRun: RunId | null;
}

export type PriorityCounts = Readonly<Record<Priority, number>>;

/** One key with live work. */
export interface KeyStatus {
  readonly key: Key;
  /** The owner lease, or null when no process has taken the key yet. */
  readonly owner: {
    readonly ownerId: string | null;
    readonly epoch: Epoch;
    readonly expiresAt: Millis;
    /** The lease had not expired when the status was taken. */
    readonly live: boolean;
  } | null;
  /** Queued runs by priority (the mailbox, K4). */
  readonly queued: PriorityCounts;
  readonly running: RunBrief | null;
  /** Runs parked by `steal`, resumed after the urgent burst. */
  readonly parked: WaitingRunBrief[];
  /** Other waiting runs (timers, retries, children, effects). */
  readonly waiting: WaitingRunBrief[];
}

export interface HoldfastStatus {
  readonly source: string;
  /** When the status was taken. */
  readonly at: Millis;
  readonly keys: KeyStatus[];
  readonly totals: {
    readonly keys: number;
    readonly queued: PriorityCounts;
    readonly running: number;
    readonly parked: number;
    readonly waiting: number;
  };
  /** More live runs exist than one status reads; the counts cover the oldest ones only. */
  readonly truncated: boolean;
  /** The daemon's worker processes (`holdfast serve` with `workers` > 0); absent otherwise. */
  readonly workers?: readonly WorkerStatus[];
}
