import type { RetryPolicy } from '../core/retry-policy.js';
import type { FencingToken, Json, Key, Millis, ParkedFrame, RunId, StepAttempt } from '../model/index.js';
import type { Clock, Random } from '../ports/clock.js';
import type { Provider } from '../ports/provider.js';
import type { Fence, Store, SuspendRun } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { RunLanes } from './lane-runs.js';
import type { Flow } from './flow.js';
import type { RunTrace } from './tracing.js';

/** What one execution of a run gets from its key runtime. Internal: flows see only FlowContext. */
export interface RunEnvironment {
  readonly clock: Clock;
  readonly random: Random;
  readonly events: KernelEventEmitter;
  readonly store: Store;
  readonly fence: Fence;
  /** Owned by the key runtime: aborted when the run must stop (see FlowContext.signal). */
  readonly signal: AbortSignal;
  readonly fencingToken: FencingToken;
  readonly providers: ReadonlyMap<string, Provider>;
  /** The kernel's flows, for spawning children. */
  readonly flows: ReadonlyMap<string, Flow>;
  /** The retry policy of the run's flow, for steps that give none. */
  readonly flowRetry: RetryPolicy | undefined;
  /** The frame the run was parked with, when it is being resumed. */
  readonly frame: ParkedFrame | undefined;
  /** Failed attempts of the run's uncommitted steps (retries so far). */
  readonly attempts: readonly StepAttempt[];
  /** Checked before every turn starts: interrupts the run (aborts `signal`) if urgent demand is pending. */
  readonly beforeTurn: () => Promise<void>;
  /**
   * A store write on the run's behalf: only while the runtime's lease is proven, retried while the
   * store is unavailable. Rejects with the signal's reason when the runtime may no longer write
   * (the lease cannot be proven, another owner took the key, the run was interrupted).
   */
  readonly durable: <T>(operation: string, call: () => Promise<T>) => Promise<T>;
  /** The run entered a durable wait: this execution is over (its flow never resumes here). */
  readonly suspended: (wait: SuspendRun['wait']) => void;
  /** Keys that got work from this run (a spawned child): the kernel dispatches them. */
  readonly dispatch: (work: readonly { readonly key: Key; readonly runId?: RunId; readonly urgent?: boolean }[]) => void;
  /** Something this run created needs a kernel at `at` (a spawned child's deadline): arm the wake timer. */
  readonly wakeAt: (at: Millis) => void;
  /** This run's scratch directory, created on first use. */
  readonly scratchDir: () => Promise<string>;
  /** The execution's OpenTelemetry spans (a no-op without an SDK). */
  readonly trace: RunTrace;
  /** The kernel's lane leases of runs (`ctx.lane`). */
  readonly lanes: RunLanes;
}

/** Where a run is in its flow: what a parked frame records. */
export interface RunPosition {
  readonly seq: number;
  readonly name: string | undefined;
  /** Set once a provider turn at `seq` has started. */
  readonly turn: { readonly provider: string; readonly input: Json; readonly sessionId: string } | undefined;
}

/** A durable wait asked for by a flow call; the runtime adds the fence, the run and the time. */
export type WaitRequest = Omit<SuspendRun, keyof Fence | 'runId' | 'now'>;

/**
 * The journal cursor of one execution, as the durable calls (effects, children) use it.
 */
export interface DurableCursor {
  readonly runId: RunId;
  readonly key: Key;
  readonly fencingToken: FencingToken;
  readonly signal: AbortSignal;
  readonly env: RunEnvironment;
  /** Takes the next journal position for `name` (validated for `api`) and its recorded result, if any. */
  next(name: string, api: string): { readonly seq: number; readonly recorded: Json | undefined };
  /** Throws the run's interruption once it is interrupted or abandoned. */
  live(): void;
  /** Marks where the flow is (for a parked frame). */
  at(seq: number, name: string): void;
  /** Journals `value` at `seq` (plain JSON checked) and returns it. */
  commit(seq: number, name: string, value: unknown): Promise<Json>;
  /** Notes an outcome journaled by the store itself (a claim that found the effect delivered). */
  journaled(seq: number, name: string, value: Json): void;
  /**
   * Enters a durable wait. Never resolves once entered (this execution is over); resolves false
   * when a `child` wait was not entered because that run had already ended.
   */
  suspend(request: WaitRequest): Promise<false>;
  /** The store already put the run in `wait` (a failed effect's backoff): this execution is over. */
  endInWait(wait: WaitRequest['wait']): Promise<never>;
}
