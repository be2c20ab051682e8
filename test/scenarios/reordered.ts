import type { ReorderingStoreOptions, VirtualClock } from 'holdfast/testing';

/**
 * The seeds a reordered suite runs: `first..last` by default; HOLDFAST_SEEDS=`a..b` runs a to b
 * and HOLDFAST_SEEDS=`n` runs 1 to n (for hunting interleavings beyond the default range).
 */
export function seedRange(spec: string | undefined, first: number, last: number): [number, number] {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(spec ?? '');
  if (!match) return [first, last];
  return match[2] === undefined ? [1, Number(match[1])] : [Number(match[1]), Number(match[2])];
}

/**
 * The decorator's options for `seed`: its default delays, or HOLDFAST_MAX_DELAY_TURNS=`n` (longer
 * delays widen the windows two calls race in, for hunting).
 */
export function reorderingOptions(seed: number): ReorderingStoreOptions {
  const spec = process.env.HOLDFAST_MAX_DELAY_TURNS ?? '';
  return /^\d+$/.test(spec) ? { seed, maxDelayTurns: Number(spec) } : { seed };
}

/**
 * Moves a virtual clock by `ms` in steps of `stepMs`, letting the event loop turn `turns` times
 * after each step. `clock.advance` turns the loop once per timer, so a store whose calls take
 * several turns (reorderingStore: up to twice its maxDelayTurns, 8 by default) would see virtual
 * time race ahead of it: a renewal taking 16 turns would take seconds of lease time. Stepping keeps
 * a store call well inside a step, as a real store's latency is well inside a lease.
 */
export async function advanceInSteps(clock: VirtualClock, ms: number, options: { stepMs?: number; turns?: number } = {}): Promise<void> {
  const { stepMs = 50, turns = 40 } = options;
  const end = clock.now() + ms;
  while (clock.now() < end) {
    await clock.advance(Math.min(stepMs, end - clock.now()));
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
