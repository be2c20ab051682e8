import type { FencingToken, Json, Key, LaneMode, Priority, RunId } from '../model/index.js';

/**
 * What a flow sees of the runtime: the only way product code reaches durability. It cannot reach
 * the store, the lease, or other keys.
 *
 * A flow is re-executed from its start whenever its run is recovered, resumed, or woken from a
 * wait; every durable call already journaled returns its recorded outcome without doing anything
 * again. So step names, and the order of durable calls, must be deterministic for a run (derive
 * them from the input and earlier results only). A durable wait (`sleep`, a retry backoff, `join`
 * of an unfinished child, an effect's backoff) is like the process stopping at that point: the
 * call never returns in this execution, the key moves on to its other runs, and the flow runs
 * again when the wait ends; code after it (`finally` blocks included) runs in that execution.
 */
export interface FlowContext {
  readonly runId: RunId;
  readonly key: Key;
  /** 1 on the first execution of the run, +1 each time it is recovered, resumed or woken. */
  readonly attempt: number;
  /**
   * Aborted when the run must stop now: kernel stop, cancellation, preemption, deadline, another
   * owner took the key, or this kernel can no longer prove it owns the key (paused or hung past its
   * lease). Code that does not look at it is abandoned after the kernel's `interruptGraceMs`.
   */
  readonly signal: AbortSignal;
  /**
   * The key and the epoch this execution owns it at (K10). Epochs only grow. Hand it to external
   * systems that can check it: one that remembers the highest epoch seen for the key and refuses
   * lower ones rejects a write from an owner that was replaced while it was paused or hung, which
   * is the only protection an in-flight side effect has against that (the kernel stops committing
   * at once, but cannot recall a request already sent).
   */
  readonly fencingToken: FencingToken;

  /**
   * Runs `fn` and journals its JSON result under `name` (D1).
   *
   * - Process dies before `fn` finishes, or before the commit returns: the step is not committed;
   *   when the run is recovered `fn` runs again (at-least-once for the step in flight).
   * - Commit returned: the step is committed; every later execution of this run returns the
   *   journaled result without calling `fn` (exactly-once for committed steps).
   * - `fn` throws (D6): a `TerminalError` fails the run at once; a `RetryableError` is retried
   *   under `options.retry`, the flow's `retry`, or by default 3 attempts (1 s, then 2 s, or its
   *   `retryAfterMs`); any other error is retried only when a policy is given. Each failed
   *   attempt is journaled, and the run waits for the next one durably, without holding its key:
   *   a crash during the backoff keeps the original retry time. Out of attempts, the error fails
   *   the run.
   * - `options.timeoutMs` passes: the step is abandoned (`step:abandoned`), `fn`'s signal aborts,
   *   and the attempt fails with `StepTimeoutError` (code `step_timeout`); whatever `fn` still
   *   returns is discarded. In-process code cannot be killed: code that must be stoppable belongs
   *   in a provider child process (`ctx.turn`).
   * - The store is unavailable when the step commits: the commit is retried with backoff, the
   *   result kept in memory, for as long as the kernel can prove it owns the key.
   *
   * `fn` receives a signal that aborts on interruption or timeout. A result of `undefined` is
   * journaled as `null`; anything that is not plain JSON fails the run (`invalid_step_result`).
   */
  step<T>(
    name: string,
    fn: (step: { readonly signal: AbortSignal }) => Promise<T> | T,
    options?: StepOptions,
  ): Promise<T extends undefined | void ? null : T>;

  /**
   * Runs one provider turn (an agent CLI, an LLM stream) under a signal the runtime owns, streams
   * its output as `turn:output` events, and journals its JSON result like a step (D2).
   *
   * - Urgent work for the key interrupts the turn at once (K5): the provider is aborted (a child
   *   process group is killed) and the flow unwinds without waiting for it. With `steal` the run is
   *   parked and, after the urgent burst, re-issues this turn with the same session id and
   *   `interrupted: true`; with `abort-keep` it re-runs from its last committed step; with
   *   `abort-drop` it ends `cancelled`.
   * - `options.timeoutMs` passes: the provider is aborted (its process group killed) and the turn
   *   throws `StepTimeoutError` (code `turn_timeout`).
   * - Process dies during the turn: the turn is not committed and is issued again on recovery.
   * - A result that arrives after the interruption is discarded (`turn:late-result`, K7).
   * - A turn never starts while urgent demand is pending for the key.
   *
   * The session id defaults to the run id, so every turn of a run continues one provider session.
   */
  turn<T = Json>(provider: string, input: Json, options?: TurnOptions): Promise<T>;

  /**
   * An effect on the outside world, emitted at most once per effect key (D3): posting a reply,
   * calling an API. The effect is claimed durably, then `fn` emits it with
   * `{ idempotencyKey, fencingToken }` (pass the key on to the receiver, which can dedupe on it),
   * then its returned artifact (the posted comment's id) is recorded.
   *
   * - Process dies after the claim, before the record: on recovery `fn` runs again with the same
   *   idempotence key (a receiver that dedupes on it sees the effect once).
   * - After the record: never emitted again; every later execution, and any other run claiming
   *   the same key, gets the first artifact.
   * - `fn` throws: retried with backoff `min(1 h, 2^n s)` as a durable wait, for as long as it
   *   takes; a `TerminalError` instead fails the run and the effect stays failed.
   * - Another run holds the same key (in flight): this run waits for it, then gets its artifact.
   *
   * `options.key` defaults to one key per run and position. With `options.origins` (say, the
   * comments a reply answers), an origin already covered by another claimed or delivered effect is
   * not claimed again: `fn` gets only the origins still owed, and when none is, `fn` is not called
   * and the effect returns `undefined`.
   */
  effect<A extends Json>(name: string, fn: (effect: EffectCall) => Promise<A> | A, options?: EffectOptions): Promise<A>;
  effect<A extends Json>(
    name: string,
    fn: (effect: EffectCall) => Promise<A> | A,
    options: EffectOptions & { readonly origins: readonly string[] },
  ): Promise<A | undefined>;

  /**
   * Runs `fn` holding a lane lease (L1–L9) on `spec.tree`, so that no other run or lane holder
   * touches an overlapping tree meanwhile (docs/lanes.md). The lease is held by this run: taken
   * once per call position, beaten while `fn` runs, released when `fn` settles and whenever the
   * run ends. `fn`'s JSON result is journaled with the release: every later execution of the run
   * returns it without running `fn` or taking the lane again.
   *
   * - Refused (an overlapping exclusive lease, or the lane name held): with `onRefuse: 'wait'`
   *   (the default) the run waits durably, without holding its key, until the colliding lease is
   *   released (its holder run wakes it) or expires (its TTL + grace after its last beat), then
   *   asks again. With `'fail'` it throws `LaneRefusedError` (code `lane_refused`, naming the
   *   colliding lease and its holder); the refusal is journaled, so a re-run throws it again.
   * - Process dies before the acquire commits: nothing is held; the re-run acquires. After it:
   *   the lease is held by the run (`run:<runId>/<position>@<epoch>`), and the re-run resumes the
   *   same lease (adopted under the new owner's epoch) instead of taking a second one; `fn` runs
   *   again, its committed steps replaying. Nobody resumes it: it expires TTL + grace after its
   *   last beat (a run's lease is not reclaimed through its process's death).
   * - `fn` throws: the lane is released, the error passes through. The run is interrupted
   *   (cancel, deadline, preemption, stop) or fails: the lane is released when the run ends, or
   *   resumed by its next execution when it continues (parked, requeued).
   * - `fn` enters a durable wait (`ctx.sleep` inside it): the lease stays held but is no longer
   *   beaten; after TTL + grace it may be taken, and the resumed run then acquires again (a new
   *   generation) or waits.
   * - A beat finds the lease gone (the process was paused past TTL + grace and the tree was
   *   taken): `lane.signal` aborts and `ctx.lane` throws `LaneLostError` (code `lane_lost`).
   *
   * `fn` gets the lease id, the lane's generation (L8: pass it to anything that can refuse work
   * of a superseded generation), the run's fencing token and a signal. A run cannot wait for a
   * lane it holds itself: a nested `ctx.lane` overlapping an enclosing one throws `lane_refused`.
   */
  lane<T>(spec: LaneSpec, fn: (lane: LaneHandle) => Promise<T> | T, options?: LaneOptions): Promise<T extends undefined | void ? null : T>;

  /**
   * Waits `ms` durably (D4): the run waits without holding its key and is woken at the instant
   * first computed, even across crashes and restarts (the deadline is journaled, not the delay).
   */
  sleep(ms: number): Promise<void>;
  /** Waits durably until `until` (a Date or epoch milliseconds); see `sleep`. */
  sleepUntil(until: Date | number): Promise<void>;

  /**
   * Spawns a child run of `flow` (D7), on the parent's key unless `options.key` says otherwise.
   * The spawn is journaled with the child's enqueue in one transaction: a re-run never spawns the
   * same child twice and gets the same handle back.
   */
  spawn(flow: string, input?: Json, options?: SpawnOptions): Promise<ChildRun>;
  /**
   * Waits for a child to end and returns its result (throws `ChildFailedError`, code
   * `child_failed`, when it failed or was cancelled). Waiting is durable: the parent does not hold
   * its key meanwhile, so a child on the same key can run. A settled child's outcome is journaled
   * and returned from the journal on every re-run.
   */
  join<T = Json>(child: ChildRun): Promise<T>;
  /** `join(await spawn(flow, input, options))`. */
  call<T = Json>(flow: string, input?: Json, options?: SpawnOptions): Promise<T>;

  /**
   * A directory of this run's own (S5), created on first use and removed when the run ends. Keyed
   * by run id, never shared; only a run that holds its key gets one.
   */
  scratchDir(): Promise<string>;
}

export interface StepOptions {
  /** Abandon an attempt after this many milliseconds (default: no limit). */
  readonly timeoutMs?: number;
  /** How failed attempts are retried (default: the flow's policy, else see `FlowContext.step`). */
  readonly retry?: RetryOptions;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  readonly maxAttempts?: number;
  /** Wait after the first failure (default 1 000 ms). */
  readonly initialMs?: number;
  /** Longest wait (default 30 000 ms). */
  readonly maxMs?: number;
  /** Growth of the wait per failure (default 2). */
  readonly factor?: number;
}

export interface TurnOptions {
  /** Provider session identity (default: the run id). */
  readonly session?: string;
  /** Journal name of the turn (default `turn:<provider>`). */
  readonly name?: string;
  /** Abort the provider after this many milliseconds (default: no limit). */
  readonly timeoutMs?: number;
}

export interface EffectOptions {
  /** The effect's idempotence key (default: one per run and position). */
  readonly key?: string;
}

/** What an effect's function receives. */
export interface EffectCall {
  /** Pass it to the receiver so it can drop a repeat. Stable across retries and restarts. */
  readonly idempotencyKey: string;
  readonly fencingToken: FencingToken;
  /** 1 for the first emit, +1 for each retry. */
  readonly attempt: number;
  /** The origins this emit answers (those still owed). */
  readonly origins: readonly string[];
  /** Aborted when the run is interrupted. */
  readonly signal: AbortSignal;
}

export interface SpawnOptions {
  /** The child's key (default: the parent's). */
  readonly key?: Key;
  /** The child's priority (default `normal`). */
  readonly priority?: Priority;
  /** The child's deadline, from its spawn. */
  readonly deadlineMs?: number;
}

/** What `ctx.lane` asks for. */
export interface LaneSpec {
  /** The lane's name (one live lease per lane name). */
  readonly lane: string;
  /** The path prefixes `fn` touches, relative to the tree the lanes share (see docs/lanes.md). */
  readonly tree: readonly string[];
  /** `exclusive` (default) or `shared`: shared leases may overlap each other. */
  readonly mode?: LaneMode;
  /** The lease expires this long (+ the kernel's lane grace) after its last beat (default 50 minutes). */
  readonly ttlMs?: number;
}

export interface LaneOptions {
  /** A refused acquire waits durably (`wait`, the default) or throws `lane_refused` (`fail`). */
  readonly onRefuse?: 'wait' | 'fail';
}

/** What a `ctx.lane` function receives. */
export interface LaneHandle {
  readonly lane: string;
  /** The lease id (the seq of its acquire in the lane journal). */
  readonly lease: number;
  /** The lane's generation this lease holds (L8). */
  readonly generation: number;
  /** The normalised tree. */
  readonly tree: readonly string[];
  readonly mode: LaneMode;
  readonly fencingToken: FencingToken;
  /** Aborted when the run is interrupted or the lease can no longer be proven held. */
  readonly signal: AbortSignal;
}

/** A spawned child run. */
export interface ChildRun {
  readonly id: RunId;
  readonly key: Key;
  readonly flow: string;
}
