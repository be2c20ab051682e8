import { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
import { findNonJson } from '../core/json-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { HoldfastError, JournalDivergenceError, RetryableError, StepTimeoutError, UnknownProviderError } from '../errors.js';
import type { FencingToken, Json, ParkedFrame, RunRecord, StepRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Provider } from '../ports/provider.js';
import type { KernelEventEmitter } from './events.js';
import { checkTimeout, type FlowContext, type StepOptions, type TurnOptions } from './flow.js';
import { runProviderTurn } from './provider-turn.js';
import { toRunError } from './run-error.js';

/** How a step that throws RetryableError is retried until a retry policy is given: 3 attempts. */
export const DEFAULT_STEP_RETRY: BackoffPolicy & { readonly maxAttempts: number } = {
  maxAttempts: 3,
  initialMs: 1_000,
  maxMs: 30_000,
  factor: 2,
};

export interface RunEnvironment {
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  /** Owned by the key runtime: aborted when the run must stop (see FlowContext.signal). */
  readonly signal: AbortSignal;
  readonly fencingToken: FencingToken;
  readonly providers: ReadonlyMap<string, Provider>;
  /** The frame the run was parked with, when it is being resumed. */
  readonly frame: ParkedFrame | undefined;
  /** Checked before every turn starts: interrupts the run (aborts `signal`) if urgent demand is pending. */
  readonly beforeTurn: () => Promise<void>;
  /**
   * Commits a step durably, fenced by the runtime's epoch, retrying while the store is
   * unavailable. Rejects with the signal's reason when the runtime cannot (or may no longer)
   * commit: the lease cannot be proven, another owner took the key, the run was interrupted.
   */
  readonly commit: (step: { readonly seq: number; readonly name: string; readonly result: Json }) => Promise<void>;
}

/** Where a run is in its flow: what a parked frame records. */
export interface RunPosition {
  readonly seq: number;
  readonly name: string | undefined;
  /** Set once a provider turn at `seq` has started. */
  readonly turn: { readonly provider: string; readonly input: Json; readonly sessionId: string } | undefined;
}

/**
 * The FlowContext of one execution of a run: replays committed steps from the journal, runs and
 * commits new ones through the runtime, and runs provider turns under the run's signal. Once the
 * runtime abandons the execution (`abandon()`), every further call throws and nothing commits.
 */
export class JournaledContext implements FlowContext {
  readonly runId: string;
  readonly key: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly fencingToken: FencingToken;
  position: RunPosition = { seq: 0, name: undefined, turn: undefined };
  private abandoned = false;
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
    this.fencingToken = env.fencingToken;
    for (const step of journal) this.journal.set(step.seq, step);
  }

  /** The runtime stopped waiting for this execution: nothing it does from now on counts. */
  abandon(): void {
    this.abandoned = true;
  }

  async step<T>(
    name: string,
    fn: (step: { readonly signal: AbortSignal }) => Promise<T> | T,
    options: StepOptions = {},
  ): Promise<T extends undefined | void ? null : T> {
    type R = T extends undefined | void ? null : T;
    const seq = this.claimSeq(name, 'ctx.step');
    const timeoutMs = checkTimeout(options.timeoutMs, `ctx.step("${name}")`);
    const recorded = this.replayed(seq, name);
    if (recorded !== undefined) return recorded.result as R;
    this.checkLive();
    this.position = { seq, name, turn: undefined };
    let value: T;
    for (let attempt = 1; ; attempt++) {
      try {
        value = await this.runStepFunction(name, seq, fn, timeoutMs);
        break;
      } catch (error) {
        this.checkLive();
        if (!(error instanceof RetryableError) || attempt >= DEFAULT_STEP_RETRY.maxAttempts) throw error;
        const delayMs = error.retryAfterMs ?? backoffDelay(DEFAULT_STEP_RETRY, attempt);
        const failure = toRunError(error, 'retryable');
        this.env.events.emit('step:retrying', { runId: this.runId, key: this.key, seq, name, attempt, delayMs, error: failure });
        await this.pause(delayMs);
      }
    }
    return (await this.commit(seq, name, value === undefined ? null : value, 'step')) as R;
  }

  async turn<T = Json>(providerName: string, input: Json, options: TurnOptions = {}): Promise<T> {
    const name = options.name ?? `turn:${providerName}`;
    const seq = this.claimSeq(name, 'ctx.turn');
    const timeoutMs = checkTimeout(options.timeoutMs, `ctx.turn("${name}")`);
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
    // A turn re-issued from a frame counts as started already: if the run is parked again before
    // the re-issue starts, the new frame still names the interrupted turn and its session.
    this.position = { seq, name, turn: resumed ? { provider: providerName, input, sessionId } : undefined };
    this.checkLive();
    await this.env.beforeTurn();
    this.checkLive();
    this.position = { seq, name, turn: { provider: providerName, input, sessionId } };
    const value = await runProviderTurn({
      provider,
      providerName,
      name,
      runId: this.runId,
      key: this.key,
      seq,
      attempt: this.attempt,
      epoch: this.fencingToken.epoch,
      input,
      sessionId,
      interrupted: resumed,
      timeoutMs,
      signal: this.signal,
      events: this.env.events,
      clock: this.env.clock,
    });
    const committed = await this.commit(seq, name, value, 'turn');
    this.env.events.emit('turn:completed', { runId: this.runId, key: this.key, seq, provider: providerName });
    return committed as T;
  }

  /** A journaled step the flow did not reach this time: a sign of non-determinism. */
  unreachedJournalStep(): StepRecord | undefined {
    for (const [seq, step] of this.journal) if (seq >= this.nextSeq) return step;
    return undefined;
  }

  /** Throws the run's interruption once it is interrupted or abandoned. */
  private checkLive(): void {
    this.signal.throwIfAborted();
    if (this.abandoned) throw new HoldfastError('abandoned', `run ${this.runId} was abandoned by its runtime; this call does nothing`);
  }

  private claimSeq(name: string, api: string): number {
    this.checkLive();
    if (typeof name !== 'string' || name === '')
      throw new HoldfastError('invalid_step_name', `${api} needs a non-empty name (run ${this.runId})`);
    checkWellFormed(name, `${api} name ${JSON.stringify(name)}`, 'invalid_step_name');
    return this.nextSeq++;
  }

  private replayed(seq: number, name: string): { result: Json } | undefined {
    const recorded = this.journal.get(seq);
    if (!recorded) return undefined;
    if (recorded.name !== name) throw new JournalDivergenceError(this.runId, seq, recorded.name, name);
    return { result: structuredClone(recorded.result) };
  }

  /**
   * Calls a step's function with a signal that aborts on interruption (the run's own, when the step
   * has no timeout) or on its timeout. With a timeout, stops waiting for the function when the
   * timeout passes: the step is abandoned and throws StepTimeoutError, and whatever the function
   * still returns is discarded.
   */
  private async runStepFunction<T>(
    name: string,
    seq: number,
    fn: (step: { readonly signal: AbortSignal }) => Promise<T> | T,
    timeoutMs: number | undefined,
  ): Promise<T> {
    if (timeoutMs === undefined) return await callNow(fn, this.signal);
    const controller = new AbortController();
    const forward = () => controller.abort(this.signal.reason);
    this.signal.addEventListener('abort', forward, { once: true });
    let timer: { cancel(): void } | undefined;
    try {
      const running = callNow(fn, controller.signal);
      const timedOut = new Promise<never>((_, reject) => {
        timer = this.env.clock.setTimer(timeoutMs, () => {
          const error = new StepTimeoutError('step', name, this.runId, timeoutMs);
          controller.abort(error);
          this.env.events.emit('step:abandoned', { runId: this.runId, key: this.key, seq, name, reason: 'timeout' });
          reject(error);
        });
      });
      running.catch(() => undefined); // a late failure of an abandoned step is discarded
      return await Promise.race([running, timedOut]);
    } finally {
      timer?.cancel();
      this.signal.removeEventListener('abort', forward);
    }
  }

  /** Waits `ms` on the clock, or until the run is interrupted (then throws its reason). */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        timer.cancel();
        reject(this.signal.reason as Error);
      };
      const timer = this.env.clock.setTimer(ms, () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      });
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async commit(seq: number, name: string, value: unknown, what: 'step' | 'turn'): Promise<Json> {
    const bad = findNonJson(value, 'result');
    if (bad !== undefined) {
      throw new HoldfastError(
        `invalid_${what}_result`,
        `${what} "${name}" of run ${this.runId} returned a value that is not plain JSON at ${bad}; return only JSON data`,
      );
    }
    // Nothing is committed once the run is interrupted or abandoned.
    this.checkLive();
    await this.env.commit({ seq, name, result: value as Json });
    this.journal.set(seq, { runId: this.runId, seq, name, result: value as Json, epoch: this.fencingToken.epoch, committedAt: 0 });
    this.position = { seq: seq + 1, name: undefined, turn: undefined };
    this.env.events.emit('step:committed', { runId: this.runId, key: this.key, seq, name });
    return value as Json;
  }
}

/** Calls a step function at once (no await before it) and returns its outcome as a promise. */
function callNow<T>(fn: (step: { readonly signal: AbortSignal }) => Promise<T> | T, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fn({ signal }));
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the step's own throw passes through unchanged
    return Promise.reject(error);
  }
}
