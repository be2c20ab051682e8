import type { Millis } from '../model/index.js';
import type { Clock, TimerHandle } from '../ports/clock.js';

/**
 * A Clock whose time moves only when a test says so. Timers fire in due-time order, timers due at
 * the same instant in the order they were set.
 *
 * Between two firings (and after the last) the clock lets the event loop turn once with
 * `setImmediate`. That drains every pending microtask, so a promise chain of any length started by
 * a timer (`await store.commit(); await next()...`) progresses before the next timer fires; a fixed
 * number of `await Promise.resolve()` would silently stop partway through longer chains. It also
 * lets already-completed I/O callbacks run; nothing real waits on wall time.
 */
export interface VirtualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer due up to the new time — including timers set by
   * fired timers within the window — each at its own due time.
   */
  advance(ms: number): Promise<void>;
  /** Moves time to `at` (not backwards); same as `advance(at - now())`. */
  advanceTo(at: Millis): Promise<void>;
  /**
   * Fires pending timers in order, moving time to each one's due time, until none is left. Throws
   * after `maxTimers` firings (default 10,000), which usually means a timer that re-arms itself.
   */
  runAll(options?: { maxTimers?: number }): Promise<void>;
  /** How many timers are pending. */
  pending(): number;
  /** When the next pending timer is due, or undefined. */
  nextDueAt(): Millis | undefined;
  /** Lets pending promise chains progress without moving time. */
  flush(): Promise<void>;
}

interface Timer {
  readonly due: Millis;
  readonly order: number;
  readonly fn: () => void;
}

export function virtualClock(start: Millis = 0): VirtualClock {
  let now = start;
  let order = 0;
  const timers = new Set<Timer>();

  const next = (): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers) if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    return best;
  };
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  const fire = async (timer: Timer) => {
    timers.delete(timer);
    now = Math.max(now, timer.due);
    timer.fn();
    await flush();
  };

  const clock: VirtualClock = {
    now: () => now,
    monotonic: () => now,
    setTimer(ms: number, fn: () => void): TimerHandle {
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      const timer: Timer = { due: now + delay, order: order++, fn };
      timers.add(timer);
      return { cancel: () => void timers.delete(timer) };
    },
    async advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`virtualClock.advance: ms must be >= 0, got ${ms}`);
      const target = now + ms;
      await flush();
      for (let t = next(); t && t.due <= target; t = next()) await fire(t);
      now = target;
      await flush();
    },
    advanceTo(at) {
      return clock.advance(Math.max(0, at - now));
    },
    async runAll(options = {}) {
      const max = options.maxTimers ?? 10_000;
      await flush();
      for (let fired = 0, t = next(); t; t = next()) {
        if (fired++ >= max) throw new Error(`virtualClock.runAll: more than ${max} timers fired; is a timer re-arming itself?`);
        await fire(t);
      }
    },
    pending: () => timers.size,
    nextDueAt: () => next()?.due,
    flush,
  };
  return clock;
}
