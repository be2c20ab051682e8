import type { Random } from '../../ports/clock.js';
import type { TurnFault } from './sim-providers.js';
import type { WakeFate } from './sim-wake.js';

/**
 * How often each fault is injected, as a chance per occasion. Store faults are decided when a
 * kernel's call reaches the store: any call may fail as unavailable (nothing written); at a write
 * (every durable boundary) its kernel may also crash just before it (never applied) or just after
 * it (applied, the result never heard), or pause with it in flight (applied after the pause,
 * which may outlast the lease). A crashed kernel is rebuilt on the same store, as a restart would.
 */
export interface FaultOptions {
  /** Per store call: fails with StoreUnavailableError (default 0.02). */
  readonly storeUnavailable?: number;
  /** Per store write: its kernel crashes just before or just after it (default 0.01). */
  readonly crash?: number;
  /** Per store write: its kernel is paused with the write in flight (default 0.015). */
  readonly pause?: number;
  /**
   * Besides the store boundaries, every `tickMs` (default 1 500) a kernel picked from the seed may
   * be paused (default chance 0.1: in the middle of a turn, a step, anything) or crash (0.03).
   */
  readonly tickMs?: number;
  readonly tickPause?: number;
  readonly tickCrash?: number;
  /** How long a pause lasts, [min, max] ms (default [100, 9 000]: short ones, and ones past the lease). */
  readonly pauseMs?: readonly [number, number];
  /** How long a crashed kernel stays down before its restart, [min, max] ms (default [0, 3 000]). */
  readonly restartMs?: readonly [number, number];
  /** Per wake message: lost (default 0.2), or delayed by wakeDelayMs (default 0.2, [0, 3 000] ms). */
  readonly wakeDrop?: number;
  readonly wakeDelay?: number;
  readonly wakeDelayMs?: readonly [number, number];
  /** Per provider turn: cut mid-stream, failing (default 0.05); answers late, ignoring its abort (default 0.15). */
  readonly turnAbort?: number;
  readonly turnLate?: number;
}

export type StoreFault = 'none' | 'unavailable' | 'crash-before' | 'crash-after' | 'pause';

export const NO_FAULTS: FaultOptions = {
  tickPause: 0,
  tickCrash: 0,
  storeUnavailable: 0,
  crash: 0,
  pause: 0,
  wakeDrop: 0,
  wakeDelay: 0,
  turnAbort: 0,
  turnLate: 0,
};

/** The seeded fault decisions; `enabled` is turned off for the healing phase at the end. */
export class FaultPlan {
  enabled = true;

  constructor(
    private readonly random: Random,
    private readonly options: FaultOptions,
  ) {}

  /** The fault for a store call; only writes (`write`) crash or pause their kernel. */
  storeFault(write: boolean): StoreFault {
    if (!this.enabled) return 'none';
    const r = this.random.next();
    const unavailable = this.options.storeUnavailable ?? 0.02;
    const crash = write ? (this.options.crash ?? 0.01) : 0;
    const pause = write ? (this.options.pause ?? 0.015) : 0;
    if (r < unavailable) return 'unavailable';
    if (r < unavailable + crash) return this.random.next() < 0.5 ? 'crash-before' : 'crash-after';
    if (r < unavailable + crash + pause) return 'pause';
    return 'none';
  }

  /** What strikes a kernel at a chaos tick. */
  tickFault(): 'none' | 'pause' | 'crash' {
    if (!this.enabled) return 'none';
    const r = this.random.next();
    const pause = this.options.tickPause ?? 0.1;
    if (r < pause) return 'pause';
    return r < pause + (this.options.tickCrash ?? 0.03) ? 'crash' : 'none';
  }

  get tickMs(): number {
    return this.options.tickMs ?? 1_500;
  }

  /** A number in [0, count) from the fault stream (which kernel a tick strikes). */
  pick(count: number): number {
    return Math.floor(this.random.next() * count);
  }

  pauseMs(): number {
    return this.between(this.options.pauseMs ?? [100, 9_000]);
  }

  restartMs(): number {
    return this.between(this.options.restartMs ?? [0, 3_000]);
  }

  wakeFate(): WakeFate {
    if (!this.enabled) return { kind: 'deliver' };
    const r = this.random.next();
    const drop = this.options.wakeDrop ?? 0.2;
    if (r < drop) return { kind: 'drop' };
    if (r < drop + (this.options.wakeDelay ?? 0.2)) return { kind: 'delay', delayMs: this.between(this.options.wakeDelayMs ?? [0, 3_000]) };
    return { kind: 'deliver' };
  }

  turnFault(): TurnFault {
    if (!this.enabled) return 'none';
    const r = this.random.next();
    const abort = this.options.turnAbort ?? 0.05;
    if (r < abort) return 'abort-mid-stream';
    if (r < abort + (this.options.turnLate ?? 0.15)) return 'late';
    return 'none';
  }

  private between([min, max]: readonly [number, number]): number {
    return min + Math.floor(this.random.next() * (max - min + 1));
  }
}
