import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';

/** Runs compacted per store transaction: short, so step commits never wait long behind one. */
export const COMPACT_BATCH = 500;

/**
 * Retention (D5): prunes the step journals of runs that ended more than `completedAfterMs` ago,
 * batch after batch, letting the event loop (and other writers) in between batches. Each run keeps
 * its summary and its idempotence key. Returns the totals.
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
