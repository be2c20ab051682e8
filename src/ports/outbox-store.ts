import type { EffectRecord, EffectStatus, Json, Millis, RunError, RunId } from '../model/index.js';
import type { Fence } from './run-store.js';

/**
 * The outbox (D3): effects on the outside world, claimed durably before they are emitted and
 * recorded after, keyed by an idempotence key. Every method is one transaction; fenced methods
 * throw `StaleEpochError` (nothing written).
 */
export interface OutboxStore {
  /**
   * Fenced. Claims effect `effectKey` for the run's step at `seq`, deciding in one transaction:
   * - delivered already (by any run): journals its first artifact at `seq`; `delivered`.
   * - claimed or failed by this run (a crash between emit and record, or a retry that is due):
   *   claimed again with one more attempt; `claimed` (emit again, same key).
   * - claimed by another run, or failed by one whose retry is pending: `busy` (wait and look again).
   * - failed by this run with its retry not yet due: `backoff`.
   * - otherwise claimed, covering every origin no other claimed or delivered effect covers
   *   (`claimed`); when origins were given and all are covered elsewhere, journals that and
   *   answers `covered` with the covering effect keys: nothing is owed.
   * An effect key used before under another effect name throws `effect_key_conflict`.
   */
  claimEffect(request: ClaimEffect): Promise<EffectClaim>;

  /**
   * Fenced. Records a delivered effect: its artifact, and the journal entry at `seq`, in one
   * transaction. Recording an effect that is already delivered keeps its first artifact, which is
   * returned (and journaled).
   */
  recordEffect(request: RecordEffect): Promise<Json>;

  /**
   * Fenced. An emit failed: the effect is `failed` with the error, its origins are released (they
   * can be claimed again by any run), and, with `retryAt`, the run waits (`effect`) until then, in
   * one transaction. Without `retryAt` (a TerminalError) nothing will retry it.
   */
  failEffect(request: FailEffect): Promise<void>;

  /** Effects in the given statuses (all when omitted), oldest claim first. */
  listEffects(query?: { readonly status?: readonly EffectStatus[]; readonly limit?: number }): Promise<EffectRecord[]>;
}

export interface ClaimEffect extends Fence {
  readonly runId: RunId;
  readonly seq: number;
  readonly name: string;
  readonly effectKey: string;
  readonly origins: readonly string[];
  readonly now: Millis;
}

export type EffectClaim =
  | { readonly state: 'claimed'; readonly attempt: number; readonly origins: readonly string[] }
  | { readonly state: 'delivered'; readonly artifact: Json }
  | { readonly state: 'covered'; readonly coveredBy: readonly string[] }
  | { readonly state: 'busy'; readonly holder: RunId }
  | { readonly state: 'backoff'; readonly retryAt: Millis };

export interface RecordEffect extends Fence {
  readonly runId: RunId;
  readonly seq: number;
  readonly name: string;
  readonly effectKey: string;
  readonly artifact: Json;
  readonly now: Millis;
}

export interface FailEffect extends Fence {
  readonly runId: RunId;
  readonly effectKey: string;
  readonly error: RunError;
  readonly now: Millis;
  /** When to try again; null: never (the run fails). */
  readonly retryAt: Millis | null;
}
