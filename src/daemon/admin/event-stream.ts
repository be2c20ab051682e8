import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { StoreUnavailableError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { HoldfastClient } from '../client/holdfast-client.js';
import { errorBody } from './admin-errors.js';

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
 * it, and while caught up reads again every `pollMs` through the injected clock; a comment line
 * (`: keep-alive`) goes out when the stream was silent for `keepAliveMs`. A store that is briefly
 * unavailable is reported as an `error` event and the stream goes on; it ends when the client
 * disconnects, or on any other error (after an `error` event).
 */
export function streamEvents(
  c: Context,
  client: HoldfastClient,
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
        const page = await client.events({ after: cursor, limit: start.limit });
        for (const event of page.events) {
          await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
        }
        if (page.events.length > 0) lastWrite = clock.monotonic();
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
      await sleep(clock, timing.pollMs, stopped.signal);
    }
  });
}

async function writeError(stream: SSEStreamingApi, error: unknown): Promise<void> {
  await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody(error)) });
}

/** Resolves after `ms` on the injected clock, or at once when `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', wake);
      resolve();
    });
    function wake() {
      timer.cancel();
      resolve();
    }
    signal.addEventListener('abort', wake, { once: true });
  });
}
