import { InvalidInputError, RetryableError, TerminalError } from '../errors.js';
import { backoffDelay } from './backoff.js';

/**
 * How a failing step is tried again (D6): at most `maxAttempts` attempts in all, waiting
 * `initialMs * factor^(n-1)` (at most `maxMs`) after the n-th failure. Between attempts the run
 * waits durably, without holding its key.
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** What a step without a policy gets for a RetryableError: 3 attempts, 1 s then 2 s. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialMs: 1_000, maxMs: 30_000, factor: 2 };

/**
 * Whether the failure of attempt `attempt` is retried, and after how long. A TerminalError never
 * is. A RetryableError is, under the step's (or flow's) policy or the default one, and its
 * `retryAfterMs` replaces the backoff. Any other error is retried only when a policy was given.
 */
export function retryDecision(
  error: unknown,
  attempt: number,
  policy: RetryPolicy | undefined,
): { readonly retry: false } | { readonly retry: true; readonly delayMs: number } {
  if (error instanceof TerminalError) return { retry: false };
  const retryable = error instanceof RetryableError;
  if (!retryable && policy === undefined) return { retry: false };
  const effective = policy ?? DEFAULT_RETRY;
  if (attempt >= effective.maxAttempts) return { retry: false };
  const delayMs = retryable && error.retryAfterMs !== undefined ? error.retryAfterMs : backoffDelay(effective, attempt);
  return { retry: true, delayMs };
}

/** A retry policy from user options, with defaults for what is left out; a typed error names a bad field. */
export function checkRetryPolicy(value: unknown, where: string): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object')
    throw new InvalidInputError(`${where}: retry must be an object { maxAttempts, initialMs, maxMs, factor }`, 'invalid_retry');
  const v = value as Partial<Record<keyof RetryPolicy, unknown>>;
  const policy: RetryPolicy = {
    maxAttempts: v.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    initialMs: v.initialMs ?? DEFAULT_RETRY.initialMs,
    maxMs: v.maxMs ?? DEFAULT_RETRY.maxMs,
    factor: v.factor ?? DEFAULT_RETRY.factor,
  } as RetryPolicy;
  const bad = (field: keyof RetryPolicy, expected: string) =>
    new InvalidInputError(
      `${where}: retry.${field} must be ${expected}, got ${JSON.stringify(policy[field]) ?? String(policy[field])}`,
      'invalid_retry',
    );
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw bad('maxAttempts', 'a positive integer');
  if (!Number.isFinite(policy.initialMs) || policy.initialMs < 0) throw bad('initialMs', 'a number of milliseconds >= 0');
  if (!Number.isFinite(policy.maxMs) || policy.maxMs < policy.initialMs) throw bad('maxMs', 'a number of milliseconds >= initialMs');
  if (!Number.isFinite(policy.factor) || policy.factor < 1) throw bad('factor', 'a number >= 1');
  return policy;
}
