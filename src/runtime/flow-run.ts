import { JournalDivergenceError, StaleEpochError, HoldfastError } from '../errors.js';
import { findNonJson } from '../core/json-value.js';
import type { Json, RunError, RunRecord, StepRecord } from '../model/index.js';
import type { Flow, FlowContext } from './flow.js';
import { JournaledContext, type RunEnvironment, type RunPosition } from './journaled-context.js';

export type { RunEnvironment, RunPosition } from './journaled-context.js';

/** How the execution of a claimed run ended, before the runtime records it. */
export type RunOutcome =
  | { readonly kind: 'completed'; readonly result: Json }
  | { readonly kind: 'failed'; readonly error: RunError }
  /** Stopped by the runtime's signal before it finished; `at` is where, for a parked frame. */
  | { readonly kind: 'interrupted'; readonly reason: unknown; readonly at: RunPosition }
  /** A fenced write was rejected: another runtime owns the key now. Nothing more may be written. */
  | { readonly kind: 'lost' };

/**
 * Executes one claimed run of `flow` against its journal. Does not record the outcome: the key
 * runtime does, so ending a run stays one decision in one place.
 */
export async function executeRun(flow: Flow, run: RunRecord, journal: readonly StepRecord[], env: RunEnvironment): Promise<RunOutcome> {
  const context = new JournaledContext(run, journal, env);
  let result: unknown;
  try {
    result = await flow.run(flowFacade(context), run.input);
  } catch (error) {
    if (context.lost || error instanceof StaleEpochError) return { kind: 'lost' };
    if (env.signal.aborted) return { kind: 'interrupted', reason: env.signal.reason, at: context.position };
    return { kind: 'failed', error: toRunError(error, 'flow_error') };
  }
  if (context.lost) return { kind: 'lost' };
  if (env.signal.aborted) return { kind: 'interrupted', reason: env.signal.reason, at: context.position };
  const unreached = context.unreachedJournalStep();
  if (unreached) {
    return {
      kind: 'failed',
      error: toRunError(
        new JournalDivergenceError(run.id, unreached.seq, unreached.name, '(flow returned before reaching it)'),
        'journal_divergence',
      ),
    };
  }
  const value = result === undefined ? null : result;
  const bad = findNonJson(value, 'result');
  if (bad !== undefined) {
    return {
      kind: 'failed',
      error: {
        code: 'invalid_run_result',
        message: `flow "${flow.name}" returned a value that is not plain JSON at ${bad}; return only JSON data`,
      },
    };
  }
  return { kind: 'completed', result: value as Json };
}

/**
 * What a flow receives: only the documented members, frozen, so product code cannot reach the
 * store, the fence or the journal behind them even with a cast (K9).
 */
function flowFacade(context: JournaledContext): FlowContext {
  return Object.freeze({
    runId: context.runId,
    key: context.key,
    attempt: context.attempt,
    signal: context.signal,
    step: context.step.bind(context),
    turn: context.turn.bind(context),
  });
}

export function toRunError(error: unknown, fallbackCode: string): RunError {
  if (error instanceof HoldfastError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: fallbackCode, message: `${error.name}: ${error.message}` };
  return { code: fallbackCode, message: String(error) };
}
