// A store that fails on demand, and a recorder of the kernel's outage and ownership events, for the
// in-process fault tests (test/unit/faults).
import { StoreUnavailableError, type Kernel, type KernelEvents, type Store } from 'holdfast';
import type { VirtualClock } from 'holdfast/testing';

export type Method = { [K in keyof Store]-?: Store[K] extends ((...args: never[]) => unknown) | undefined ? K : never }[keyof Store];

/**
 * A store decorator for these tests: `failNext(method, n)` makes the next `n` calls of a method
 * reject as unavailable (nothing reaches the inner store); `down` makes every call reject. `calls`
 * counts every call that was made, failed or not.
 */
export function unreliable(inner: Store) {
  const failures = new Map<string, number>();
  const calls = new Map<string, number>();
  const state = { down: false };
  const store = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        const left = failures.get(prop) ?? 0;
        if (state.down || left > 0) {
          if (left > 0) failures.set(prop, left - 1);
          return Promise.reject(new StoreUnavailableError('locked', 'test store', 'held by another process'));
        }
        return method.apply(target, args);
      };
    },
  });
  return {
    store,
    state,
    failNext: (method: Method, n: number) => failures.set(method, n),
    calls: (method: Method) => calls.get(method) ?? 0,
  };
}

export function recorder(kernel: Kernel) {
  const log = {
    unavailable: [] as KernelEvents['store:unavailable'][],
    recovered: [] as KernelEvents['store:recovered'][],
    failed: [] as KernelEvents['run:failed'][],
    lost: [] as (KernelEvents['owner:lost'] & { at: number })[],
    acquired: [] as KernelEvents['owner:acquired'][],
  };
  kernel.on('store:unavailable', (e) => log.unavailable.push(e));
  kernel.on('store:recovered', (e) => log.recovered.push(e));
  kernel.on('run:failed', (e) => log.failed.push(e));
  kernel.on('owner:acquired', (e) => log.acquired.push(e));
  return log;
}

/**
 * Advances the clock in small steps until `condition` holds (at most `maxMs`; with 0, only lets
 * pending promise chains run without moving time).
 */
export async function advanceUntil(clock: VirtualClock, condition: () => boolean, maxMs: number, stepMs = 50): Promise<void> {
  for (let turn = 0; turn < 100 && !condition(); turn++) await clock.flush();
  for (let waited = 0; !condition(); waited += stepMs) {
    if (waited >= maxMs) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
    await clock.advance(stepMs);
  }
}
