import type { Json, Key, RunId } from '../model/index.js';
import { InvalidInputError } from '../errors.js';

/**
 * What a flow sees of the runtime: the only way product code reaches durability. It cannot reach
 * the store, the lease, or other keys.
 */
export interface FlowContext {
  readonly runId: RunId;
  readonly key: Key;
  /** 1 on the first execution of the run, +1 each time it is recovered or re-run. */
  readonly attempt: number;
  /** Aborted when the run must stop now: kernel stop, lost ownership, cancellation. */
  readonly signal: AbortSignal;

  /**
   * Runs `fn` and journals its JSON result under `name`.
   *
   * - Process dies before `fn` finishes, or before the commit returns: the step is not committed;
   *   when the run is recovered `fn` runs again (at-least-once for the step in flight).
   * - Commit returned: the step is committed; every later execution of this run returns the
   *   journaled result without calling `fn` (exactly-once for committed steps).
   *
   * Step names and their order must be deterministic for a run: a re-run that reaches a different
   * name at a journaled position fails the run with `journal_divergence`. A result of `undefined`
   * is journaled as `null`; anything that is not plain JSON fails the run (`invalid_step_result`).
   */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T extends undefined | void ? null : T>;
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
export function defineFlow<I = Json, O = unknown>(
  name: string,
  run: (ctx: FlowContext, input: I) => Promise<O>,
): Flow<I, O> {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidInputError('defineFlow needs a non-empty name (it is how submits refer to the flow)', 'invalid_flow_name');
  }
  if (typeof run !== 'function') throw new InvalidInputError(`defineFlow("${name}") needs a function as its second argument`, 'invalid_flow');
  return { name, run };
}
