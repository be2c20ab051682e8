import type { Millis } from '../model/index.js';

/** How a supervisor restarts a worker that exited (S1). */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more and the supervisor gives up. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Delay before the first restart in the window; doubled for each further one, at most `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly history: readonly Millis[] }
  | { readonly action: 'give-up'; readonly restarts: number; readonly windowMs: number };

/**
 * Decides what to do about a worker seen dead at `now`, given when it was restarted before
 * (`history`). Only restarts inside the window count: a worker that crashes once a day is
 * restarted forever, one that crashes at every start reaches the give-up path after
 * `maxRestarts` restarts.
 */
export function decideRestart(history: readonly Millis[], now: Millis, policy: RestartPolicy): RestartDecision {
  const recent = history.filter((at) => now - at < policy.windowMs);
  if (recent.length >= policy.maxRestarts) return { action: 'give-up', restarts: recent.length, windowMs: policy.windowMs };
  const delayMs = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** recent.length);
  return { action: 'restart', delayMs, history: [...recent, now] };
}

/** Whether a worker last heard from at `lastBeatAt` counts as hung at `now` (never merely for being slow below the bound). */
export function isHung(lastBeatAt: Millis, now: Millis, hungAfterMs: number): boolean {
  return now - lastBeatAt > hungAfterMs;
}

/** The worker (of `count`) that is told first about work for `key`: a stable hash, so one key goes to one worker. */
export function workerForKey(key: string, count: number): number {
  let hash = 2166136261;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % count;
}
