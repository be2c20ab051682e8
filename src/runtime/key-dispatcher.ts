import { isLeaseLive } from '../core/owner-lease.js';
import { isOwnerProvablyDead } from '../core/owner-id.js';
import { StoreUnavailableError } from '../errors.js';
import type { Millis, OwnerLease } from '../model/index.js';
import type { Clock, Random } from '../ports/clock.js';
import type { LeaseKeeper } from '../ports/lease-keeper.js';
import type { Logger } from '../ports/logger.js';
import type { Provider } from '../ports/provider.js';
import type { AcquiredOwner, Store } from '../ports/store.js';
import type { WakeListener, WakeMessage, WakeTransport } from '../ports/wake.js';
import type { KernelEventEmitter } from './events.js';
import type { Flow } from './flow.js';
import type { KernelTiming } from './kernel-options.js';
import { KeyRuntime, type Notice } from './key-runtime.js';
import { RunLanes } from './lane-runs.js';
import type { WorkNotice } from './key-runtime-deps.js';
import type { ScratchDirs } from './scratch-dirs.js';
import { Slots } from './slots.js';
import type { StoreOutage } from './store-outage.js';

/** Keys per page when scanning the store for work (recovery at start, and the safety net). */
const SCAN_PAGE = 500;

export interface DispatcherDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
  readonly scratch: ScratchDirs;
  /** A run of an owned key entered a wait that ends at `wakeAt`. */
  readonly onWaiting: (wakeAt: Millis | null) => void;
  readonly events: KernelEventEmitter;
  readonly logger: Logger;
  readonly flows: ReadonlyMap<string, Flow>;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly outage: StoreOutage;
  readonly timing: KernelTiming;
  readonly ownerId: string;
  readonly wake: WakeTransport | null;
  readonly host: { readonly name: string; readonly pid: number; readonly isAlive: (pid: number) => boolean };
}

/**
 * Which keys this kernel serves (K1, K2, K8): it takes a key's owner lease when the key has work
 * and the lease is free, expired, or held by a provably dead process on this host; starts a
 * KeyRuntime per owned key; delivers notices to it; and tells owners in other processes over the
 * wake channel. `scan` pages through every key with work (at start, so recovery never waits for
 * the poll, and then as the slow safety net).
 */
export class KeyDispatcher {
  private readonly runtimes = new Map<string, KeyRuntime>();
  /** Keys whose owner lease is being acquired, with what arrived meanwhile and the attempt itself. */
  private readonly acquiring = new Map<string, { again: Notice | undefined; done: Promise<void> }>();
  private readonly slots: Slots;
  private readonly lanes: RunLanes;
  private keeper: LeaseKeeper | undefined;
  private listener: WakeListener | undefined;
  private serving = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.slots = new Slots(deps.timing.concurrency, deps.timing.urgentConcurrency);
    const { store, clock, events, outage, host } = deps;
    this.lanes = new RunLanes({
      store,
      clock,
      events,
      outage,
      host,
      graceMs: deps.timing.laneGraceMs,
      dispatch: (w) => this.dispatchAll(w),
    });
  }

  /** Starts serving with `keeper` keeping the leases; listens for wake messages. */
  async start(keeper: LeaseKeeper): Promise<void> {
    this.keeper = keeper;
    this.serving = true;
    if (this.deps.wake) this.listener = await this.deps.wake.listen((message) => this.onWake(message));
  }

  /** Keeps the leases of keys acquired from now on with `keeper` (the previous one died). */
  useKeeper(keeper: LeaseKeeper): void {
    this.keeper = keeper;
  }

  /** Stops taking keys; stops every runtime, abandoning what has not unwound by `deadline`. */
  async stop(timeoutMs: number): Promise<void> {
    this.serving = false;
    await Promise.all([...this.acquiring.values()].map((a) => a.done));
    const runtimes = [...this.runtimes.values()];
    const stopped = Promise.all(runtimes.map((rt) => rt.stop('kernel stopping')));
    let timer: { cancel(): void } | undefined;
    const late = await Promise.race([
      stopped.then(() => false),
      new Promise<boolean>((resolve) => (timer = this.deps.clock.setTimer(timeoutMs, () => resolve(true)))),
    ]);
    timer?.cancel();
    if (late) {
      this.deps.logger.warn('holdfast: kernel stop deadline passed; abandoning runs that have not unwound', { timeoutMs });
      for (const rt of runtimes) rt.forceExit();
      await stopped;
    }
    this.lanes.stop();
    await this.listener?.close();
  }

  /**
   * Makes sure someone serves `key`: notifies our runtime, or tries to take the lease, or, when
   * another process owns the key, signals that owner over the wake channel. Always called after
   * the durable write it is about.
   */
  dispatch(key: string, notice: Notice = {}, owner?: OwnerLease): void {
    if (!this.serving || !this.keeper) return;
    const runtime = this.runtimes.get(key);
    if (runtime) return runtime.notify(notice);
    const inFlight = this.acquiring.get(key);
    if (inFlight) {
      inFlight.again = mergeNotices(inFlight.again, notice);
      return;
    }
    const keeper = this.keeper;
    const attempt: { again: Notice | undefined; done: Promise<void> } = { again: undefined, done: Promise.resolve() };
    this.acquiring.set(key, attempt);
    const acquiredAt = keeper.now();
    attempt.done = this.acquire(key, owner)
      .then((lease) => {
        this.acquiring.delete(key);
        const all = mergeNotices(attempt.again, notice);
        if (!lease) return this.signalOwner(key, all);
        if (!this.serving) {
          return this.deps.store.releaseOwner({ key, ownerId: this.deps.ownerId, epoch: lease.epoch }).then(() => undefined);
        }
        this.startRuntime(lease, keeper, acquiredAt, all);
      })
      .catch((error: unknown) => {
        this.acquiring.delete(key);
        this.report(error, `acquiring key ${key}`);
      });
  }

  /**
   * Takes the key's lease if it is free or expired, or if its holder is provably dead: known from
   * `owner` (a scan read it), or read here when the lease was refused, because a notice (a child
   * that ended, a submit) does not know the owner, and a kernel killed while it held the key
   * would otherwise keep it until its lease expires.
   */
  private async acquire(key: string, owner: OwnerLease | undefined): Promise<AcquiredOwner | undefined> {
    const request = (holder: OwnerLease | undefined) => ({
      key,
      ownerId: this.deps.ownerId,
      now: this.deps.clock.now(),
      ttlMs: this.deps.timing.ttlMs,
      channel: this.listener?.address ?? null,
      takeOverFrom: holder && this.provablyDead(holder) ? holder.ownerId! : undefined,
    });
    const first = request(owner);
    const lease = await this.deps.outage.once('acquire owner', () => this.deps.store.acquireOwner(first), 'write');
    if (lease || first.takeOverFrom !== undefined) return lease;
    const holder = await this.deps.outage.once('read owner', () => this.deps.store.getOwner(key), 'read');
    if (!holder || !this.provablyDead(holder)) return undefined;
    return this.deps.outage.once('acquire owner', () => this.deps.store.acquireOwner(request(holder)), 'write');
  }

  private provablyDead(owner: OwnerLease): boolean {
    return owner.ownerId !== null && isOwnerProvablyDead(owner.ownerId, this.deps.host.name, this.deps.host.isAlive);
  }

  /** A lease was taken: keep it, and start the key's runtime with what was asked of it meanwhile. */
  private startRuntime(lease: AcquiredOwner, keeper: LeaseKeeper, acquiredAt: number, notice: Notice): void {
    this.deps.events.emit(
      'owner:acquired',
      lease.takenOverFrom === undefined ? { key: lease.key, epoch: lease.epoch } : { key: lease.key, epoch: lease.epoch, takeover: true },
    );
    const kept = keeper.keep(lease, acquiredAt);
    const deps = {
      store: this.deps.store,
      clock: this.deps.clock,
      random: this.deps.random,
      scratch: this.deps.scratch,
      lanes: this.lanes,
      onWork: (work: readonly WorkNotice[]) => this.dispatchAll(work),
      onWaiting: this.deps.onWaiting,
      events: this.deps.events,
      flows: this.deps.flows,
      providers: this.deps.providers,
      slots: this.slots,
      logger: this.deps.logger,
      outage: this.deps.outage,
      keeper,
      interruptGraceMs: this.deps.timing.interruptGraceMs,
      onExit: (done: { readonly key: string }, rewake: boolean) => this.onRuntimeExit(done, rewake),
    };
    const rt = new KeyRuntime(lease, kept, deps, { urgent: notice.urgent ?? false });
    this.runtimes.set(lease.key, rt);
    rt.start();
    if (notice.cancelRunId !== undefined) rt.notify(notice);
  }

  /** Tells the live owner of `key` in another process to look at the store now. */
  async signalOwner(key: string, notice: Notice): Promise<void> {
    if (!this.deps.wake || (!notice.urgent && notice.cancelRunId === undefined)) return;
    try {
      const owner = await this.deps.outage.once('read owner', () => this.deps.store.getOwner(key), 'read');
      if (!owner?.channel || owner.ownerId === this.deps.ownerId || !isLeaseLive(owner, this.deps.clock.now())) return;
      const message: WakeMessage =
        notice.cancelRunId !== undefined ? { type: 'cancel', key, runId: notice.cancelRunId } : { type: 'wake', key, urgent: true };
      const delivered = await this.deps.wake.send(owner.channel, message);
      if (!delivered) {
        this.deps.logger.warn('holdfast: wake message not delivered; the owner will see the work at its next poll', {
          key,
          channel: owner.channel,
        });
      }
    } catch (error) {
      this.report(error, `signalling the owner of ${key}`);
    }
  }

  /**
   * Finds every key with work that nobody live serves and dispatches it, paging through the store
   * so that thousands of keys are all dispatched in one pass (recovery after a restart needs no
   * poll ticks).
   */
  async scan(): Promise<void> {
    if (!this.serving) return;
    try {
      let after: string | undefined;
      for (;;) {
        const now = this.deps.clock.now();
        const page = await this.deps.outage.once(
          'scan for work',
          () => this.deps.store.keysWithWork({ after, limit: SCAN_PAGE, now }),
          'read',
        );
        for (const work of page) {
          const runtime = this.runtimes.get(work.key);
          if (runtime && work.overdue) runtime.expireOverdue();
          // Urgent work for a key this kernel executes: a wake may have been lost; the runtime
          // reads the durable demand and preempts if it says so (K2: the poll is the safety net).
          if (runtime && work.topPriority === 'urgent') runtime.notify({ urgent: true });
          if (runtime) continue;
          const owner = work.owner;
          const free = !isLeaseLive(owner, now) || owner?.ownerId === this.deps.ownerId;
          if (free || (owner !== undefined && this.provablyDead(owner)))
            this.dispatch(work.key, { urgent: work.topPriority === 'urgent' }, owner);
        }
        if (page.length < SCAN_PAGE || !this.serving) return;
        after = page[page.length - 1]!.key;
      }
    } catch (error) {
      this.report(error, 'scanning for work');
    }
  }

  /** Dispatches every key that got work (children spawned, parents woken, runs asked to drop). */
  dispatchAll(work: readonly WorkNotice[]): void {
    for (const w of work)
      this.dispatch(w.key, { urgent: w.urgent ?? false, ...(w.cancelRunId === undefined ? {} : { cancelRunId: w.cancelRunId }) });
  }

  /** The lease watch: beats the keeper's heartbeat and stops every runtime whose lease lapsed. */
  watch(): void {
    this.keeper?.heartbeat();
    for (const rt of this.runtimes.values()) rt.checkProof();
  }

  /** The keeper reports a lease gone: its runtime stops writing. */
  onLost(key: string, epoch: number): void {
    const rt = this.runtimes.get(key);
    if (rt && rt.epoch === epoch) rt.lose('taken-over');
  }

  private onWake(message: WakeMessage): void {
    this.dispatch(message.key, message.type === 'cancel' ? { cancelRunId: message.runId } : { urgent: message.urgent });
  }

  private onRuntimeExit(runtime: { readonly key: string }, rewake: boolean): void {
    if (this.runtimes.get(runtime.key) === runtime) this.runtimes.delete(runtime.key);
    if (rewake) this.dispatch(runtime.key);
  }

  /**
   * A background call failed. The store being unavailable is expected to pass (the safety-net
   * scan tries again); anything else is reported as `kernel:error`.
   */
  private report(error: unknown, context: string): void {
    if (error instanceof StoreUnavailableError) return; // recorded by the outage; the scan tries again
    this.deps.logger.error(`holdfast: error while ${context}`, { error: String(error) });
    this.deps.events.emit('kernel:error', { error, context });
  }
}

/** What two notices for one key ask for together. */
function mergeNotices(a: Notice | undefined, b: Notice): Notice {
  return { urgent: Boolean(a?.urgent) || Boolean(b.urgent), cancelRunId: b.cancelRunId ?? a?.cancelRunId };
}
