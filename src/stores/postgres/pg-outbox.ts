import { decideEffectClaim } from '../../core/effect-claim.js';
import { effectKeyConflict } from '../../core/effect-key.js';
import { HoldfastError } from '../../errors.js';
import type { EffectRecord } from '../../model/index.js';
import type { OutboxStore } from '../../ports/store.js';
import type { PgContext } from './pg-context.js';
import type { Sql } from './pg-database.js';
import { EFFECT_COLUMNS, effectParams, toEffect, type EffectRow } from './pg-rows.js';

/**
 * The Postgres store's outbox (D3): core/effect-claim's rules, applied in one transaction each.
 *
 * An effect claim decides on the effect's row and on the rows of the origins it covers, some of
 * which may not exist yet, so row locks cannot serialize it with a concurrent claim. Claims take
 * transaction-scoped advisory locks on the effect key and on each origin instead (in a fixed
 * order, so two claims never wait for each other in a cycle): two claims of one key, or of effects
 * covering one origin, run one after the other, and the second decides on what the first wrote.
 * They wait rather than skip (`SKIP LOCKED`): the answer (`claimed`, `busy`, `covered`) depends on
 * the other claim's outcome, and each holds its locks for one short transaction.
 */
export function pgOutbox(c: PgContext): OutboxStore {
  const { db, s } = c;

  /** Serializes this transaction with every other that takes a lock of the same effect key or origin. */
  const lockNames = async (sql: Sql, effectKey: string, origins: readonly string[]): Promise<void> => {
    const names = [`${db.schema}/effect/${effectKey}`, ...origins.map((o) => `${db.schema}/origin/${o}`)];
    await sql.query(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(n, 0) AS h FROM unnest($1::text[]) AS n ORDER BY h) AS locks`,
      [names],
    );
  };
  const effect = async (sql: Sql, key: string): Promise<EffectRecord | undefined> => {
    const row = await c.first<EffectRow>(sql, `SELECT * FROM ${s}.effects WHERE key = $1`, [key]);
    return row && toEffect(row);
  };
  const putEffect = (sql: Sql, e: EffectRecord) =>
    sql.query(
      `INSERT INTO ${s}.effects (${EFFECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (key) DO UPDATE SET name = excluded.name, run_id = excluded.run_id, status = excluded.status,
         origins = excluded.origins, attempts = excluded.attempts, artifact = excluded.artifact, error_code = excluded.error_code,
         error_message = excluded.error_message, next_attempt_at = excluded.next_attempt_at, claimed_at = excluded.claimed_at,
         delivered_at = excluded.delivered_at`,
      effectParams(e),
    );
  const uncover = (sql: Sql, key: string) => sql.query(`DELETE FROM ${s}.effect_origins WHERE effect_key = $1`, [key]);

  return {
    claimEffect: (request) =>
      db.transaction(async (sql) => {
        await c.fencedRunning(sql, request, request.runId, 'it cannot claim an effect');
        await lockNames(sql, request.effectKey, request.origins);
        const existing = await effect(sql, request.effectKey);
        const covering = await c.rows<{ origin: string; effect_key: string }>(
          sql,
          `SELECT origin, effect_key FROM ${s}.effect_origins WHERE origin = ANY($1::text[])`,
          [[...request.origins]],
        );
        const coveredBy = new Map(covering.map((r) => [r.origin, r.effect_key]));
        const decision = decideEffectClaim(existing, (origin) => coveredBy.get(origin), request);
        const name = `effect:${request.name}`;
        switch (decision.kind) {
          case 'conflict':
            throw effectKeyConflict(request.effectKey, decision.existingName, request.name);
          case 'delivered':
            await c.journal(sql, request, request.runId, { seq: request.seq, name, result: { artifact: decision.artifact } }, request.now);
            return { state: 'delivered', artifact: decision.artifact };
          case 'covered':
            await c.journal(
              sql,
              request,
              request.runId,
              { seq: request.seq, name, result: { coveredBy: [...decision.coveredBy] } },
              request.now,
            );
            return { state: 'covered', coveredBy: decision.coveredBy };
          case 'busy':
            return { state: 'busy', holder: decision.holder };
          case 'backoff':
            return { state: 'backoff', retryAt: decision.retryAt };
          case 'claim':
            await uncover(sql, request.effectKey);
            await putEffect(sql, decision.record);
            await sql.query(
              `INSERT INTO ${s}.effect_origins (origin, effect_key) SELECT o, $2 FROM unnest($1::text[]) AS o
               ON CONFLICT (origin) DO UPDATE SET effect_key = excluded.effect_key`,
              [[...decision.record.origins], decision.record.key],
            );
            return { state: 'claimed', attempt: decision.record.attempts, origins: decision.record.origins };
        }
      }),

    recordEffect: (request) =>
      db.transaction(async (sql) => {
        await c.fencedRunning(sql, request, request.runId, 'it cannot record an effect');
        await lockNames(sql, request.effectKey, []);
        const e = await effect(sql, request.effectKey);
        if (!e)
          throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed; claim it before recording it`);
        const artifact = e.status === 'delivered' ? (e.artifact ?? null) : request.artifact;
        if (e.status !== 'delivered') {
          await putEffect(sql, { ...e, status: 'delivered', artifact, error: undefined, nextAttemptAt: null, deliveredAt: request.now });
        }
        const entry = { seq: request.seq, name: `effect:${request.name}`, result: { artifact } };
        await c.journal(sql, request, request.runId, entry, request.now);
        return artifact;
      }),

    failEffect: (request) =>
      db.transaction(async (sql) => {
        const run = await c.fencedRunning(sql, request, request.runId, 'it cannot record a failed effect');
        await lockNames(sql, request.effectKey, []);
        const e = await effect(sql, request.effectKey);
        if (!e) throw new HoldfastError('effect_not_claimed', `effect ${request.effectKey} was never claimed`);
        await uncover(sql, e.key);
        await putEffect(sql, { ...e, status: 'failed', error: request.error, nextAttemptAt: request.retryAt });
        if (request.retryAt !== null) {
          const wait = { kind: 'effect', wakeAt: request.retryAt, onRun: null, detail: { effectKey: e.key }, since: request.now };
          await c.enterWait(sql, run.id, wait);
        }
      }),

    async listEffects(query = {}) {
      const filtered = query.status !== undefined && query.status.length > 0;
      const text = `SELECT * FROM ${s}.effects ${filtered ? 'WHERE status = ANY($2::text[])' : ''} ORDER BY claimed_at, key LIMIT $1`;
      const values = filtered ? [query.limit ?? 1000, query.status] : [query.limit ?? 1000];
      return (await db.read((sql) => c.rows<EffectRow>(sql, text, values))).map(toEffect);
    },
  };
}
