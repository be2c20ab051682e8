import type { Json, Key, Millis, RunId } from '../model/index.js';

/**
 * One entry of the durable run-event feed that the admin API (`GET /v1/events?after=`), the CLI
 * and the dashboard read. `seq` is the cursor: strictly increasing in append order, never reused.
 */
export interface FeedEvent {
  readonly seq: number;
  readonly at: Millis;
  /** A kernel event name (`run:started`, `step:committed`, `turn:preempted`, ...). */
  readonly type: string;
  readonly runId: RunId | null;
  readonly key: Key | null;
  /** The event's fields, as JSON. */
  readonly data: Json;
}

export type NewFeedEvent = Omit<FeedEvent, 'seq'>;

export interface FeedQuery {
  /** Only events with `seq > after` (0: from the start). */
  readonly after: number;
  readonly limit: number;
  readonly runId?: RunId;
}

/**
 * The durable run-event feed. Appended by each kernel process in small batches after the state
 * changes it reports (a process that dies between a change and the append loses at most the
 * events of its last batch; the state itself is never lost). Read by cursor.
 */
export interface EventFeedStore {
  /**
   * Appends `events` in one transaction, in order. Dies before: nothing appended. Dies during: the
   * transaction is rolled back, nothing appended. After: every event has its `seq`.
   */
  appendEvents(events: readonly NewFeedEvent[]): Promise<void>;
  /** Events after the cursor, oldest first, at most `limit`. */
  readEvents(query: FeedQuery): Promise<FeedEvent[]>;
  /** The seq of the newest event in the feed (0 when it is empty): a cursor that skips the history. */
  latestEventSeq(): Promise<number>;
  /** Deletes events older than `before` (retention of the feed); returns how many were deleted. */
  pruneEvents(before: Millis): Promise<number>;
}
