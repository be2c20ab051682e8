import type { Json } from './json.js';
import type { Millis, RunId } from './ids.js';
import type { RunError } from './run.js';

export const EFFECT_STATUSES = ['claimed', 'delivered', 'failed'] as const;
/**
 * An effect in the outbox (D3): `claimed` (owed: claimed before it was emitted, not yet recorded),
 * `delivered` (its artifact recorded), `failed` (the last emit failed; retried at `nextAttemptAt`,
 * or never when that is null).
 */
export type EffectStatus = (typeof EFFECT_STATUSES)[number];

export interface EffectRecord {
  /** The effect's idempotence key: one outside-world action, emitted at most once per key. */
  readonly key: string;
  readonly name: string;
  /** The run that holds (or delivered) it. */
  readonly runId: RunId;
  readonly status: EffectStatus;
  /** What it answers (comments answered by one reply); each origin is covered by one effect. */
  readonly origins: readonly string[];
  /** Emits started so far. */
  readonly attempts: number;
  readonly artifact: Json | undefined;
  readonly error: RunError | undefined;
  readonly nextAttemptAt: Millis | null;
  readonly claimedAt: Millis;
  readonly deliveredAt: Millis | null;
}
