import type { EffectRecord, Json, Millis, RunId } from '../model/index.js';

/**
 * The outbox's claim rules (D3, and the owed-reply rules of the Kennel seed's `prepare_reply`),
 * as one pure decision both stores apply inside their transaction.
 *
 * - An effect key is one action on the outside world. Delivered once, it is never emitted again:
 *   any later claim gets its first artifact.
 * - While one run holds a claim, another run's claim of the same key waits (`busy`); the holder
 *   re-emits with the same key after a crash, or after a failed emit once its backoff is over.
 * - An effect may cover origins (comments answered by one reply). An origin covered by a claimed
 *   or delivered effect under another key is not claimed again; an effect whose every origin is
 *   covered elsewhere owes nothing (`covered`). A failed emit releases its origins.
 */
export type EffectDecision =
  | { readonly kind: 'conflict'; readonly existingName: string }
  | { readonly kind: 'delivered'; readonly artifact: Json }
  | { readonly kind: 'covered'; readonly coveredBy: readonly string[] }
  | { readonly kind: 'busy'; readonly holder: RunId }
  | { readonly kind: 'backoff'; readonly retryAt: Millis }
  | { readonly kind: 'claim'; readonly record: EffectRecord };

export interface EffectClaimRequest {
  readonly runId: RunId;
  readonly name: string;
  readonly effectKey: string;
  readonly origins: readonly string[];
  readonly now: Millis;
}

/**
 * @param existing the effect under `request.effectKey`, if any
 * @param coveringKey the key of the claimed or delivered effect that covers an origin, if any
 */
export function decideEffectClaim(
  existing: EffectRecord | undefined,
  coveringKey: (origin: string) => string | undefined,
  request: EffectClaimRequest,
): EffectDecision {
  if (existing !== undefined && existing.name !== request.name) return { kind: 'conflict', existingName: existing.name };
  if (existing?.status === 'delivered') return { kind: 'delivered', artifact: existing.artifact ?? null };
  if (existing?.status === 'claimed' && existing.runId !== request.runId) return { kind: 'busy', holder: existing.runId };
  if (existing?.status === 'claimed') return { kind: 'claim', record: { ...existing, attempts: existing.attempts + 1 } };
  if (existing?.status === 'failed') {
    const retryPending = existing.nextAttemptAt !== null;
    if (existing.runId !== request.runId && retryPending) return { kind: 'busy', holder: existing.runId };
    if (existing.runId === request.runId && retryPending && existing.nextAttemptAt > request.now) {
      return { kind: 'backoff', retryAt: existing.nextAttemptAt };
    }
  }
  const coveredBy = new Set<string>();
  const origins: string[] = [];
  for (const origin of new Set(request.origins)) {
    const covering = coveringKey(origin);
    if (covering !== undefined && covering !== request.effectKey) coveredBy.add(covering);
    else origins.push(origin);
  }
  if (request.origins.length > 0 && origins.length === 0) return { kind: 'covered', coveredBy: [...coveredBy].sort() };
  return {
    kind: 'claim',
    record: {
      key: request.effectKey,
      name: request.name,
      runId: request.runId,
      status: 'claimed',
      origins,
      attempts: (existing?.attempts ?? 0) + 1,
      artifact: undefined,
      error: undefined,
      nextAttemptAt: null,
      claimedAt: request.now,
      deliveredAt: null,
    },
  };
}

/**
 * Emit backoff of an effect (D3): `min(1 h, 2^n s)` after the n-th failed attempt (2 s, 4 s, 8 s
 * ... one hour), so an owed reply is retried for as long as it takes, never less than hourly.
 */
export function effectRetryDelay(failedAttempts: number): number {
  return Math.min(3_600_000, 1_000 * 2 ** Math.max(1, failedAttempts));
}

/** Why an effect was let go: the run that held its claim ended before recording it. */
export function heldEffectMessage(runId: RunId, status: string): string {
  return `run ${runId} ended ${status} while it held this effect; the next claim of its key emits it again with the same key`;
}

/**
 * An effect held by a run that just ended, let go (D3): a claim that was never recorded becomes a
 * failed attempt (`run_ended`) claimable at once, and a failed attempt waiting for its backoff
 * loses the backoff, so the next run that claims the key emits it with the same idempotence key;
 * its origins are no longer covered. Undefined when the effect is not held by `runId`.
 */
export function releasedEffect(effect: EffectRecord, runId: RunId, status: string): EffectRecord | undefined {
  if (effect.runId !== runId) return undefined;
  if (effect.status === 'claimed') {
    const error = { code: 'run_ended', message: heldEffectMessage(runId, status) };
    return { ...effect, status: 'failed', error, nextAttemptAt: null };
  }
  if (effect.status === 'failed' && effect.nextAttemptAt !== null) return { ...effect, nextAttemptAt: null };
  return undefined;
}
