import { decideHeartbeats } from '../core/lane-lease/decide-run.js';
import { StoreUnavailableError } from '../errors.js';
import { LaneLostError } from '../lane-errors.js';
import type { LiveLease } from '../model/index.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { LaneStore } from '../ports/lane-store.js';
import type { KernelEventEmitter } from './events.js';

/** The shortest and longest wait between two beats of one lease. */
const MIN_BEAT_MS = 200;
const MAX_BEAT_MS = 60_000;
/** How soon a tick that failed because the store was unavailable is tried again. */
const RETRY_MS = 1_000;

/** A lease being beaten while a `ctx.lane` function runs. */
export interface LaneScope {
  readonly runId: string;
  /** The lease as last known (its holder changes when this execution adopted it). */
  readonly lease: LiveLease;
  /** Aborted with LaneLostError when a beat finds the lease no longer held by this holder. */
  readonly signal: AbortSignal;
  /** Still beaten: neither closed nor lost. */
  readonly open: boolean;
  readonly lost: boolean;
  /** Stops beating (idempotent). */
  close(): void;
}

/**
 * Heartbeats of the lane leases held by the `ctx.lane` functions running in this process (L5).
 * Coalesced twice: one timer for all of them, and every lease due at a tick is beaten in one
 * store transaction; a lease is beaten every quarter of its TTL (within 200 ms .. 60 s), and
 * a beat younger than half that writes nothing. A beat that finds the lease gone (released,
 * scavenged, adopted by a newer execution of the run) marks the scope lost and aborts its
 * signal. A process that dies stops beating: its leases expire after TTL + grace.
 *
 * States of a scope: open (beaten) -> closed (the function settled, or its execution ended) or
 * lost (a beat found the lease gone).
 */
export class LaneHeartbeats {
  private readonly scopes = new Set<Scope>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private ticking = false;
  private stopped = false;

  constructor(
    private readonly lanes: LaneStore,
    private readonly clock: Clock,
    private readonly events: KernelEventEmitter,
    private readonly caller: () => { readonly host: string; readonly pid: number },
  ) {}

  /** Starts beating `lease`, held by `runId`, whose TTL is `ttlMs`. */
  open(runId: string, lease: LiveLease, ttlMs: number): LaneScope {
    const everyMs = Math.min(MAX_BEAT_MS, Math.max(MIN_BEAT_MS, Math.floor(ttlMs / 4)));
    const scope = new Scope(runId, lease, everyMs, this.clock.monotonic() + everyMs, (s) => this.scopes.delete(s));
    if (!this.stopped) {
      this.scopes.add(scope);
      this.arm();
    }
    return scope;
  }

  /** Stops beating every lease of `runId` (its execution ended: it waits, or was interrupted). */
  closeRun(runId: string): void {
    for (const scope of [...this.scopes]) if (scope.runId === runId) scope.close();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const scope of [...this.scopes]) scope.close();
  }

  private arm(): void {
    if (this.stopped || this.ticking || this.scopes.size === 0) return;
    const due = Math.min(...[...this.scopes].map((s) => s.nextBeatAt));
    if (this.timer !== undefined && due >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = due;
    this.timer = this.clock.setTimer(Math.max(0, due - this.clock.monotonic()), () => void this.tick());
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    const mono = this.clock.monotonic();
    const due = [...this.scopes].filter((s) => s.nextBeatAt <= mono);
    if (due.length === 0) return this.arm();
    this.ticking = true;
    let retryAt: number | undefined;
    try {
      const coalesceWithinMs = Math.min(...due.map((s) => s.everyMs)) / 2;
      const beats = due.map((s) => ({ lane: s.lease.lane, lease: s.lease.id, owner: s.lease.holder }));
      const now = this.clock.now();
      const { value } = await this.lanes.transact((view) => decideHeartbeats(view, beats, { now, ...this.caller(), coalesceWithinMs }));
      const after = this.clock.monotonic();
      due.forEach((scope, i) => {
        const beat = value[i]!;
        if (beat.beaten) scope.beaten(beat.lease, after);
        else scope.lose();
      });
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) this.events.emit('kernel:error', { error, context: 'lane heartbeats' });
      retryAt = this.clock.monotonic() + RETRY_MS;
      for (const scope of due) scope.nextBeatAt = Math.min(scope.nextBeatAt + scope.everyMs, retryAt);
    } finally {
      this.ticking = false;
    }
    this.arm();
  }
}

class Scope implements LaneScope {
  private readonly controller = new AbortController();
  private state: 'open' | 'closed' | 'lost' = 'open';

  constructor(
    readonly runId: string,
    public lease: LiveLease,
    readonly everyMs: number,
    public nextBeatAt: number,
    private readonly forget: (scope: Scope) => void,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get open(): boolean {
    return this.state === 'open';
  }
  get lost(): boolean {
    return this.state === 'lost';
  }

  close(): void {
    if (this.state === 'open') this.state = 'closed';
    this.forget(this);
  }

  beaten(lease: LiveLease, at: number): void {
    if (this.state !== 'open') return;
    this.lease = lease;
    this.nextBeatAt = at + this.everyMs;
  }

  lose(): void {
    if (this.state !== 'open') return;
    this.state = 'lost';
    this.forget(this);
    this.controller.abort(new LaneLostError(this.lease.lane, this.lease.id, this.runId));
  }
}
