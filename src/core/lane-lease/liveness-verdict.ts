import type { LaneRecord, LiveLease } from '../../model/lane.js';
import type { Millis } from '../../model/run.js';
import { changesState } from './replay.js';

/**
 * Liveness verdict of a live lease over a beat window ending `now`. Pure.
 *
 * - `stalled`: its newest beat (heartbeat, adopt or the acquire itself) is older than the window;
 * - `advancing`: fresh beat, and progress within the window: a state-changing record (acquire,
 *   release, adopt, scavenge) on its lane or by its holder, or a step the holding run committed
 *   (`runCommits`: the commit times of the run that took the lease with `ctx.lane`);
 * - `spinning`: fresh beats but no such progress: alive, not progressing.
 *
 * Heartbeats are not progress, and a checkpoint never counts, so compaction can only make a lease
 * look less alive, never more.
 */
export type LivenessVerdict = 'advancing' | 'spinning' | 'stalled';

export const DEFAULT_BEAT_WINDOW_MS = 15 * 60_000;

export function livenessVerdict(
  lease: LiveLease,
  recent: readonly LaneRecord[],
  now: Millis,
  windowMs: number,
  runCommits: readonly Millis[] = [],
): LivenessVerdict {
  const windowStart = now - windowMs;
  if (lease.beatAt < windowStart) return 'stalled';
  const progressed = recent.some(
    (r) =>
      r.at >= windowStart &&
      changesState(r) &&
      r.op !== 'heartbeat' &&
      r.op !== 'checkpoint' &&
      (r.lane === lease.lane || (r.holder !== null && r.holder === lease.holder)),
  );
  return progressed || runCommits.some((at) => at >= windowStart) ? 'advancing' : 'spinning';
}
