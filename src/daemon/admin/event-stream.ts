import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { StoreUnavailableError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { errorBody } from './admin-errors.js';
import type { SharedFeedReader } from './shared-feed-reader.js';

export interface EventStreamTiming {
  /** How often the feed is read while the client is caught up (default 250 ms). */
  readonly pollMs: number;
  /** A comment line is sent after this long without an event, so proxies keep the stream open (default 15 000 ms). */
  readonly keepAliveMs: number;
}

/**
 * Streams the run-event feed as server-sent events from `after`: each event is `id: <seq>`,
 * `event: <type>`, `data: <the event as JSON>`, so a client that reconnects with `Last-Event-ID`
 * resumes after the last event it got, missing none (the feed is durable). Reads a page, writes
 * it, and while caught up reads again at the next tick of the reader the streams share (every
 * `pollMs`; one store read serves every caught-up stream); a comment line
 * (`: keep-alive`) goes out when the stream was silent for `keepAliveMs`. A store that is briefly
 * unavailable is reported as an `error` event and the stream goes on; it ends when the client
 * disconnects, or on any other error (after an `error` event).
 */
export function streamEvents(
  c: Context,
  feed: SharedFeedReader,
  clock: Clock,
  timing: EventStreamTiming,
  start: { readonly after: number; readonly limit: number },
): Response {
  return streamSSE(c, async (stream) => {
    const stopped = new AbortController();
    stream.onAbort(() => stopped.abort());
    c.req.raw.signal.addEventListener('abort', () => stopped.abort(), { once: true });
    let cursor = start.after;
    let lastWrite = clock.monotonic();
    while (!stopped.signal.aborted) {
      let full = false;
      try {
        const page = await feed.read(cursor, start.limit);
        if (page.events.length > 0) {
          await stream.write(feed.sseText(page));
          lastWrite = clock.monotonic();
        }
        cursor = page.next;
        full = page.events.length >= start.limit;
      } catch (error) {
        await writeError(stream, error);
        if (!(error instanceof StoreUnavailableError)) return;
        lastWrite = clock.monotonic();
      }
      if (full) continue;
      if (clock.monotonic() - lastWrite >= timing.keepAliveMs) {
        await stream.write(': keep-alive\n\n');
        lastWrite = clock.monotonic();
      }
      await feed.nextTick(stopped.signal);
    }
  });
}

async function writeError(stream: SSEStreamingApi, error: unknown): Promise<void> {
  await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody(error)) });
}
