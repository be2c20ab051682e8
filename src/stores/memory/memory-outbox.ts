import { decideEffectClaim } from '../../core/effect-claim.js';
import { effectKeyConflict } from '../../core/effect-key.js';
import { HoldfastError } from '../../errors.js';
import type { EffectRecord, Json } from '../../model/index.js';
import type { ClaimEffect, EffectClaim, FailEffect, OutboxStore, RecordEffect } from '../../ports/store.js';
import type { MemoryState } from './memory-state.js';

/** The memory store's outbox (D3): the claim rules are core/effect-claim's, applied to maps. */
export function memoryOutbox(s: MemoryState): OutboxStore {
  const cover = (effect: EffectRecord) => {
    for (const origin of effect.origins) s.origins.set(origin, effect.key);
  };
  const uncover = (effect: EffectRecord) => s.uncover(effect);
  return {
    async claimEffect(request: ClaimEffect): Promise<EffectClaim> {
      s.fence(request);
      const run = s.runningOfKey(request.runId, request.key, 'it cannot claim an effect');
      const existing = s.effects.get(request.effectKey);
      const decision = decideEffectClaim(existing, (origin) => s.origins.get(origin), request);
      const journalName = `effect:${request.name}`;
      switch (decision.kind) {
        case 'conflict':
          throw effectKeyConflict(request.effectKey, decision.existingName, request.name);
        case 'delivered':
          s.journal(run, { seq: request.seq, name: journalName, result: { artifact: decision.artifact } }, request.epoch, request.now);
          return { state: 'delivered', artifact: structuredClone(decision.artifact) };
        case 'covered':
          s.journal(
            run,
            { seq: request.seq, name: journalName, result: { coveredBy: [...decision.coveredBy] } },
            request.epoch,
            request.now,
          );
          return { state: 'covered', coveredBy: decision.coveredBy };
        case 'busy':
          return { state: 'busy', holder: decision.holder };
        case 'backoff':
          return { state: 'backoff', retryAt: decision.retryAt };
        case 'claim':
          if (existing) uncover(existing);
          s.effects.set(request.effectKey, decision.record);
          cover(decision.record);
          return { state: 'claimed', attempt: decision.record.attempts, origins: [...decision.record.origins] };
      }
    },

    async recordEffect(request: RecordEffect): Promise<Json> {
      s.fence(request);
      const run = s.runningOfKey(request.runId, request.key, 'it cannot record an effect');
      const effect = s.effects.get(request.effectKey);
      if (!effect)
        throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed; claim it before recording it`);
      const artifact = effect.status === 'delivered' ? (effect.artifact ?? null) : structuredClone(request.artifact);
      s.journal(run, { seq: request.seq, name: `effect:${request.name}`, result: { artifact } }, request.epoch, request.now);
      if (effect.status !== 'delivered') {
        s.effects.set(effect.key, {
          ...effect,
          status: 'delivered',
          artifact,
          error: undefined,
          nextAttemptAt: null,
          deliveredAt: request.now,
        });
      }
      return structuredClone(artifact);
    },

    async failEffect(request: FailEffect): Promise<void> {
      s.fence(request);
      const run = s.runningOfKey(request.runId, request.key, 'it cannot record a failed effect');
      const effect = s.effects.get(request.effectKey);
      if (!effect) throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed`);
      uncover(effect);
      s.effects.set(effect.key, { ...effect, status: 'failed', error: request.error, nextAttemptAt: request.retryAt });
      if (request.retryAt !== null) {
        const wait = {
          kind: 'effect' as const,
          wakeAt: request.retryAt,
          onRun: null,
          detail: { effectKey: effect.key },
          since: request.now,
        };
        s.runs.set(run.id, { ...run, status: 'waiting', wait });
      }
    },

    async listEffects(query = {}) {
      return [...s.effects.values()]
        .filter((e) => query.status === undefined || query.status.length === 0 || query.status.includes(e.status))
        .sort((a, b) => a.claimedAt - b.claimedAt)
        .slice(0, query.limit ?? 1000)
        .map((e) => structuredClone(e));
    },
  };
}
