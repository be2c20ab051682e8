import { findNonJson } from '../core/json-value.js';
import { HoldfastError, JournalDivergenceError, StaleEpochError } from '../errors.js';
import type { Json, RunError, RunRecord, StepRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Fence, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { Flow, FlowContext } from './flow.js';

/** How the execution of a claimed run ended, before the runtime records it. */
export type RunOutcome =
  | { readonly kind: 'completed'; readonly result: Json }
  | { readonly kind: 'failed'; readonly error: RunError }
  /** Stopped by the runtime's signal before it finished; the run is not failed. */
  | { readonly kind: 'interrupted'; readonly reason: unknown }
  /** A fenced write was rejected: another runtime owns the key now. Nothing more may be written. */
  | { readonly kind: 'lost' };

export interface RunEnvironment {
  readonly store: Store;
  readonly fence: Fence;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  readonly signal: AbortSignal;
}

/**
 * Executes one claimed run of `flow` against its journal. Committed steps replay from the journal;
 * new steps run and commit through the fenced store. Does not record the outcome: the key runtime
 * does, so ending a run stays one decision in one place.
 */
export async function executeRun(flow: Flow, run: RunRecord, journal: readonly StepRecord[], env: RunEnvironment): Promise<RunOutcome> {
  const context = new JournaledContext(run, journal, env);
  let result: unknown;
  try {
    result = await flow.run(context, run.input);
  } catch (error) {
    if (context.lost || error instanceof StaleEpochError) return { kind: 'lost' };
    if (env.signal.aborted) return { kind: 'interrupted', reason: env.signal.reason };
    return { kind: 'failed', error: toRunError(error, 'flow_error') };
  }
  if (context.lost) return { kind: 'lost' };
  const unreached = context.unreachedJournalStep();
  if (unreached) {
    return {
      kind: 'failed',
      error: toRunError(new JournalDivergenceError(run.id, unreached.seq, unreached.name, '(flow returned before reaching it)'), 'journal_divergence'),
    };
  }
  const value = result === undefined ? null : result;
  const bad = findNonJson(value, 'result');
  if (bad !== undefined) {
    return { kind: 'failed', error: { code: 'invalid_run_result', message: `flow "${flow.name}" returned a value that is not plain JSON at ${bad}; return only JSON data` } };
  }
  return { kind: 'completed', result: value as Json };
}

class JournaledContext implements FlowContext {
  readonly runId: string;
  readonly key: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  lost = false;
  private nextSeq = 0;
  private readonly journal = new Map<number, StepRecord>();

  constructor(run: RunRecord, journal: readonly StepRecord[], private readonly env: RunEnvironment) {
    this.runId = run.id;
    this.key = run.key;
    this.attempt = run.attempts;
    this.signal = env.signal;
    for (const step of journal) this.journal.set(step.seq, step);
  }

  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T extends undefined | void ? null : T> {
    type R = T extends undefined | void ? null : T;
    if (typeof name !== 'string' || name === '') throw new HoldfastError('invalid_step_name', `ctx.step needs a non-empty name (run ${this.runId})`);
    const seq = this.nextSeq++;
    const recorded = this.journal.get(seq);
    if (recorded) {
      if (recorded.name !== name) throw new JournalDivergenceError(this.runId, seq, recorded.name, name);
      return structuredClone(recorded.result) as R;
    }
    this.signal.throwIfAborted();
    const raw = await fn();
    const value = raw === undefined ? null : raw;
    const bad = findNonJson(value, 'result');
    if (bad !== undefined) {
      throw new HoldfastError('invalid_step_result', `step "${name}" of run ${this.runId} returned a value that is not plain JSON at ${bad}; return only JSON data from steps`);
    }
    this.signal.throwIfAborted();
    try {
      await this.env.store.commitStep({ ...this.env.fence, runId: this.runId, seq, name, result: value as Json, now: this.env.clock.now() });
    } catch (error) {
      if (error instanceof StaleEpochError) this.lost = true;
      throw error;
    }
    this.journal.set(seq, { runId: this.runId, seq, name, result: value as Json, epoch: this.env.fence.epoch, committedAt: 0 });
    this.env.events.emit('step:committed', { runId: this.runId, key: this.key, seq, name });
    return value as R;
  }

  /** A journaled step the flow did not reach this time: a sign of non-determinism. */
  unreachedJournalStep(): StepRecord | undefined {
    for (const [seq, step] of this.journal) if (seq >= this.nextSeq) return step;
    return undefined;
  }
}

export function toRunError(error: unknown, fallbackCode: string): RunError {
  if (error instanceof HoldfastError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: fallbackCode, message: `${error.name}: ${error.message}` };
  return { code: fallbackCode, message: String(error) };
}
