import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';

/**
 * Runs compacted per store transaction. Every write of the store waits behind a transaction in
 * progress, step commits included, and one run's journal takes tens of microseconds to delete, so
 * batches are small: a few tenths of a millisecond each, which keeps the step commit p99 within
 * about 2x of its usual value while a large backlog is compacted (bench/durable.ts), at about
 * 3,000 runs a second on a small machine.
 */
export const COMPACT_BATCH = 5;

/**
 * Retention (D5): prunes the step journals of runs that ended more than `completedAfterMs` ago,
 * in short transactions of `COMPACT_BATCH` runs each, letting the event loop and other writers in
 * between. Each run keeps its summary and its idempotence key.
 * Dies part way: what was compacted stays compacted, the rest is taken by the next call. Returns
 * the totals.
 */
export async function compactFinished(
  store: Store,
  clock: Clock,
  completedAfterMs: number,
  events?: KernelEventEmitter,
): Promise<{ runs: number; steps: number; bytes: number }> {
  const totals = { runs: 0, steps: 0, bytes: 0 };
  const finishedBefore = clock.now() - completedAfterMs;
  for (;;) {
    const batch = await store.compactRuns({ finishedBefore, limit: COMPACT_BATCH });
    totals.runs += batch.runs;
    totals.steps += batch.steps;
    totals.bytes += batch.bytes;
    if (batch.runs < COMPACT_BATCH) break;
    await new Promise<void>((resolve) => clock.setTimer(0, resolve));
  }
  if (totals.runs > 0) events?.emit('journal:compacted', totals);
  return totals;
}
