import { randomUUID } from 'node:crypto';
import type { Clock, Random } from '../ports/clock.js';

/** The real wall clock and timers. The only place holdfast reads ambient time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Real randomness: Math.random and crypto UUIDs. */
export const systemRandom: Random = {
  next: () => Math.random(),
  uuid: () => randomUUID(),
};
