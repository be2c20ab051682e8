import { JournalDivergenceError } from '../errors.js';
import { findNonJson } from '../core/json-value.js';
import type { Json, RunError, RunRecord, StepRecord } from '../model/index.js';
import type { SuspendRun } from '../ports/store.js';
import type { Flow, FlowContext } from './flow.js';
import { JournaledContext, type RunEnvironment, type RunPosition } from './journaled-context.js';
import { toRunError } from './run-error.js';

export type { RunEnvironment, RunPosition } from './journaled-context.js';

/** How the execution of a claimed run ended, before the runtime records it. */
export type RunOutcome =
  | { readonly kind: 'completed'; readonly result: Json }
  | { readonly kind: 'failed'; readonly error: RunError }
  /** Stopped by the runtime's signal before it finished; `at` is where, for a parked frame. */
  | { readonly kind: 'interrupted'; readonly reason: unknown; readonly at: RunPosition }
  /** Entered a durable wait (already recorded): nothing more to record. */
  | { readonly kind: 'suspended'; readonly wait: SuspendRun['wait'] };

/** One execution of a run in progress. */
export interface Execution {
  /** Settles when the flow function returns or throws (never rejects). */
  readonly done: Promise<RunOutcome>;
  /** Where the flow is now. */
  position(): RunPosition;
  /** The runtime stops waiting for the flow: nothing it does from now on counts. */
  abandon(): void;
}

/**
 * Starts one execution of a claimed run of `flow` against its journal. Does not record the
 * outcome: the key runtime does, so ending a run stays one decision in one place.
 */
export function startExecution(flow: Flow, run: RunRecord, journal: readonly StepRecord[], env: RunEnvironment): Execution {
  const context = new JournaledContext(run, journal, env);
  return {
    done: execute(flow, run, context, env.signal),
    position: () => context.position,
    abandon: () => context.abandon(),
  };
}

async function execute(flow: Flow, run: RunRecord, context: JournaledContext, signal: AbortSignal): Promise<RunOutcome> {
  let result: unknown;
  try {
    result = await flow.run(flowFacade(context), run.input);
  } catch (error) {
    if (signal.aborted) return { kind: 'interrupted', reason: signal.reason, at: context.position };
    return { kind: 'failed', error: toRunError(error, 'flow_error') };
  }
  if (signal.aborted) return { kind: 'interrupted', reason: signal.reason, at: context.position };
  const unreached = context.unreachedJournalStep();
  if (unreached) {
    const error = new JournalDivergenceError(run.id, unreached.seq, unreached.name, '(flow returned before reaching it)');
    return { kind: 'failed', error: toRunError(error, 'journal_divergence') };
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
    fencingToken: context.fencingToken,
    step: context.step.bind(context),
    turn: context.turn.bind(context),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- bind() drops the overloads of FlowContext.effect
    effect: context.effect.bind(context) as FlowContext['effect'],
    lane: context.lane.bind(context),
    sleep: context.sleep.bind(context),
    sleepUntil: context.sleepUntil.bind(context),
    spawn: context.spawn.bind(context),
    join: context.join.bind(context),
    call: context.call.bind(context),
    scratchDir: context.scratchDir.bind(context),
  });
}
