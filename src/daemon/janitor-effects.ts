import { isOwnerProvablyDead } from '../core/owner-id.js';
import { isLeaseLive } from '../core/owner-lease.js';
import type { JanitorContext } from './janitor-context.js';

/** Claimed effects looked at per sweep. */
const EFFECTS_PER_SWEEP = 1_000;

export interface HalfClaimedEffects {
  /** Claimed, never recorded, and their run is pending with no live owner: the next owner re-emits them. */
  readonly awaitingRecovery: number;
  /** Claimed, never recorded, and their run ended or does not exist (nothing will re-emit them). */
  readonly stranded: number;
}

/**
 * Half-claimed effects (D3, S4): claimed before their emit, never recorded. The janitor reports
 * them and changes nothing, because the outbox already reaps them at the right moment:
 *
 * - A run left `running` (or queued) by a dead owner is claimed again by the next owner of its
 *   key, re-runs from its last committed step and claims the effect again; the claim rules
 *   (core/effect-claim) give the same run its own claim back with one more attempt, so it emits
 *   again under the SAME idempotence key. No reset is needed for that.
 * - A run that ends lets go of the effects it holds in the transaction that ends it (finishRun,
 *   expireOverdue, a drop at claimNext: `releasedEffect`), so no claim outlives its run through
 *   the port.
 * - Resetting a claim from outside would be wrong: while the next owner re-emits under the claim,
 *   a reset would let another run claim the key and emit it a second time.
 *
 * So this counts claims whose run is pending without a live owner (`awaitingRecovery`: the owner
 * lease is free, expired, or held by a provably dead process of this host), and warns about any
 * claim whose run ended or is missing (`stranded`: only a database edited by hand, or by an older
 * version, can hold one; `holdfast outbox` shows it).
 */
export async function countHalfClaimedEffects(context: JanitorContext): Promise<HalfClaimedEffects> {
  const { store, clock } = context;
  const now = clock.now();
  let awaitingRecovery = 0;
  let stranded = 0;
  for (const effect of await store.listEffects({ status: ['claimed'], limit: EFFECTS_PER_SWEEP })) {
    const run = await store.getRun(effect.runId);
    if (run === undefined || run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled') {
      stranded++;
      context.logger.warn('holdfast janitor: an effect is claimed by a run that ended; nothing will emit it', {
        effectKey: effect.key,
        runId: effect.runId,
        status: run?.status ?? 'missing',
      });
      continue;
    }
    const owner = await store.getOwner(run.key);
    const held = isLeaseLive(owner, now) && !isOwnerProvablyDead(owner!.ownerId!, context.host, (pid) => context.isAlive(pid) !== false);
    if (!held) awaitingRecovery++;
  }
  return { awaitingRecovery, stranded };
}
