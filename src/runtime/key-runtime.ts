import { interruptEffect, type InterruptReason } from '../core/interrupt.js';
import { decidePreemption } from '../core/preemption.js';
import { StaleEpochError, UnknownFlowError } from '../errors.js';
import type { Key, OwnerLease, ParkedFrame, RunError, RunRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Provider } from '../ports/provider.js';
import type { ClaimedRun, Fence, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { Flow } from './flow.js';
import { executeRun, type RunOutcome, type RunPosition } from './flow-run.js';
import { RunInterrupt } from './run-interrupt.js';
import type { Slots } from './slots.js';

export interface KeyRuntimeDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  readonly flows: ReadonlyMap<string, Flow>;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly slots: Slots;
  readonly logger: Logger;
  /** Called once when the runtime has stopped; `rewake` asks the kernel to dispatch the key again. */
  readonly onExit: (runtime: KeyRuntime, rewake: boolean) => void;
}

/** What the kernel tells a runtime when something arrived for its key. */
export interface Notice {
  /** An urgent command was durably recorded: check whether to preempt. */
  readonly urgent?: boolean;
  /** A cancel was durably requested for this run. */
  readonly cancelRunId?: string;
}

/**
 * The actor that owns one key (K1, K4, K5). At most one exists per key per kernel, and only while
 * the kernel holds the key's owner lease. It is the only thing that writes the key's state, always
 * stamped with its lease's epoch.
 *
 * Modes and transitions:
 *   claiming  -> executing   a run was claimed in mailbox order (in flight, urgent, parked, normal,
 *                            background); a parked run is resumed from its frame
 *   executing -> claiming    the run ended, or was interrupted and then parked (steal), requeued
 *                            (abort-keep, operator keep) or cancelled (abort-drop, operator drop)
 *   claiming  -> exited      the mailbox is empty and the lease was released in the transaction
 *                            that saw it empty (a racing submit keeps the key owned)
 *   any       -> exited      stop() (active run interrupted and requeued, lease released) or
 *                            lose() (another owner holds the key: nothing more is written)
 *
 * Interrupt decisions are made from durable state only (the store's urgent demand and cancel
 * requests), never from a wake message alone: a lost signal costs latency, never correctness.
 */
export class KeyRuntime {
  readonly key: Key;
  readonly epoch: number;
  private readonly fence: Fence;
  private state: 'claiming' | 'executing' | 'stopping' | 'lost' | 'exited' = 'claiming';
  private wakeRequested = false;
  private active: { run: RunRecord; controller: AbortController } | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    lease: OwnerLease,
    private readonly deps: KeyRuntimeDeps,
  ) {
    this.key = lease.key;
    this.epoch = lease.epoch;
    this.fence = { key: lease.key, ownerId: lease.ownerId ?? '', epoch: lease.epoch };
  }

  start(): void {
    this.loopDone = this.loop()
      .catch((error: unknown) => this.deps.events.emit('kernel:error', { error, context: `key runtime ${this.key}` }))
      .finally(() => this.exit());
  }

  /**
   * New work or a cancel was durably recorded for this key: claim again before deciding the key is
   * idle, and interrupt the active run if the durable state says so.
   */
  notify(notice: Notice = {}): void {
    this.wakeRequested = true;
    if (!this.active || (!notice.urgent && notice.cancelRunId === undefined)) return;
    void this.checkDemand(notice).catch((error: unknown) =>
      this.deps.events.emit('kernel:error', { error, context: `preemption check for ${this.key}` }),
    );
  }

  /** Orderly stop: the active run is interrupted and requeued, then the lease is released. */
  async stop(reason: string): Promise<void> {
    if (this.state === 'exited' || this.state === 'lost') return this.loopDone;
    this.state = 'stopping';
    this.interrupt({ kind: 'stop' }, reason);
    await this.loopDone;
  }

  /** Ownership is gone (renewal failed or a fenced write was rejected): stop writing at once. */
  lose(): void {
    if (this.state === 'lost' || this.state === 'exited') return;
    this.state = 'lost';
    this.interrupt({ kind: 'lost' }, `key "${this.key}" is owned by another runtime now (epoch ${this.epoch} superseded)`);
    this.deps.events.emit('owner:lost', { key: this.key, epoch: this.epoch });
  }

  private get running(): boolean {
    return this.state === 'claiming' || this.state === 'executing';
  }

  /** Reads durable demand for the key and applies the pure preemption decision to the active run. */
  private async checkDemand(notice: Notice = { urgent: true }): Promise<void> {
    const active = this.active;
    if (!active) return;
    if (notice.cancelRunId === active.run.id) {
      const run = await this.deps.store.getRun(active.run.id);
      if (run?.cancelRequested) {
        this.deps.events.emit('run:interrupted', { runId: run.id, key: this.key, kind: run.cancelRequested, by: 'operator' });
        this.interrupt({ kind: 'cancel', mode: run.cancelRequested }, `run ${run.id} cancelled by an operator (${run.cancelRequested})`);
        return;
      }
    }
    if (!notice.urgent) return;
    const demand = await this.deps.store.peekUrgent(this.key);
    if (this.active !== active) return;
    const decision = decidePreemption(
      { runId: active.run.id, priority: active.run.priority },
      demand && { runId: demand.id, preempt: demand.preempt },
    );
    if (decision.kind === 'none') return;
    this.deps.events.emit('run:interrupted', { runId: active.run.id, key: this.key, kind: decision.kind, by: decision.by });
    this.interrupt(
      { kind: 'preempt', mode: decision.kind, by: decision.by },
      `run ${active.run.id} preempted (${decision.kind}) by urgent run ${decision.by}`,
    );
  }

  private interrupt(reason: InterruptReason, message: string): void {
    const active = this.active;
    if (!active || active.controller.signal.aborted) return;
    active.controller.abort(new RunInterrupt(reason, message));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.deps.slots.acquire();
      try {
        if (!this.running) return;
        this.wakeRequested = false;
        const now = this.deps.clock.now();
        const [dropped, claimed] = await Promise.all([
          this.guard(() => this.deps.store.dropCancelled({ ...this.fence, now })),
          this.guard(() => this.deps.store.claimNext({ ...this.fence, now })),
        ]);
        if (dropped === 'lost' || claimed === 'lost') return;
        for (const run of dropped) this.deps.events.emit('run:cancelled', { runId: run.id, key: run.key, error: run.error! });
        if (claimed === undefined) {
          const released = await this.guard(() => this.deps.store.releaseOwner({ ...this.fence, ifIdle: true }));
          if (released === true) {
            this.state = 'exited';
            this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
            return;
          }
          continue;
        }
        await this.execute(claimed);
      } finally {
        this.deps.slots.release();
      }
    }
    if (this.state === 'stopping') {
      await this.guard(() => this.deps.store.releaseOwner(this.fence));
      this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
    }
  }

  private async execute({ run, steps, frame }: ClaimedRun): Promise<void> {
    const flow = this.deps.flows.get(run.flow);
    if (!flow) {
      const error = new UnknownFlowError(run.flow, [...this.deps.flows.keys()]);
      await this.fail(run, { code: error.code, message: error.message });
      return;
    }
    const controller = new AbortController();
    this.active = { run, controller };
    this.state = 'executing';
    this.deps.events.emit('run:started', { runId: run.id, key: run.key, flow: run.flow, attempt: run.attempts, epoch: this.epoch });
    if (frame) this.deps.events.emit('run:resumed', { runId: run.id, key: run.key, turnSeq: frame.turnSeq });
    let outcome: RunOutcome;
    try {
      outcome = await executeRun(flow, run, steps, {
        store: this.deps.store,
        fence: this.fence,
        clock: this.deps.clock,
        events: this.deps.events,
        signal: controller.signal,
        providers: this.deps.providers,
        frame,
        beforeTurn: () => this.checkDemand(),
      });
    } finally {
      this.active = undefined;
      if (this.state === 'executing') this.state = 'claiming';
    }
    await this.record(run, outcome);
  }

  /** Records how a run ended or was interrupted: the one place a run's fate is written. */
  private async record(run: RunRecord, outcome: RunOutcome): Promise<void> {
    const now = this.deps.clock.now();
    const ids = { runId: run.id, key: run.key };
    switch (outcome.kind) {
      case 'completed': {
        const done = await this.guard(() =>
          this.deps.store.finishRun({ ...this.fence, runId: run.id, status: 'completed', result: outcome.result, now }),
        );
        if (done !== 'lost') this.deps.events.emit('run:completed', { ...ids, result: outcome.result });
        return;
      }
      case 'failed':
        return this.fail(run, outcome.error);
      case 'lost':
        return this.lose();
      case 'interrupted':
        return this.recordInterrupted(run, outcome.reason, outcome.at, now);
    }
  }

  private async recordInterrupted(run: RunRecord, reason: unknown, at: RunPosition, now: number): Promise<void> {
    if (!(reason instanceof RunInterrupt)) return;
    const ids = { runId: run.id, key: run.key };
    switch (interruptEffect(reason.reason)) {
      case 'nothing':
        return;
      case 'requeue': {
        const done = await this.guard(() => this.deps.store.requeueRun({ ...this.fence, runId: run.id }));
        if (done !== 'lost') this.deps.events.emit('run:requeued', { ...ids, reason: reason.message });
        return;
      }
      case 'cancel': {
        const error: RunError = { code: reason.code, message: reason.message };
        const done = await this.guard(() => this.deps.store.finishRun({ ...this.fence, runId: run.id, status: 'cancelled', error, now }));
        if (done !== 'lost') this.deps.events.emit('run:cancelled', { ...ids, error });
        return;
      }
      case 'park': {
        const by = reason.reason.kind === 'preempt' ? reason.reason.by : null;
        const frame: ParkedFrame = {
          runId: run.id,
          key: run.key,
          epoch: this.epoch,
          turnSeq: at.seq,
          attempt: run.attempts,
          provider: at.turn?.provider ?? null,
          input: at.turn?.input ?? null,
          sessionId: at.turn?.sessionId ?? null,
          parkedBy: by,
          parkedAt: now,
        };
        const done = await this.guard(() => this.deps.store.parkRun({ ...this.fence, frame }));
        if (done !== 'lost') this.deps.events.emit('run:parked', { ...ids, turnSeq: at.seq, by: by ?? 'unknown' });
        return;
      }
    }
  }

  private async fail(run: RunRecord, error: RunError): Promise<void> {
    const done = await this.guard(() =>
      this.deps.store.finishRun({ ...this.fence, runId: run.id, status: 'failed', error, now: this.deps.clock.now() }),
    );
    if (done !== 'lost') this.deps.events.emit('run:failed', { runId: run.id, key: run.key, error });
  }

  /** Runs a fenced store call; a stale epoch turns this runtime into `lost` instead of throwing. */
  private async guard<T>(call: () => Promise<T>): Promise<T | 'lost'> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof StaleEpochError) {
        this.lose();
        return 'lost';
      }
      throw error;
    }
  }

  private exit(): void {
    const rewake = this.wakeRequested && this.state === 'exited';
    if (this.state !== 'lost') this.state = 'exited';
    this.deps.onExit(this, rewake);
  }
}
