import type { InterruptReason } from '../core/interrupt.js';
import { deadlineError } from '../core/deadline.js';
import { decidePreemption } from '../core/preemption.js';
import { StaleEpochError, UnknownFlowError } from '../errors.js';
import type { FencingToken, Key, OwnerLease, RunRecord } from '../model/index.js';
import type { KeptLease } from '../ports/lease-keeper.js';
import type { ClaimedRun, Fence } from '../ports/store.js';
import type { RunOutcome } from './flow-run.js';
import type { KeyRuntimeDeps } from './key-runtime-deps.js';
import { executeClaimed, type ActiveExecution, type ExecutionHost } from './run-executor.js';
import { recordOutcome } from './run-recorder.js';
import { RunInterrupt } from './run-interrupt.js';
import type { SlotClass, SlotWait } from './slots.js';
import { GAVE_UP } from './store-outage.js';

export type { KeyRuntimeDeps } from './key-runtime-deps.js';

/** What the kernel tells a runtime when something arrived for its key. */
export interface Notice {
  /** An urgent command was durably recorded: check whether to preempt. */
  readonly urgent?: boolean;
  /** A cancel was durably requested for this run. */
  readonly cancelRunId?: string;
}

/** A store write this runtime may no longer make (lost, lapsed, or forced out); nothing was written. */
export const NOT_WRITTEN = Symbol('not written');

/**
 * The actor that owns one key (K1, K4, K5, K10). At most one exists per key per kernel, and only
 * while the kernel holds the key's owner lease. It is the only thing that writes the key's state,
 * always stamped with its lease's epoch, and only while the lease is proven live.
 *
 * Modes and transitions:
 *   claiming  -> executing   a slot was granted (urgent slots claim only urgent runs) and a run
 *                            was claimed in mailbox order; runs an operator dropped are ended in
 *                            the same transaction; a parked run is resumed from its frame
 *   executing -> claiming    the run ended, or was interrupted and then parked (steal), requeued
 *                            (abort-keep, operator keep, stop) or cancelled (abort-drop, operator
 *                            drop); a run that does not unwind within the grace is abandoned and
 *                            its fate recorded all the same
 *   claiming  -> exited      the mailbox is empty and the lease was released in the transaction
 *                            that saw it empty (a racing submit keeps the key owned)
 *   any       -> exited      stop() (active run interrupted and requeued, lease released)
 *   any       -> lost        another owner holds the key (a fenced write was rejected, a renewal
 *                            found it gone), or the lease can no longer be proven live: the
 *                            signal is aborted and nothing more is written
 *
 * Interrupt decisions are made from durable state only (the store's urgent demand and cancel
 * requests), never from a wake message alone: a lost signal costs latency, never correctness.
 * Store unavailability delays every write (retried with backoff) and never fails a run (K11).
 */
export class KeyRuntime implements ExecutionHost {
  readonly key: Key;
  readonly epoch: number;
  readonly fence: Fence;
  readonly fencingToken: FencingToken;
  private state: 'claiming' | 'executing' | 'stopping' | 'lost' | 'exited' = 'claiming';
  private lostReason: 'taken-over' | 'lapsed' | undefined;
  private forced = false;
  private wakeRequested = false;
  private urgentHint: boolean;
  private slotWait: SlotWait | undefined;
  private active: (ActiveExecution & { readonly run: RunRecord }) | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    lease: OwnerLease,
    private readonly kept: KeptLease,
    readonly deps: KeyRuntimeDeps,
    options: { readonly urgent?: boolean } = {},
  ) {
    this.key = lease.key;
    this.epoch = lease.epoch;
    this.fence = { key: lease.key, ownerId: lease.ownerId ?? '', epoch: lease.epoch };
    this.fencingToken = Object.freeze({ key: lease.key, epoch: lease.epoch });
    this.urgentHint = options.urgent ?? false;
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
    if (notice.urgent) {
      this.urgentHint = true;
      this.slotWait?.upgrade();
    }
    if (!this.active || (!notice.urgent && notice.cancelRunId === undefined)) return;
    void this.checkDemand(notice).catch((error: unknown) =>
      this.deps.events.emit('kernel:error', { error, context: `preemption check for ${this.key}` }),
    );
  }

  /**
   * A queued or waiting run of the key passed its deadline while another run executes: fail it
   * now (D8), not when the key frees. When the runtime is claiming, the claim fails it instead.
   */
  expireOverdue(): void {
    if (this.state !== 'executing') return;
    void this.write('fail runs past their deadline', () => this.deps.store.expireOverdue({ ...this.fence, now: this.deps.clock.now() }))
      .then((expired) => {
        if (expired === NOT_WRITTEN) return;
        for (const { run, wake } of expired) {
          this.deps.events.emit('run:failed', { runId: run.id, key: run.key, error: run.error!, flow: run.flow });
          void this.deps.scratch.remove(run.id).catch(() => undefined);
          if (wake.length > 0) this.deps.onWork(wake);
        }
        if (expired.length > 0)
          void this.deps.lanes.runsEnded(
            expired.map((e) => e.run.id),
            true,
          );
      })
      .catch((error: unknown) => this.deps.events.emit('kernel:error', { error, context: `deadlines of ${this.key}` }));
  }

  /** Orderly stop: the active run is interrupted and requeued, then the lease is released. */
  async stop(reason: string): Promise<void> {
    if (this.state === 'exited' || this.state === 'lost') return this.loopDone;
    this.state = 'stopping';
    this.slotWait?.cancel();
    this.interrupt({ kind: 'stop' }, reason);
    await this.loopDone;
  }

  /**
   * The kernel's stop deadline passed: stop waiting for the active run now, and stop retrying
   * writes the store does not take. What could not be recorded is recovered from the store by
   * the next owner.
   */
  forceExit(): void {
    this.forced = true;
    this.slotWait?.cancel();
    this.active?.abandonNow();
  }

  /** Ownership is gone or cannot be proven: stop writing at once (`rejectedWrite`: found by a stale write). */
  lose(reason: 'taken-over' | 'lapsed', rejectedWrite?: string): void {
    if (this.state === 'lost' || this.state === 'exited') return;
    this.state = 'lost';
    this.lostReason = reason;
    this.slotWait?.cancel();
    const why =
      reason === 'lapsed'
        ? `the owner lease of key "${this.key}" (epoch ${this.epoch}) can no longer be proven live`
        : `key "${this.key}" is owned by another runtime now (epoch ${this.epoch} superseded)`;
    this.interrupt({ kind: 'lost' }, why);
    this.deps.events.emit('owner:lost', {
      key: this.key,
      epoch: this.epoch,
      reason,
      ...(rejectedWrite !== undefined && { rejectedWrite }),
    });
  }

  /** Called from the kernel's lease watch: a runtime whose lease is no longer proven gives up. */
  checkProof(): void {
    if (this.state !== 'lost' && this.state !== 'exited' && !this.proven()) this.lose('lapsed');
  }

  private proven(): boolean {
    return this.kept.provenUntil() > this.deps.keeper.now();
  }

  private get running(): boolean {
    return this.state === 'claiming' || this.state === 'executing';
  }

  /** May this runtime write now? Checks the lease proof first (and gives the key up if it lapsed). */
  private mayWrite(): boolean {
    if (this.state === 'lost' || this.state === 'exited') return false;
    if (this.proven()) return true;
    this.lose('lapsed');
    return false;
  }

  /**
   * A fenced store write: only while the lease is proven, retried while the store is unavailable
   * (and while `alsoWhile` holds, and not after a forced exit), and turned into `lose()` when
   * another owner holds the key.
   */
  async write<T>(operation: string, call: () => Promise<T>, alsoWhile: () => boolean = () => true): Promise<T | typeof NOT_WRITTEN> {
    if (!this.mayWrite()) return NOT_WRITTEN;
    try {
      const value = await this.deps.outage.call(operation, call, () => !this.forced && this.mayWrite() && alsoWhile());
      if (value === GAVE_UP) return NOT_WRITTEN;
      // Written, but if the lease lapsed while the reply was on its way, the active run's signal
      // aborts now, before its flow goes on to its next step.
      if (this.active !== undefined) this.mayWrite();
      return value;
    } catch (error) {
      if (!(error instanceof StaleEpochError)) throw error;
      this.lose('taken-over', operation);
      return NOT_WRITTEN;
    }
  }

  /** A read of durable state for a decision, retried while the store is unavailable. */
  private read<T>(operation: string, call: () => Promise<T>, alsoWhile: () => boolean): Promise<T | typeof GAVE_UP> {
    return this.deps.outage.call(operation, call, () => this.running && alsoWhile(), 'read');
  }

  /** Reads durable demand for the key and applies the pure preemption decision to the active run. */
  async checkDemand(notice: Notice = { urgent: true }): Promise<void> {
    const active = this.active;
    if (!active) return;
    const stillActive = () => this.active === active && !active.controller.signal.aborted;
    if (notice.cancelRunId === active.run.id) {
      const run = await this.read('read cancel request', () => this.deps.store.getRun(active.run.id), stillActive);
      if (run !== GAVE_UP && run?.cancelRequested && stillActive()) {
        this.deps.events.emit('run:interrupted', { runId: run.id, key: this.key, kind: run.cancelRequested, by: 'operator' });
        this.interrupt({ kind: 'cancel', mode: run.cancelRequested }, `run ${run.id} cancelled by an operator (${run.cancelRequested})`);
        return;
      }
    }
    if (!notice.urgent) return;
    const demand = await this.read('read urgent demand', () => this.deps.store.peekUrgent(this.key), stillActive);
    if (demand === GAVE_UP || !stillActive()) return;
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
      const wait = this.deps.slots.acquire(this.urgentHint ? 'urgent' : 'normal');
      this.slotWait = wait;
      const slot = await wait.granted;
      this.slotWait = undefined;
      if (slot === undefined) break;
      try {
        if (!this.running) break;
        const done = await this.claimAndExecute(slot);
        if (done) return;
      } finally {
        this.deps.slots.release(slot);
      }
    }
    if (this.state === 'stopping') {
      const released = await this.write('release owner', () => this.deps.store.releaseOwner(this.fence));
      if (released !== NOT_WRITTEN) this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
    }
  }

  /** One claim and, if a run was claimed, its execution. True when the key went idle and was released. */
  private async claimAndExecute(slot: SlotClass): Promise<boolean> {
    this.wakeRequested = false;
    const now = this.deps.clock.now();
    const outcome = await this.write('claim next run', () =>
      this.deps.store.claimNext({ ...this.fence, now, urgentOnly: slot === 'urgent' }),
    );
    if (outcome === NOT_WRITTEN) return false;
    for (const run of outcome.dropped) {
      this.deps.events.emit('run:cancelled', { runId: run.id, key: run.key, error: run.error!, flow: run.flow });
      void this.deps.scratch.remove(run.id).catch(() => undefined);
    }
    if (outcome.dropped.length > 0)
      void this.deps.lanes.runsEnded(
        outcome.dropped.map((r) => r.id),
        true,
      );
    if (outcome.wake.length > 0) this.deps.onWork(outcome.wake);
    if (outcome.claimed !== undefined) {
      // The claim committed, but its reply may have come back after the lease lapsed (the process
      // was paused with it in flight): the run stays `running` for the next owner, not started here.
      if (!this.mayWrite()) return false;
      await this.execute(outcome.claimed);
      return false;
    }
    // Nothing (urgent) to run: release the key in the transaction that sees it idle. With an urgent
    // slot, other work may be left: then wait for a normal slot for it.
    if (slot === 'urgent') this.urgentHint = false;
    const released = await this.write('release idle owner', () =>
      this.deps.store.releaseOwner({ ...this.fence, ifIdle: true, now: this.deps.clock.now() }),
    );
    if (released !== true) return false;
    this.state = 'exited';
    this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
    return true;
  }

  private async execute(claimed: ClaimedRun): Promise<void> {
    const { run } = claimed;
    this.deps.lanes.claimed(run.id, claimed.steps);
    const flow = this.deps.flows.get(run.flow);
    if (!flow) {
      const error = new UnknownFlowError(run.flow, [...this.deps.flows.keys()]);
      await this.record(run, { kind: 'failed', error: { code: error.code, message: error.message } });
      return;
    }
    if (run.deadlineAt !== null && run.deadlineAt <= this.deps.clock.now()) {
      const reason = new RunInterrupt({ kind: 'deadline' }, deadlineError(run.id, run.deadlineAt, 'pending').message);
      await this.record(run, { kind: 'interrupted', reason, at: { seq: 0, name: undefined, turn: undefined } });
      return;
    }
    let outcome: RunOutcome;
    try {
      outcome = await executeClaimed(this, flow, claimed, (active) => {
        this.active = { ...active, run };
        if (this.state === 'claiming') this.state = 'executing';
      });
    } finally {
      this.active = undefined;
      if (this.state === 'executing') this.state = 'claiming';
    }
    await this.record(run, outcome);
  }

  /**
   * Records how a run ended or was interrupted: the one place a run's fate is written. A run that
   * ended releases its lanes right after (a crash in between leaves them to expire).
   */
  private async record(run: RunRecord, outcome: RunOutcome): Promise<void> {
    let ended = false;
    await recordOutcome(run, outcome, {
      fence: this.fence,
      store: this.deps.store,
      clock: this.deps.clock,
      events: this.deps.events,
      write: (operation, call) => this.write(operation, call),
      ended: (notices) => {
        ended = true;
        if (notices.length > 0) this.deps.onWork(notices);
        void this.deps.scratch.remove(run.id).catch(() => undefined);
      },
      // The wait ends at its wake time, or at the run's deadline if that comes first.
      waiting: (wakeAt) => this.deps.onWaiting(Math.min(wakeAt ?? Infinity, run.deadlineAt ?? Infinity)),
    });
    if (ended) await this.deps.lanes.runsEnded([run.id]);
    this.deps.lanes.executionEnded(run.id);
  }

  private exit(): void {
    this.kept.release();
    const rewake = (this.wakeRequested && this.state === 'exited') || this.lostReason === 'lapsed';
    if (this.state !== 'lost') this.state = 'exited';
    this.deps.onExit(this, rewake);
  }
}
