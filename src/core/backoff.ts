/**
 * Capped exponential backoff: the wait before attempt `attempt + 1` after `attempt` failures
 * (`attempt` from 1) is `initialMs * factor^(attempt - 1)`, at most `maxMs`. With `jitter` in
 * [0, 1) drawn by the caller, the wait is spread over [wait / 2, wait) so that many waiters that
 * failed together do not retry together. Pure: randomness is an argument.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, jitter?: number): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, exponent));
  const capped = Number.isFinite(raw) ? raw : policy.maxMs;
  return jitter === undefined ? capped : capped / 2 + (capped / 2) * jitter;
}
