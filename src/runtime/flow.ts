import type { FencingToken, Json, Key, RunId } from '../model/index.js';
import { InvalidInputError } from '../errors.js';
import { checkWellFormed } from '../core/well-formed-text.js';

/**
 * What a flow sees of the runtime: the only way product code reaches durability. It cannot reach
 * the store, the lease, or other keys.
 */
export interface FlowContext {
  readonly runId: RunId;
  readonly key: Key;
  /** 1 on the first execution of the run, +1 each time it is recovered or re-run. */
  readonly attempt: number;
  /**
   * Aborted when the run must stop now: kernel stop, cancellation, preemption, another owner took
   * the key, or this kernel can no longer prove it owns the key (paused or hung past its lease).
   * Code that does not look at it is abandoned after the kernel's `interruptGraceMs`.
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
   * Runs `fn` and journals its JSON result under `name`.
   *
   * - Process dies before `fn` finishes, or before the commit returns: the step is not committed;
   *   when the run is recovered `fn` runs again (at-least-once for the step in flight).
   * - Commit returned: the step is committed; every later execution of this run returns the
   *   journaled result without calling `fn` (exactly-once for committed steps).
   * - `fn` throws a `RetryableError`: it runs again after the error's `retryAfterMs` or a backoff
   *   (1 s, 2 s, ...), up to 3 attempts in all, then the error fails the run. A `TerminalError`, or
   *   any other error, is not retried.
   * - `options.timeoutMs` passes: the step is abandoned (`step:abandoned`), `fn`'s signal aborts,
   *   and the step throws `StepTimeoutError` (code `step_timeout`); whatever `fn` still returns is
   *   discarded. In-process code cannot be killed: code that must be stoppable belongs in a
   *   provider child process (`ctx.turn`).
   * - The store is unavailable when the step commits: the commit is retried with backoff, the
   *   result kept in memory, for as long as the kernel can prove it owns the key.
   *
   * `fn` receives a signal that aborts on interruption or timeout. Step names and their order must
   * be deterministic for a run: a re-run that reaches a different name at a journaled position
   * fails the run with `journal_divergence`. A result of `undefined` is journaled as `null`;
   * anything that is not plain JSON fails the run (`invalid_step_result`).
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
}

export interface StepOptions {
  /** Abandon the step after this many milliseconds (default: no limit). */
  readonly timeoutMs?: number;
}

export interface TurnOptions {
  /** Provider session identity (default: the run id). */
  readonly session?: string;
  /** Journal name of the turn (default `turn:<provider>`). */
  readonly name?: string;
  /** Abort the provider after this many milliseconds (default: no limit). */
  readonly timeoutMs?: number;
}

/**
 * A registered unit of work. Build with `defineFlow`. Input and output types are the caller's
 * (interfaces welcome); the kernel checks at run time that they are plain JSON.
 */
export interface Flow<I = Json, O = unknown> {
  readonly name: string;
  readonly run: (ctx: FlowContext, input: I) => Promise<O>;
}

/**
 * Declares a flow. The function must reach durability only through `ctx`, and must be
 * deterministic in the order and names of its steps given its input and step results.
 */
export function defineFlow<I = Json, O = unknown>(name: string, run: (ctx: FlowContext, input: I) => Promise<O>): Flow<I, O> {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidInputError('defineFlow needs a non-empty name (it is how submits refer to the flow)', 'invalid_flow_name');
  }
  checkWellFormed(name, `defineFlow name ${JSON.stringify(name)}`, 'invalid_flow_name');
  if (typeof run !== 'function')
    throw new InvalidInputError(`defineFlow("${name}") needs a function as its second argument`, 'invalid_flow');
  return { name, run };
}

/** Checks a step or turn option `timeoutMs`: absent, or a positive finite number. */
export function checkTimeout(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(
      `${where}: timeoutMs must be a positive number of milliseconds, got ${JSON.stringify(value) ?? typeof value}`,
      'invalid_timeout',
    );
  }
  return value;
}
