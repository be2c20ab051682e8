import { findNonJson } from '../core/json-value.js';
import { HoldfastError, JournalDivergenceError, StaleEpochError, UnknownProviderError } from '../errors.js';
import type { Json, ParkedFrame, RunRecord, StepRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Provider } from '../ports/provider.js';
import type { Fence, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { FlowContext, TurnOptions } from './flow.js';

export interface RunEnvironment {
  readonly store: Store;
  readonly fence: Fence;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  readonly signal: AbortSignal;
  readonly providers: ReadonlyMap<string, Provider>;
  /** The frame the run was parked with, when it is being resumed. */
  readonly frame: ParkedFrame | undefined;
  /** Checked before every turn starts: interrupts the run (aborts `signal`) if urgent demand is pending. */
  readonly beforeTurn: () => Promise<void>;
}

/** Where a run is in its flow: what a parked frame records. */
export interface RunPosition {
  readonly seq: number;
  /** Set once a provider turn at `seq` has started. */
  readonly turn: { readonly provider: string; readonly input: Json; readonly sessionId: string } | undefined;
}

/**
 * The FlowContext of one execution of a run: replays committed steps from the journal, runs and
 * commits new ones through the fenced store, and runs provider turns under the run's signal.
 */
export class JournaledContext implements FlowContext {
  readonly runId: string;
  readonly key: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  lost = false;
  position: RunPosition = { seq: 0, turn: undefined };
  private nextSeq = 0;
  private readonly journal = new Map<number, StepRecord>();

  constructor(
    run: RunRecord,
    journal: readonly StepRecord[],
    private readonly env: RunEnvironment,
  ) {
    this.runId = run.id;
    this.key = run.key;
    this.attempt = run.attempts;
    this.signal = env.signal;
    for (const step of journal) this.journal.set(step.seq, step);
  }

  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T extends undefined | void ? null : T> {
    type R = T extends undefined | void ? null : T;
    const seq = this.claimSeq(name, 'ctx.step');
    const recorded = this.replayed(seq, name);
    if (recorded !== undefined) return recorded.result as R;
    this.signal.throwIfAborted();
    this.position = { seq, turn: undefined };
    const value = await fn();
    return (await this.commit(seq, name, value === undefined ? null : value, 'step')) as R;
  }

  async turn<T = Json>(providerName: string, input: Json, options: TurnOptions = {}): Promise<T> {
    const name = options.name ?? `turn:${providerName}`;
    const seq = this.claimSeq(name, 'ctx.turn');
    const recorded = this.replayed(seq, name);
    if (recorded !== undefined) return recorded.result as T;
    const provider = this.env.providers.get(providerName);
    if (!provider) throw new UnknownProviderError(providerName, [...this.env.providers.keys()]);
    const bad = findNonJson(input, 'input');
    if (bad !== undefined)
      throw new HoldfastError('invalid_turn_input', `turn "${name}" of run ${this.runId}: input is not plain JSON at ${bad}`);
    const frame = this.env.frame;
    const resumed = frame !== undefined && frame.turnSeq === seq && frame.provider === providerName;
    const sessionId = options.session ?? (resumed ? frame.sessionId : null) ?? this.runId;
    this.position = { seq, turn: undefined };
    this.signal.throwIfAborted();
    await this.env.beforeTurn();
    this.signal.throwIfAborted();
    this.position = { seq, turn: { provider: providerName, input, sessionId } };
    const value = await this.runProviderTurn(provider, providerName, seq, input, sessionId, resumed);
    const committed = await this.commit(seq, name, value, 'turn');
    this.env.events.emit('turn:completed', { runId: this.runId, key: this.key, seq, provider: providerName });
    return committed as T;
  }

  /** A journaled step the flow did not reach this time: a sign of non-determinism. */
  unreachedJournalStep(): StepRecord | undefined {
    for (const [seq, step] of this.journal) if (seq >= this.nextSeq) return step;
    return undefined;
  }

  private claimSeq(name: string, api: string): number {
    if (typeof name !== 'string' || name === '')
      throw new HoldfastError('invalid_step_name', `${api} needs a non-empty name (run ${this.runId})`);
    return this.nextSeq++;
  }

  private replayed(seq: number, name: string): { result: Json } | undefined {
    const recorded = this.journal.get(seq);
    if (!recorded) return undefined;
    if (recorded.name !== name) throw new JournalDivergenceError(this.runId, seq, recorded.name, name);
    return { result: structuredClone(recorded.result) };
  }

  /**
   * Runs the provider under a per-turn controller linked to the run's signal, and returns as soon
   * as either the provider answers or the run is interrupted. After an interruption the provider
   * keeps settling in the background; whatever it answers then is discarded (K7).
   */
  private async runProviderTurn(
    provider: Provider,
    name: string,
    seq: number,
    input: Json,
    sessionId: string,
    interrupted: boolean,
  ): Promise<unknown> {
    const ids = { runId: this.runId, key: this.key, seq };
    const controller = new AbortController();
    const forward = () => controller.abort(this.signal.reason);
    this.signal.addEventListener('abort', forward, { once: true });
    this.env.events.emit('turn:started', { ...ids, provider: name, attempt: this.attempt, sessionId, interrupted });
    const pending = provider.runTurn({
      turn: { runId: this.runId, turnSeq: seq, attempt: this.attempt, epoch: this.env.fence.epoch },
      input,
      sessionId,
      interrupted,
      signal: controller.signal,
      onChunk: (chunk) => {
        if (!controller.signal.aborted) this.env.events.emit('turn:output', { ...ids, chunk });
      },
      onProcessGroup: (pgid) => this.env.events.emit('turn:process', { ...ids, pgid }),
    });
    try {
      return await untilAborted(pending, controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      this.env.events.emit('turn:preempted', {
        ...ids,
        provider: name,
        reason: String((this.signal.reason as Error | undefined)?.message ?? this.signal.reason),
      });
      pending.then(
        () => this.env.events.emit('turn:late-result', { ...ids, provider: name, attempt: this.attempt }),
        () => this.env.events.emit('turn:aborted', { ...ids, provider: name }),
      );
      throw this.signal.reason;
    } finally {
      this.signal.removeEventListener('abort', forward);
    }
  }

  private async commit(seq: number, name: string, value: unknown, what: 'step' | 'turn'): Promise<Json> {
    const bad = findNonJson(value, 'result');
    if (bad !== undefined) {
      throw new HoldfastError(
        `invalid_${what}_result`,
        `${what} "${name}" of run ${this.runId} returned a value that is not plain JSON at ${bad}; return only JSON data`,
      );
    }
    // Nothing is committed once the run is interrupted: a stolen or dropped run records no more.
    this.signal.throwIfAborted();
    try {
      await this.env.store.commitStep({
        ...this.env.fence,
        runId: this.runId,
        seq,
        name,
        result: value as Json,
        now: this.env.clock.now(),
      });
    } catch (error) {
      if (error instanceof StaleEpochError) this.lost = true;
      throw error;
    }
    this.journal.set(seq, { runId: this.runId, seq, name, result: value as Json, epoch: this.env.fence.epoch, committedAt: 0 });
    this.position = { seq: seq + 1, turn: undefined };
    this.env.events.emit('step:committed', { runId: this.runId, key: this.key, seq, name });
    return value as Json;
  }
}

/** Settles like `pending`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason as Error);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the provider's rejection passes through unchanged
        reject(error);
      },
    );
  });
}
