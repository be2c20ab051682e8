/*
 * A test-only Store decorator that delays every port call (its `lanes` calls included) by a seeded
 * number of macrotask turns before it reaches the inner store, and again before its result reaches
 * the caller. Calls issued in the same tick are therefore applied, and complete, in a seeded order
 * rather than issue order, so tests can prove correctness never depends on that order.
 *
 * Guarantees: for a given seed and call sequence the delays (hence the orders) are the same on
 * every run; results and errors are never changed (same values, same error objects); the set of
 * members is the inner store's (methods found on it and its prototype chain are wrapped, data
 * passes through, absent optional members stay absent), so it follows the port as it grows.
 */
import type { Store } from '../ports/store.js';
import { seededRandom } from './seeded-random.js';

/** Options of `reorderingStore`. */
export interface ReorderingStoreOptions {
  readonly seed: number;
  /** The most macrotask turns one call waits before it is applied, and again before it settles. Default 8. */
  readonly maxDelayTurns?: number;
}

type Members = Record<PropertyKey, unknown>;

export function reorderingStore(inner: Store, options: ReorderingStoreOptions): Store {
  const maxDelayTurns = options.maxDelayTurns ?? 8;
  if (!Number.isInteger(maxDelayTurns) || maxDelayTurns < 0) {
    throw new RangeError(`reorderingStore: maxDelayTurns must be a non-negative integer, got ${maxDelayTurns}`);
  }
  const random = seededRandom(options.seed);
  const drawTurns = (): number => Math.floor(random.next() * (maxDelayTurns + 1));
  const delay = (target: object, method: (...args: unknown[]) => unknown) =>
    function (...args: unknown[]): Promise<unknown> {
      const before = drawTurns();
      const after = drawTurns();
      return delayed(() => Reflect.apply(method, target, args), before, after);
    };
  return wrapMembers(inner, delay, (key, value) =>
    key === 'lanes' && typeof value === 'object' && value !== null ? wrapMembers(value, delay) : value,
  ) as unknown as Store;
}

/**
 * A frozen plain object with every member of `target` (own and inherited, `constructor` and
 * Object.prototype's excluded): methods wrapped by `wrap`, accessors read through to `target`,
 * data values passed through `mapData`.
 */
function wrapMembers(
  target: object,
  wrap: (target: object, method: (...args: unknown[]) => unknown) => unknown,
  mapData: (key: PropertyKey, value: unknown) => unknown = (_key, value) => value,
): Members {
  const wrapped: Members = {};
  const seen = new Set<PropertyKey>(['constructor']);
  for (let level: object | null = target; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
    for (const key of Reflect.ownKeys(level)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const descriptor = Object.getOwnPropertyDescriptor(level, key)!;
      if (typeof descriptor.value === 'function') {
        wrapped[key] = wrap(target, descriptor.value as (...args: unknown[]) => unknown);
      } else if (descriptor.get !== undefined || descriptor.set !== undefined) {
        Object.defineProperty(wrapped, key, { enumerable: true, get: () => Reflect.get(target, key) });
      } else {
        wrapped[key] = mapData(key, descriptor.value);
      }
    }
  }
  return Object.freeze(wrapped);
}

/** Waits `before` turns, runs `call`, waits `after` turns, then settles with its outcome unchanged. */
async function delayed(call: () => unknown, before: number, after: number): Promise<unknown> {
  await turns(before);
  let outcome: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
  try {
    outcome = { ok: true, value: await call() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  await turns(after);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** Resolves after `count` macrotask turns (setImmediate; FIFO, so equal counts keep call order). */
function turns(count: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number): void => {
      if (left <= 0) resolve();
      else setImmediate(() => step(left - 1));
    };
    step(count);
  });
}
