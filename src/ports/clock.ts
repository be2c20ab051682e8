import type { Millis } from '../model/index.js';

/** A cancellable timer handle returned by Clock.setTimer. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The only way holdfast reads time or waits. `platform/system-clock` is the real one; the
 * `holdfast/testing` virtual clock advances only when told, so tests never sleep.
 */
export interface Clock {
  /** Wall-clock time: what is recorded in the store and compared across processes. */
  now(): Millis;
  /**
   * A clock that never jumps (unaffected by wall-clock adjustments), in milliseconds from an
   * arbitrary origin: what lease deadlines inside one process are measured on. A virtual clock
   * returns its `now()`.
   */
  monotonic(): number;
  /** Calls `fn` once after `ms` milliseconds unless cancelled first. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** Randomness, injected for the same reason as time. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** A unique identifier (for runs and owners). */
  uuid(): string;
}
