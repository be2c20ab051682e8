import { decideEffectClaim } from '../../core/effect-claim.js';
import { effectKeyConflict } from '../../core/effect-key.js';
import { HoldfastError } from '../../errors.js';
import type { EffectRecord, Json } from '../../model/index.js';
import type { ClaimEffect, EffectClaim, FailEffect, OutboxStore, RecordEffect } from '../../ports/store.js';
import { fromEffect, toEffect, type EffectRow } from './rows.js';
import type { SqliteContext } from './sqlite-context.js';

/** The SQLite store's outbox (D3): core/effect-claim's rules, applied in one write transaction each. */
export function sqliteOutbox(c: SqliteContext): OutboxStore {
  const { d, batcher } = c;
  const effect = (key: string): EffectRecord | undefined => {
    const row = d.effect.get(key) as EffectRow | undefined;
    return row && toEffect(row);
  };
  const cover = (e: EffectRecord) => {
    for (const origin of e.origins) d.cover.run(origin, e.key);
  };
  return {
    claimEffect(request: ClaimEffect): Promise<EffectClaim> {
      return batcher.write(() => {
        c.fencedRunning(request, request.runId, 'it cannot claim an effect');
        const existing = effect(request.effectKey);
        const coveringKey = (origin: string) => (d.coveringKey.get(origin) as { effect_key: string } | undefined)?.effect_key;
        const decision = decideEffectClaim(existing, coveringKey, request);
        const name = `effect:${request.name}`;
        switch (decision.kind) {
          case 'conflict':
            throw effectKeyConflict(request.effectKey, decision.existingName, request.name);
          case 'delivered':
            c.journal(request, request.runId, { seq: request.seq, name, result: { artifact: decision.artifact } }, request.now);
            return { state: 'delivered', artifact: decision.artifact };
          case 'covered':
            c.journal(request, request.runId, { seq: request.seq, name, result: { coveredBy: [...decision.coveredBy] } }, request.now);
            return { state: 'covered', coveredBy: decision.coveredBy };
          case 'busy':
            return { state: 'busy', holder: decision.holder };
          case 'backoff':
            return { state: 'backoff', retryAt: decision.retryAt };
          case 'claim':
            d.uncover.run(request.effectKey);
            d.putEffect.run(fromEffect(decision.record));
            cover(decision.record);
            return { state: 'claimed', attempt: decision.record.attempts, origins: decision.record.origins };
        }
      });
    },

    recordEffect(request: RecordEffect): Promise<Json> {
      return batcher.write(() => {
        c.fencedRunning(request, request.runId, 'it cannot record an effect');
        const e = effect(request.effectKey);
        if (!e)
          throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed; claim it before recording it`);
        const artifact = e.status === 'delivered' ? (e.artifact ?? null) : request.artifact;
        if (e.status !== 'delivered') {
          d.putEffect.run(
            fromEffect({ ...e, status: 'delivered', artifact, error: undefined, nextAttemptAt: null, deliveredAt: request.now }),
          );
        }
        c.journal(request, request.runId, { seq: request.seq, name: `effect:${request.name}`, result: { artifact } }, request.now);
        return artifact;
      });
    },

    failEffect(request: FailEffect): Promise<void> {
      return batcher.write(() => {
        const run = c.fencedRunning(request, request.runId, 'it cannot record a failed effect');
        const e = effect(request.effectKey);
        if (!e) throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed`);
        d.uncover.run(e.key);
        d.putEffect.run(fromEffect({ ...e, status: 'failed', error: request.error, nextAttemptAt: request.retryAt }));
        if (request.retryAt !== null) {
          c.q.toWaiting.run(run.id, request.key);
          const detail = JSON.stringify({ effectKey: e.key });
          c.q.putWait.run({ runId: run.id, kind: 'effect', wakeAt: request.retryAt, onRun: null, detail, since: request.now });
        }
      });
    },

    async listEffects(query = {}) {
      const where = query.status && query.status.length ? `WHERE status IN (${query.status.map(() => '?').join(', ')})` : '';
      const sql = `SELECT * FROM effects ${where} ORDER BY claimed_at LIMIT ?`;
      return c.read(() => c.db.prepare(sql).all(...(query.status ?? []), query.limit ?? 1000) as EffectRow[]).map(toEffect);
    },
  };
}
