import type { Json } from '../../model/index.js';
import type { EventFeedStore, FeedEvent, FeedQuery, NewFeedEvent } from '../../ports/event-feed.js';
import { prepareAll } from './prepared.js';
import type { SqliteContext } from './sqlite-context.js';

const FEED_SQL = {
  insert: 'INSERT INTO events (at, type, run_id, key, data) VALUES (@at, @type, @runId, @key, @data)',
  after: 'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
  afterOfRun: 'SELECT * FROM events INDEXED BY events_by_run WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  latest: 'SELECT COALESCE(MAX(seq), 0) AS seq FROM events',
  prune: 'DELETE FROM events WHERE at < ?',
} as const;

interface EventRow {
  seq: number;
  at: number;
  type: string;
  run_id: string | null;
  key: string | null;
  data: string;
}

/**
 * The SQLite store's run-event feed: one `events` row per event, its AUTOINCREMENT rowid the
 * cursor. A batch is one item of the write batcher, so it is appended whole or not at all.
 */
export function sqliteEventFeed(c: SqliteContext): EventFeedStore {
  const sql = prepareAll(c.db, FEED_SQL);
  return {
    appendEvents(events: readonly NewFeedEvent[]): Promise<void> {
      if (events.length === 0) return Promise.resolve();
      const rows = events.map((e) => ({ at: e.at, type: e.type, runId: e.runId, key: e.key, data: JSON.stringify(e.data) }));
      return c.batcher.write(() => {
        for (const row of rows) sql.insert.run(row);
      });
    },

    async readEvents(query: FeedQuery): Promise<FeedEvent[]> {
      const limit = Math.max(0, Math.floor(query.limit));
      const rows = c.read(() =>
        query.runId === undefined ? sql.after.all(query.after, limit) : sql.afterOfRun.all(query.runId, query.after, limit),
      ) as EventRow[];
      return rows.map(toFeedEvent);
    },

    async latestEventSeq(): Promise<number> {
      return (c.read(() => sql.latest.get()) as { seq: number }).seq;
    },

    pruneEvents(before: number): Promise<number> {
      return c.batcher.write(() => sql.prune.run(before).changes, { atomic: true });
    },
  };
}

function toFeedEvent(row: EventRow): FeedEvent {
  return { seq: row.seq, at: row.at, type: row.type, runId: row.run_id, key: row.key, data: JSON.parse(row.data) as Json };
}
