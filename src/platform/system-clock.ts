import { randomUUID } from 'node:crypto';
import type { Clock, Random } from '../ports/clock.js';

/**
 * The real wall clock and timers. The only place holdfast reads ambient time. Timers keep the
 * process alive, so a started kernel serves until `stop()`, like a listening server.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
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
