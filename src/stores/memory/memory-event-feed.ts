import type { EventFeedStore, FeedEvent } from '../../ports/event-feed.js';
import type { MemoryState } from './memory-state.js';

/**
 * The memory store's run-event feed: an array in append order. `seq` comes from a counter that
 * pruning never lowers, so a cursor never sees a seq twice.
 */
export function memoryEventFeed(s: MemoryState): EventFeedStore {
  let events: FeedEvent[] = [];
  let lastSeq = 0;
  return {
    async appendEvents(batch) {
      s.open();
      for (const event of batch) events.push({ ...structuredClone(event), seq: ++lastSeq });
    },

    async readEvents(query) {
      const limit = Math.max(0, Math.floor(query.limit));
      const found: FeedEvent[] = [];
      for (const event of events) {
        if (found.length >= limit) break;
        if (event.seq > query.after && (query.runId === undefined || event.runId === query.runId)) found.push(structuredClone(event));
      }
      return found;
    },

    async latestEventSeq() {
      return events.at(-1)?.seq ?? 0;
    },

    async pruneEvents(before) {
      s.open();
      const kept = events.filter((e) => e.at >= before);
      const pruned = events.length - kept.length;
      events = kept;
      return pruned;
    },
  };
}
