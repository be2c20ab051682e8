import { RetryableError } from '../../errors.js';
import type { EffectCall } from '../../runtime/flow.js';

/** What the receiver did with one emission. */
export type Reception = 'applied' | 'deduplicated' | 'refused-stale' | 'failed';

/**
 * The outside world of the simulation's effects: an API that dedupes on the idempotence key (a
 * repeat gets the first artifact back and changes nothing) and checks fencing tokens (it remembers
 * the highest epoch seen per key and refuses lower ones, as FlowContext.fencingToken advises), so
 * a replaced owner's in-flight emit cannot act. `failFirst` keys fail their first emission (the
 * outbox's retry with backoff). `applied` is what really happened out there.
 */
export class EffectReceiver {
  /** idempotence key -> artifact of the one emission that was applied. */
  readonly applied = new Map<string, string>();
  private readonly highestEpoch = new Map<string, number>();
  private readonly failedOnce = new Set<string>();

  constructor(private readonly log: (line: string) => void) {}

  /** Emits for run `runId`; `failFirst` makes the first emission of this key fail (retryable). */
  emit(call: EffectCall, runId: string, failFirst: boolean): string {
    const reception = this.receive(call, failFirst);
    this.log(`receiver ${reception} ${call.idempotencyKey} (epoch ${call.fencingToken.epoch}, attempt ${call.attempt})`);
    if (reception === 'refused-stale')
      throw new RetryableError(`stale fencing token for ${call.fencingToken.key}`, { code: 'stale_token' });
    if (reception === 'failed')
      throw new RetryableError(`the receiver failed ${call.idempotencyKey} (simulated)`, { code: 'receiver_down' });
    return this.applied.get(call.idempotencyKey) ?? `artifact-of-${runId}`;
  }

  private receive(call: EffectCall, failFirst: boolean): Reception {
    const { key, epoch } = call.fencingToken;
    if (epoch < (this.highestEpoch.get(key) ?? 0)) return 'refused-stale';
    this.highestEpoch.set(key, epoch);
    if (this.applied.has(call.idempotencyKey)) return 'deduplicated';
    if (failFirst && !this.failedOnce.has(call.idempotencyKey)) {
      this.failedOnce.add(call.idempotencyKey);
      return 'failed';
    }
    this.applied.set(call.idempotencyKey, `artifact:${call.idempotencyKey}`);
    return 'applied';
  }
}
