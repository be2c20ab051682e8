import { randomUUID } from 'node:crypto';
import type { Clock, Random } from '../ports/clock.js';

/**
 * Monotonic milliseconds from the process's CLOCK_MONOTONIC (`process.hrtime`), the same clock in
 * every thread of the process: a lease deadline written by one thread can be checked by another.
 */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * The real wall clock and timers. The only place holdfast reads ambient time. Timers keep the
 * process alive, so a started kernel serves until `stop()`, like a listening server.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: monotonicNow,
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Real randomness: Math.random and crypto UUIDs. */
export const systemRandom: Random = {
  next: () => Math.random(),
  uuid: () => randomUUID(),
};
