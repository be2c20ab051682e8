import { decideRelease } from '../core/lane-lease/decide.js';
import { decideReleaseRun, decideRunAcquire, type RunAcquireDecision } from '../core/lane-lease/decide-run.js';
import { DEFAULT_EXPIRY_POLICY, isLeaseExpired, type ExpiryContext, type ExpiryPolicy } from '../core/lane-lease/expiry.js';
import { leaseOfAcquire } from '../core/lane-lease/replay.js';
import { StoreUnavailableError } from '../errors.js';
import type { LaneMode, LiveLease, RunId, StepRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { KeyNotice, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import { LaneHeartbeats, type LaneScope } from './lane-heartbeats.js';
import { GAVE_UP, type StoreOutage } from './store-outage.js';

/** The journal name of a `ctx.lane` call's acquire, and of its end (`lane-end:<lane>`). */
export const LANE_STEP = 'lane:';
export const LANE_END_STEP = 'lane-end:';

export interface RunLanesOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  readonly outage: StoreOutage;
  readonly host: { readonly name: string; readonly pid: number; readonly isAlive: (pid: number) => boolean };
  /** The grace of lane expiry (L6), default 5 minutes. */
  readonly graceMs?: number;
  /** Keys that got work (runs woken from a lane wait): the kernel dispatches them. */
  readonly dispatch: (work: readonly KeyNotice[]) => void;
}

export interface RunAcquire {
  readonly runId: RunId;
  readonly seq: number;
  readonly epoch: number;
  readonly lane: string;
  readonly tree: readonly string[];
  readonly mode: LaneMode | undefined;
  readonly ttlMs: number;
}

export type RunAcquired = Exclude<RunAcquireDecision, { outcome: 'acquire' }> | { readonly outcome: 'acquire'; readonly lease: LiveLease };

/**
 * The lanes of the runs this kernel executes (`ctx.lane`), over the store's lane journal: acquire
 * (idempotent per run and position), release when the function settles, heartbeats while it runs,
 * and the release of everything a run holds when it ends, each followed by waking the runs that
 * wait for a lane the releasing run held. One per kernel (per key dispatcher).
 *
 * Crash semantics: every lane change is one lane-journal transaction. A process that dies after an
 * acquire leaves the lease held by the run (`run:<id>/<seq>@<epoch>`): the recovered run resumes
 * it, and a run that ends releases it right after its end is recorded; a death between the two
 * leaves it to expire after TTL + grace (run-held leases are not reclaimed through their process's
 * death, L6). A wake lost to a crash costs latency only: waiters wake at the lease's expiry.
 */
export class RunLanes {
  readonly policy: ExpiryPolicy;
  private readonly heartbeats: LaneHeartbeats;
  /** Runs that may hold a lease taken through `ctx.lane`: released when they end here. */
  private readonly holding = new Set<RunId>();
  private stopped = false;

  constructor(private readonly options: RunLanesOptions) {
    const graceMs = options.graceMs ?? DEFAULT_EXPIRY_POLICY.graceMinutes * 60_000;
    this.policy = { ...DEFAULT_EXPIRY_POLICY, graceMinutes: graceMs / 60_000 };
    const caller = () => ({ host: options.host.name, pid: options.host.pid });
    this.heartbeats = new LaneHeartbeats(options.store.lanes, options.clock, options.events, caller);
  }

  /** Whether a release wakes the runs waiting for it at once (the store can end their waits). */
  get wakesWaiters(): boolean {
    return this.options.store.wakeWaiting !== undefined;
  }

  expiry(now: number): ExpiryContext {
    const host = this.options.host;
    return { now, host: host.name, isProcessAlive: (pid) => host.isAlive(pid), policy: this.policy };
  }

  /** One lane transaction: resume the run's lease at this position, or arbitrate a new one. */
  async acquire(request: RunAcquire): Promise<RunAcquired> {
    const { clock, host } = this.options;
    const now = clock.now();
    const input = { ...request, kind: 'ctx.lane', ttlMinutes: request.ttlMs / 60_000, now, host: host.name, pid: host.pid };
    const { value, appended } = await this.options.store.lanes.transact((view) => decideRunAcquire(view, input, this.expiry(now)));
    if (value.outcome === 'acquire' || value.outcome === 'resume') this.holding.add(request.runId);
    if (value.outcome !== 'acquire') return value;
    return { outcome: 'acquire', lease: leaseOfAcquire(appended.at(-1)!) };
  }

  /** Beats `lease` until the scope is closed or the run's execution ends. */
  beat(runId: RunId, lease: LiveLease, ttlMs: number): LaneScope {
    return this.heartbeats.open(runId, lease, ttlMs);
  }

  /**
   * Releases the scope's lease by its exact holder (nothing if it is gone), in one lane
   * transaction queued at once (so it shares a commit with a write queued in the same turn).
   * Then call `wake`.
   */
  async release(scope: LaneScope): Promise<void> {
    scope.close();
    await this.releaseHeld(scope.lease);
  }

  /** Releases one lease of `runId` (a leftover of a finished block), then wakes its waiters. */
  async releaseLease(runId: RunId, lease: LiveLease): Promise<void> {
    await this.releaseHeld(lease);
    await this.wake(runId);
  }

  /** Ends the `lane` waits on `runId` (the store's optional wakeWaiting) and dispatches their keys. */
  wake(runId: RunId): Promise<void> {
    return this.wakeWaitersOf(runId);
  }

  /** A claimed run whose journal has a `ctx.lane` position may hold a lease: released if it ends. */
  claimed(runId: RunId, steps: readonly StepRecord[]): void {
    if (steps.some((s) => s.name.startsWith(LANE_STEP) || s.name.startsWith(LANE_END_STEP))) this.holding.add(runId);
  }

  /** The run's execution here is over (ended, waiting, interrupted): its leases are no longer beaten. */
  executionEnded(runId: RunId): void {
    this.heartbeats.closeRun(runId);
    this.holding.delete(runId);
  }

  /**
   * Runs ended (completed, failed, cancelled, past their deadline, dropped): every lease they hold
   * is released in one transaction, then their waiters are woken. `always` for runs the store
   * ended without executing them here (dropped, expired while waiting), which may hold leases
   * taken in an earlier execution. Never throws: a release that cannot be written is left to TTL.
   */
  async runsEnded(runIds: readonly RunId[], always = false): Promise<void> {
    const ended = always ? runIds : runIds.filter((id) => this.holding.has(id));
    if (ended.length === 0) return;
    for (const id of ended) this.heartbeats.closeRun(id);
    const { clock, host, outage } = this.options;
    try {
      const released = await outage.call(
        'release the lanes of ended runs',
        () =>
          this.options.store.lanes.transact((view) => {
            const now = clock.now();
            const decisions = ended.map((runId) => decideReleaseRun(view, { runId, now, host: host.name, pid: host.pid }));
            return { append: decisions.flatMap((d) => d.append), value: decisions.flatMap((d) => d.value) };
          }),
        () => !this.stopped,
      );
      if (released === GAVE_UP) return;
      const holders = new Set(released.value.map((l) => l.runId ?? ''));
      for (const runId of ended) if (holders.has(runId)) await this.wakeWaitersOf(runId);
    } catch (error) {
      this.options.events.emit('kernel:error', { error, context: `releasing the lanes of runs ${ended.join(', ')}` });
    }
  }

  /**
   * A run just entered a `lane` wait refused by `colliding`: if that lease is gone or expired by
   * now (released between the refusal and the wait), wakes the waiters at once, this run among
   * them. Closes the race between a refusal and a release that came before the wait existed.
   */
  async afterWaitEntered(colliding: LiveLease): Promise<void> {
    if (colliding.runId === null) return;
    try {
      const now = this.options.clock.now();
      const { leases } = await this.options.store.lanes.state();
      const still = leases.find((l) => l.id === colliding.id);
      if (still !== undefined && !isLeaseExpired(still, this.expiry(now))) return;
      await this.wakeWaitersOf(colliding.runId);
    } catch (error) {
      this.options.events.emit('kernel:error', { error, context: `checking lease #${colliding.id} after a lane wait` });
    }
  }

  stop(): void {
    this.stopped = true;
    this.heartbeats.stop();
  }

  private async releaseHeld(lease: LiveLease): Promise<void> {
    const { clock, host } = this.options;
    const now = clock.now();
    const { lane, id, holder } = lease;
    await this.options.store.lanes.transact((view) =>
      decideRelease(view, { lane, lease: id, owner: holder, now, host: host.name, pid: host.pid }),
    );
  }

  /** Ends the `lane` waits on `runId` (the store's optional wakeWaiting) and dispatches their keys. */
  private async wakeWaitersOf(runId: RunId): Promise<void> {
    const { store, clock, dispatch, events } = this.options;
    if (store.wakeWaiting === undefined) return;
    try {
      const woken = await store.wakeWaiting({ onRun: runId, kind: 'lane', now: clock.now() });
      if (woken.length > 0) dispatch(woken);
    } catch (error) {
      // The waiters wake at the lease's expiry instead.
      if (!(error instanceof StoreUnavailableError))
        events.emit('kernel:error', { error, context: `waking the lane waiters of run ${runId}` });
    }
  }
}
