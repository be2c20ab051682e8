import { HoldfastError, StaleEpochError, UnknownFlowError } from '../errors.js';
import type { Key, OwnerLease, RunError, RunRecord, StepRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Fence, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { Flow } from './flow.js';
import { executeRun, type RunOutcome } from './flow-run.js';
import type { Slots } from './slots.js';

export interface KeyRuntimeDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  readonly flows: ReadonlyMap<string, Flow>;
  readonly slots: Slots;
  readonly logger: Logger;
  /** Called once when the runtime has stopped; `rewake` asks the kernel to dispatch the key again. */
  readonly onExit: (runtime: KeyRuntime, rewake: boolean) => void;
}

/** Why the active run's signal was aborted. */
export class RunInterrupt extends HoldfastError {
  constructor(readonly why: 'kernel_stopping' | 'owner_lost', message: string) {
    super(why, message);
  }
}

/**
 * The actor that owns one key (K1, K4). At most one exists per key per kernel, and only while the
 * kernel holds the key's owner lease. It is the only thing that writes the key's state, always
 * stamped with its lease's epoch.
 *
 * Modes and transitions:
 *   claiming  -> executing   a run was claimed from the mailbox (running first, then priority, FIFO)
 *   executing -> claiming    the run ended (completed / failed) or was interrupted and requeued
 *   claiming  -> exited      the mailbox is empty and the lease was released in the same
 *                            transaction that saw it empty (a racing submit keeps the key owned)
 *   any       -> exited      stop() (the active run is interrupted and requeued, lease released)
 *                            or lose() (a fenced write or renewal found another owner: write nothing)
 */
export class KeyRuntime {
  readonly key: Key;
  readonly epoch: number;
  private readonly fence: Fence;
  private state: 'claiming' | 'executing' | 'stopping' | 'lost' | 'exited' = 'claiming';
  private wakeRequested = false;
  private active: { run: RunRecord; controller: AbortController } | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(lease: OwnerLease, private readonly deps: KeyRuntimeDeps) {
    this.key = lease.key;
    this.epoch = lease.epoch;
    this.fence = { key: lease.key, ownerId: lease.ownerId ?? '', epoch: lease.epoch };
  }

  start(): void {
    this.loopDone = this.loop().catch((error: unknown) => {
      this.deps.events.emit('kernel:error', { error, context: `key runtime ${this.key}` });
    }).finally(() => this.exit());
  }

  /** New work may be pending: claim again before deciding the key is idle. */
  wake(): void {
    this.wakeRequested = true;
  }

  get activeRunId(): string | undefined {
    return this.active?.run.id;
  }

  /**
   * Orderly stop: interrupts the active run (it is requeued, keeping its committed steps) and
   * releases the lease. If the process dies during stop, the run is still `running` in the store
   * and the next owner recovers it; nothing is lost either way.
   */
  async stop(reason: string): Promise<void> {
    if (this.state === 'exited' || this.state === 'lost') return this.loopDone;
    this.state = 'stopping';
    this.active?.controller.abort(new RunInterrupt('kernel_stopping', reason));
    await this.loopDone;
  }

  /** Ownership is gone (renewal failed or a fenced write was rejected): stop writing at once. */
  lose(): void {
    if (this.state === 'lost' || this.state === 'exited') return;
    this.state = 'lost';
    this.active?.controller.abort(new RunInterrupt('owner_lost', `key "${this.key}" is owned by another runtime now (epoch ${this.epoch} superseded)`));
    this.deps.events.emit('owner:lost', { key: this.key, epoch: this.epoch });
  }

  private get running(): boolean {
    return this.state === 'claiming' || this.state === 'executing';
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.deps.slots.acquire();
      try {
        if (!this.running) return;
        this.wakeRequested = false;
        const claimed = await this.guard(() => this.deps.store.claimNext({ ...this.fence, now: this.deps.clock.now() }));
        if (claimed === 'lost') return;
        if (claimed === undefined) {
          const released = await this.guard(() => this.deps.store.releaseOwner({ ...this.fence, ifIdle: true }));
          if (released === true) {
            this.state = 'exited';
            this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
            return;
          }
          continue;
        }
        await this.execute(claimed.run, claimed.steps);
      } finally {
        this.deps.slots.release();
      }
    }
    if (this.state === 'stopping') {
      await this.guard(() => this.deps.store.releaseOwner(this.fence));
      this.deps.events.emit('owner:released', { key: this.key, epoch: this.epoch });
    }
  }

  private async execute(run: RunRecord, steps: StepRecord[]): Promise<void> {
    const flow = this.deps.flows.get(run.flow);
    if (!flow) {
      const error = new UnknownFlowError(run.flow, [...this.deps.flows.keys()]);
      await this.record(run, { kind: 'failed', error: { code: error.code, message: error.message } });
      return;
    }
    const controller = new AbortController();
    this.active = { run, controller };
    this.state = 'executing';
    this.deps.events.emit('run:started', { runId: run.id, key: run.key, flow: run.flow, attempt: run.attempts, epoch: this.epoch });
    let outcome: RunOutcome;
    try {
      outcome = await executeRun(flow, run, steps, {
        store: this.deps.store, fence: this.fence, clock: this.deps.clock, events: this.deps.events, signal: controller.signal,
      });
    } finally {
      this.active = undefined;
      if (this.state === 'executing') this.state = 'claiming';
    }
    await this.record(run, outcome);
  }

  /** Records how a run ended: the one place a run's terminal state is written. */
  private async record(run: RunRecord, outcome: RunOutcome): Promise<void> {
    const now = this.deps.clock.now();
    switch (outcome.kind) {
      case 'completed': {
        const done = await this.guard(() => this.deps.store.finishRun({ ...this.fence, runId: run.id, status: 'completed', result: outcome.result, now }));
        if (done !== 'lost') this.deps.events.emit('run:completed', { runId: run.id, key: run.key, result: outcome.result });
        return;
      }
      case 'failed':
        await this.fail(run, outcome.error, now);
        return;
      case 'interrupted': {
        if (this.state !== 'stopping') return;
        const requeued = await this.guard(() => this.deps.store.requeueRun({ ...this.fence, runId: run.id }));
        if (requeued !== 'lost') this.deps.events.emit('run:requeued', { runId: run.id, key: run.key, reason: 'kernel stopping' });
        return;
      }
      case 'lost':
        this.lose();
        return;
    }
  }

  private async fail(run: RunRecord, error: RunError, now: number): Promise<void> {
    const done = await this.guard(() => this.deps.store.finishRun({ ...this.fence, runId: run.id, status: 'failed', error, now }));
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
