import type { Json } from '../../model/index.js';
import type { EventFeedStore, FeedEvent } from '../../ports/event-feed.js';
import type { PgContext } from './pg-context.js';
import { int } from './pg-rows.js';

interface EventRow {
  seq: string;
  at: string;
  type: string;
  run_id: string | null;
  key: string | null;
  data: string;
}

/**
 * The Postgres store's run-event feed. A batch takes its seqs by advancing `event_head`, whose row
 * lock it holds until it commits: batches of concurrent appenders commit one after the other in
 * seq order, so a reader never sees seq n before a smaller seq that commits later (which a
 * sequence would allow), and a batch is appended whole or not at all.
 */
export function pgEventFeed(c: PgContext): EventFeedStore {
  const { db, s } = c;
  return {
    async appendEvents(events) {
      if (events.length === 0) return;
      await db.transaction(async (sql) => {
        const head = await c.first<{ last_seq: string }>(sql, `UPDATE ${s}.event_head SET last_seq = last_seq + $1 RETURNING last_seq`, [
          events.length,
        ]);
        const first = int(head!.last_seq) - events.length + 1;
        await sql.query(
          `INSERT INTO ${s}.events (seq, at, type, run_id, key, data)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])`,
          [
            events.map((_, i) => first + i),
            events.map((e) => e.at),
            events.map((e) => e.type),
            events.map((e) => e.runId),
            events.map((e) => e.key),
            events.map((e) => JSON.stringify(e.data)),
          ],
        );
      });
    },

    async readEvents(query) {
      const limit = Math.max(0, Math.floor(query.limit));
      const rows = await db.read((sql) =>
        query.runId === undefined
          ? c.rows<EventRow>(sql, `SELECT * FROM ${s}.events WHERE seq > $1 ORDER BY seq LIMIT $2`, [query.after, limit])
          : c.rows<EventRow>(sql, `SELECT * FROM ${s}.events WHERE run_id = $3 AND seq > $1 ORDER BY seq LIMIT $2`, [
              query.after,
              limit,
              query.runId,
            ]),
      );
      return rows.map(toFeedEvent);
    },

    async latestEventSeq() {
      const row = await db.read((sql) => c.first<{ seq: string }>(sql, `SELECT coalesce(max(seq), 0) AS seq FROM ${s}.events`));
      return int(row!.seq);
    },

    pruneEvents: (before) =>
      db.transaction(async (sql) => (await sql.query(`DELETE FROM ${s}.events WHERE at < $1`, [before])).rowCount ?? 0),
  };
}

function toFeedEvent(row: EventRow): FeedEvent {
  return { seq: int(row.seq), at: int(row.at), type: row.type, runId: row.run_id, key: row.key, data: JSON.parse(row.data) as Json };
}
