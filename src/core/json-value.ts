import type { Json } from '../model/index.js';

/**
 * Where `value` stops being plain JSON, as a path like `input.items[2].at`, or undefined if it is
 * plain JSON all the way down. Plain JSON means: null, booleans, finite numbers, strings, arrays
 * and plain objects. Anything else (undefined inside a structure, functions, bigint, NaN, Dates,
 * Maps, class instances, cycles) would not survive a round trip through the journal unchanged.
 */
export function findNonJson(value: unknown, path = '$'): string | undefined {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} (${value})`;
  if (typeof value !== 'object') return `${path} (${typeof value})`;
  if (seen.has(value)) return `${path} (a cycle)`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = walk(value[i], `${path}[${i}]`, seen);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      return `${path} (an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'a class'})`;
    }
    for (const [k, v] of Object.entries(value)) {
      const bad = walk(v, `${path}.${k}`, seen);
      if (bad !== undefined) return bad;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}

/** Narrowing form of findNonJson. */
export function isJson(value: unknown): value is Json {
  return findNonJson(value) === undefined;
}

/** Deep equality of two JSON values; object key order does not matter. */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}
