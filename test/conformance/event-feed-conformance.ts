import { describe, expect, it } from 'vitest';
import type { NewFeedEvent, Store } from '../../src/ports/store.js';

/** A feed event at `at` of `type`, for run `runId` when given. */
function event(type: string, at: number, runId: string | null = null, data: NewFeedEvent['data'] = { n: at }): NewFeedEvent {
  return { at, type, runId, key: runId === null ? null : `repo:${runId}`, data };
}

/**
 * Conformance of the durable run-event feed (EventFeedStore): appends in order, reads by cursor
 * with a limit and an optional run filter, seqs strictly increasing across batches and never
 * reused after pruning.
 */
export function runEventFeedConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Event feed conformance: ${name}`, () => {
    it('appends a batch in order and reads it back from cursor 0, fields intact', async () => {
      const store = await makeStore();
      const data = { runId: 'r1', nested: { list: [1, 'two', null, true] }, text: 'héllo ✓' };
      await store.appendEvents([event('run:queued', 10, 'r1', data), event('run:started', 11, 'r1'), event('kernel:hung', 12)]);
      const read = await store.readEvents({ after: 0, limit: 10 });
      expect(read.map((e) => [e.type, e.at, e.runId, e.key])).toEqual([
        ['run:queued', 10, 'r1', 'repo:r1'],
        ['run:started', 11, 'r1', 'repo:r1'],
        ['kernel:hung', 12, null, null],
      ]);
      expect(read[0]!.data).toEqual(data);
      expect(read[0]!.seq).toBeGreaterThan(0);
      expect(read[1]!.seq).toBeGreaterThan(read[0]!.seq);
      expect(read[2]!.seq).toBeGreaterThan(read[1]!.seq);
      await store.close();
    });

    it('reads after a cursor, at most `limit`, oldest first; paging by the last seq reads everything once', async () => {
      const store = await makeStore();
      await store.appendEvents(Array.from({ length: 7 }, (_, i) => event(`e${i}`, i)));
      const all = await store.readEvents({ after: 0, limit: 100 });
      expect(all.map((e) => e.type)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      const page = await store.readEvents({ after: all[2]!.seq, limit: 2 });
      expect(page.map((e) => e.type)).toEqual(['e3', 'e4']);
      const paged: string[] = [];
      for (let cursor = 0; ;) {
        const next = await store.readEvents({ after: cursor, limit: 3 });
        if (next.length === 0) break;
        paged.push(...next.map((e) => e.type));
        cursor = next.at(-1)!.seq;
      }
      expect(paged).toEqual(all.map((e) => e.type));
      expect(await store.readEvents({ after: all.at(-1)!.seq, limit: 10 })).toEqual([]);
      expect(await store.readEvents({ after: 0, limit: 0 })).toEqual([]);
      await store.close();
    });

    it('filters by run id, keeping the cursor and the limit', async () => {
      const store = await makeStore();
      await store.appendEvents([event('a', 1, 'r1'), event('b', 2, 'r2'), event('c', 3, 'r1'), event('d', 4), event('e', 5, 'r1')]);
      const r1 = await store.readEvents({ after: 0, limit: 10, runId: 'r1' });
      expect(r1.map((e) => e.type)).toEqual(['a', 'c', 'e']);
      expect((await store.readEvents({ after: r1[0]!.seq, limit: 1, runId: 'r1' })).map((e) => e.type)).toEqual(['c']);
      expect(await store.readEvents({ after: 0, limit: 10, runId: 'nobody' })).toEqual([]);
      await store.close();
    });

    it('seqs strictly increase across batches, and an empty batch appends nothing', async () => {
      const store = await makeStore();
      await store.appendEvents([event('a', 1), event('b', 1)]);
      await store.appendEvents([]);
      await store.appendEvents([event('c', 1)]);
      await store.appendEvents([event('d', 1), event('e', 1), event('f', 1)]);
      const seqs = (await store.readEvents({ after: 0, limit: 100 })).map((e) => e.seq);
      expect(seqs).toHaveLength(6);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      await store.close();
    });

    it('names the newest seq: 0 for an empty feed, the last appended one after appends', async () => {
      const store = await makeStore();
      expect(await store.latestEventSeq()).toBe(0);
      await store.appendEvents([event('a', 1), event('b', 1)]);
      await store.appendEvents([event('c', 1)]);
      const all = await store.readEvents({ after: 0, limit: 10 });
      expect(await store.latestEventSeq()).toBe(all.at(-1)!.seq);
      expect(await store.readEvents({ after: await store.latestEventSeq(), limit: 10 })).toEqual([]);
      await store.close();
    });

    it('prunes events older than the instant given and never reuses a seq, even after pruning all of them', async () => {
      const store = await makeStore();
      await store.appendEvents([event('old', 100), event('older', 50), event('new', 200), event('edge', 150)]);
      const before = await store.readEvents({ after: 0, limit: 10 });
      expect(await store.pruneEvents(150)).toBe(2);
      expect((await store.readEvents({ after: 0, limit: 10 })).map((e) => e.type)).toEqual(['new', 'edge']);
      expect(await store.pruneEvents(1_000)).toBe(2);
      expect(await store.readEvents({ after: 0, limit: 10 })).toEqual([]);
      await store.appendEvents([event('after', 300)]);
      const [after] = await store.readEvents({ after: 0, limit: 10 });
      expect(after!.seq).toBeGreaterThan(before.at(-1)!.seq);
      expect(await store.pruneEvents(0)).toBe(0);
      await store.close();
    });
  });
}
