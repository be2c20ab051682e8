import { findNonJson } from '../core/json-value.js';
import { checkRetryPolicy, retryDecision } from '../core/retry-policy.js';
import { shownValue } from '../core/shown-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { HoldfastError, InvalidInputError, JournalDivergenceError, UnknownProviderError } from '../errors.js';
import type { FencingToken, Json, RunRecord, StepRecord } from '../model/index.js';
import { joinChild, spawnChild } from './child-calls.js';
import { runEffect } from './effect-call.js';
import { runLane, type LaneCursor } from './lane-call.js';
import type { RunLanes } from './lane-runs.js';
import {
  checkTimeout,
  type ChildRun,
  type EffectCall,
  type EffectOptions,
  type FlowContext,
  type LaneHandle,
  type LaneOptions,
  type LaneSpec,
  type SpawnOptions,
  type StepOptions,
  type TurnOptions,
} from './flow.js';
import { runProviderTurn } from './provider-turn.js';
import { toRunError } from './run-error.js';
import type { DurableCursor, RunEnvironment, RunPosition, WaitRequest } from './run-environment.js';
import { callStepFunction } from './step-function.js';

export type { RunEnvironment, RunPosition } from './run-environment.js';

/**
 * The FlowContext of one execution of a run: replays journaled calls, runs and journals new ones
 * through the runtime, runs provider turns under the run's signal, and enters durable waits. Once
 * the runtime abandons the execution (`abandon()`), or the execution entered a wait, every further
 * call throws and nothing commits.
 */
export class JournaledContext implements FlowContext, DurableCursor, LaneCursor {
  readonly runId: string;
  readonly key: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly fencingToken: FencingToken;
  readonly flow: string;
  position: RunPosition = { seq: 0, name: undefined, turn: undefined };
  private abandoned = false;
  private nextSeq = 0;
  private readonly journalBySeq = new Map<number, StepRecord>();

  constructor(
    run: RunRecord,
    journal: readonly StepRecord[],
    readonly env: RunEnvironment,
  ) {
    this.runId = run.id;
    this.key = run.key;
    this.attempt = run.attempts;
    this.flow = run.flow;
    this.signal = env.signal;
    this.fencingToken = env.fencingToken;
    for (const step of journal) this.journalBySeq.set(step.seq, step);
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
    const { seq, recorded } = this.next(name, 'ctx.step');
    const timeoutMs = checkTimeout(options.timeoutMs, `ctx.step("${name}")`);
    const policy = checkRetryPolicy(options.retry, `ctx.step("${name}")`) ?? this.env.flowRetry;
    if (recorded !== undefined) return recorded as R;
    this.live();
    this.at(seq, name);
    const failures = this.env.attempts.filter((a) => a.seq === seq);
    const attempt = failures.length + 1;
    const pending = failures.at(-1)?.retryAt ?? null;
    if (pending !== null && pending > this.env.clock.now()) {
      await this.suspend({ wait: { kind: 'retry', wakeAt: pending, detail: { seq, name, attempt } } });
    }
    let value: T;
    const startedAt = this.env.clock.monotonic();
    try {
      value = await this.env.trace.child('holdfast.step', { 'holdfast.name': name, 'holdfast.seq': seq, 'holdfast.attempt': attempt }, () =>
        callStepFunction(this, { name, seq, fn, timeoutMs }),
      );
    } catch (error) {
      this.live();
      const decision = retryDecision(error, attempt, policy);
      if (!decision.retry) throw error;
      const failedAt = this.env.clock.now();
      const retryAt = failedAt + decision.delayMs;
      const failure = toRunError(error, 'step_failed');
      this.env.events.emit('step:retrying', {
        runId: this.runId,
        key: this.key,
        seq,
        name,
        attempt,
        delayMs: decision.delayMs,
        error: failure,
      });
      await this.suspend({
        failure: { seq, name, attempt, error: failure, failedAt, retryAt },
        wait: { kind: 'retry', wakeAt: retryAt, detail: { seq, name, attempt: attempt + 1 } },
      });
      throw error; // not reached: a retry wait is always entered
    }
    return (await this.commit(seq, name, value === undefined ? null : value, startedAt)) as R;
  }

  async turn<T = Json>(providerName: string, input: Json, options: TurnOptions = {}): Promise<T> {
    const name = options.name ?? `turn:${providerName}`;
    const { seq, recorded } = this.next(name, 'ctx.turn');
    const timeoutMs = checkTimeout(options.timeoutMs, `ctx.turn("${name}")`);
    if (recorded !== undefined) return recorded as T;
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
    this.live();
    await this.env.beforeTurn();
    this.live();
    this.position = { seq, name, turn: { provider: providerName, input, sessionId } };
    const startedAt = this.env.clock.monotonic();
    const spanAttributes = {
      'holdfast.name': name,
      'holdfast.seq': seq,
      'holdfast.attempt': this.attempt,
      'holdfast.provider': providerName,
      'holdfast.session_id': sessionId,
      'holdfast.resumed': resumed,
    };
    const value = await this.env.trace.child('holdfast.turn', spanAttributes, () =>
      runProviderTurn({
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
      }),
    );
    const committed = await this.commit(seq, name, value);
    const durationMs = this.env.clock.monotonic() - startedAt;
    this.env.events.emit('turn:completed', { runId: this.runId, key: this.key, seq, provider: providerName, durationMs });
    return committed as T;
  }

  effect<A extends Json>(
    name: string,
    fn: (effect: EffectCall) => Promise<A> | A,
    options?: EffectOptions & { origins?: readonly string[] },
  ): Promise<A> {
    return runEffect(this, name, fn, options ?? {}) as Promise<A>;
  }

  lane<T>(spec: LaneSpec, fn: (lane: LaneHandle) => Promise<T> | T, options?: LaneOptions): Promise<T extends undefined | void ? null : T> {
    return runLane(this, spec, fn, options) as Promise<T extends undefined | void ? null : T>;
  }

  get lanes(): RunLanes {
    return this.env.lanes;
  }

  async sleep(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidInputError(`ctx.sleep(ms): ms must be a finite number of milliseconds >= 0, got ${shownValue(ms)}`, 'invalid_sleep');
    }
    return this.timer('ctx.sleep', (now) => now + ms);
  }

  async sleepUntil(until: Date | number): Promise<void> {
    const at = until instanceof Date ? until.getTime() : until;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidInputError(
        `ctx.sleepUntil(until): until must be a valid Date or epoch milliseconds, got ${String(until)}`,
        'invalid_sleep',
      );
    }
    return this.timer('ctx.sleepUntil', () => at);
  }

  spawn(flow: string, input: Json = null, options: SpawnOptions = {}): Promise<ChildRun> {
    return spawnChild(this, flow, input, options);
  }

  join<T = Json>(child: ChildRun): Promise<T> {
    return joinChild(this, child) as Promise<T>;
  }

  async call<T = Json>(flow: string, input: Json = null, options: SpawnOptions = {}): Promise<T> {
    return this.join<T>(await this.spawn(flow, input, options));
  }

  async scratchDir(): Promise<string> {
    this.live();
    return this.env.scratchDir();
  }

  /** A journaled step the flow did not reach this time: a sign of non-determinism. */
  unreachedJournalStep(): StepRecord | undefined {
    for (const [seq, step] of this.journalBySeq) if (seq >= this.nextSeq) return step;
    return undefined;
  }

  next(name: string, api: string): { seq: number; recorded: Json | undefined } {
    this.live();
    if (typeof name !== 'string' || name === '')
      throw new HoldfastError('invalid_step_name', `${api} needs a non-empty name (run ${this.runId})`);
    checkWellFormed(name, `${api} name ${JSON.stringify(name)}`, 'invalid_step_name');
    const seq = this.nextSeq++;
    const journaled = this.journalBySeq.get(seq);
    if (!journaled) return { seq, recorded: undefined };
    if (journaled.name !== name) throw new JournalDivergenceError(this.runId, seq, journaled.name, name);
    return { seq, recorded: structuredClone(journaled.result) };
  }

  journaledAfter(seq: number, match: (step: StepRecord) => boolean): StepRecord | undefined {
    let first: StepRecord | undefined;
    for (const [at, step] of this.journalBySeq) if (at > seq && (first === undefined || at < first.seq) && match(step)) first = step;
    return first;
  }

  skipPast(seq: number): void {
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    this.position = { seq: this.nextSeq, name: undefined, turn: undefined };
  }

  live(): void {
    this.signal.throwIfAborted();
    if (this.abandoned) throw new HoldfastError('abandoned', `run ${this.runId} was abandoned by its runtime; this call does nothing`);
  }

  at(seq: number, name: string): void {
    this.position = { seq, name, turn: undefined };
  }

  /** Journals `value` at `seq`; `startedAt` (monotonic), for a `ctx.step`, times it in `step:committed`. */
  async commit(seq: number, name: string, value: unknown, startedAt?: number): Promise<Json> {
    const bad = findNonJson(value, 'result');
    if (bad !== undefined) {
      throw new HoldfastError(
        name.startsWith('turn:') ? 'invalid_turn_result' : 'invalid_step_result',
        `"${name}" of run ${this.runId} returned a value that is not plain JSON at ${bad}; return only JSON data`,
      );
    }
    // Nothing is committed once the run is interrupted or abandoned.
    this.live();
    await this.env.durable('commit step', () =>
      this.env.store.commitStep({ ...this.env.fence, runId: this.runId, seq, name, result: value as Json, now: this.env.clock.now() }),
    );
    this.journaled(seq, name, value as Json, startedAt);
    return value as Json;
  }

  journaled(seq: number, name: string, value: Json, startedAt?: number): void {
    this.journalBySeq.set(seq, { runId: this.runId, seq, name, result: value, epoch: this.fencingToken.epoch, committedAt: 0 });
    this.position = { seq: seq + 1, name: undefined, turn: undefined };
    const { runId, key } = this;
    if (startedAt === undefined) this.env.events.emit('step:committed', { runId, key, seq, name });
    else {
      const durationMs = this.env.clock.monotonic() - startedAt;
      this.env.events.emit('step:committed', { runId, key, seq, name, flow: this.flow, durationMs });
    }
  }

  async suspend(request: WaitRequest): Promise<false> {
    this.live();
    const { suspended } = await this.env.durable('suspend run', () =>
      this.env.store.suspendRun({ ...this.env.fence, runId: this.runId, now: this.env.clock.now(), ...request }),
    );
    if (!suspended) return false;
    return this.endInWait(request.wait);
  }

  endInWait(wait: WaitRequest['wait']): Promise<never> {
    this.abandoned = true;
    this.env.suspended(wait);
    return new Promise<never>(() => undefined); // this execution is over; the flow resumes in the next one
  }

  /** A durable timer at the position of its journaled deadline (computed once, then replayed). */
  private async timer(api: string, deadline: (now: number) => number): Promise<void> {
    const { seq, recorded } = this.next('sleep', api);
    const now = this.env.clock.now();
    if (recorded !== undefined) {
      const until = (recorded as { until: number }).until;
      if (now < until) await this.suspend({ wait: { kind: 'timer', wakeAt: until, detail: { seq } } });
      return;
    }
    this.at(seq, 'sleep');
    const until = deadline(now);
    if (until <= now) {
      await this.commit(seq, 'sleep', { until });
      return;
    }
    await this.suspend({ commit: { seq, name: 'sleep', result: { until } }, wait: { kind: 'timer', wakeAt: until, detail: { seq } } });
  }
}
