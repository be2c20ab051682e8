// The run-event feed (/v1/events) read live: recent history first, then server-sent events over
// fetch (an EventSource cannot send the Authorization header), reconnecting with Last-Event-ID.

const PAGE = 1000;
const MAX_BACKOFF_MS = 5000;

/** Splits server-sent event text into events `{id, event, data}`; `push` takes any slice of the stream. */
export function serverSentEventParser() {
  let buffer = '';
  let current = { id: null, event: 'message', data: [] };
  return {
    push(text) {
      buffer += text;
      const out = [];
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
        if (buffer[newline] === '\r' && newline + 1 === buffer.length) break; // a \r\n may be split across reads
        buffer = buffer.slice(newline + width);
        if (line === '') {
          if (current.data.length > 0) out.push({ id: current.id, event: current.event, data: current.data.join('\n') });
          current = { id: null, event: 'message', data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') current.data.push(value);
        else if (field === 'event') current.event = value;
        else if (field === 'id') current.id = value;
      }
      return out;
    },
  };
}

/**
 * Follows the feed. `start()` reads the last `backfill` events (the feed's end is found by a few
 * one-event reads, since the API pages forward only), hands them to `onEvents(events, {backfill:
 * true})`, then streams from there, handing each arriving batch with the time it arrived. After a
 * dropped connection (a daemon restart, a network blip) it reconnects with backoff from its cursor;
 * `onReconnected()` runs first (the page re-reads its status), and a feed that no longer has the
 * cursor's event (another database behind the same address) is read afresh (`onReset()`).
 * `onState(state, detail)`: `connecting`, `live`, `offline` (with the error), `degraded` (the
 * daemon reported an error event, such as its store being briefly unavailable).
 */
export function createEventFeed({ api, backfill = 5000, streamLimit = 500, onEvents, onState, onReconnected, onReset }) {
  let cursor = 0;
  let stopped = false;
  let controller = null;

  const nextSeqAfter = async (after) => (await api.get(`/v1/events?after=${after}&limit=1`)).events[0]?.seq ?? null;

  /** The newest seq in the feed (0 when empty): exponential then binary search on one-event reads. */
  async function feedEnd() {
    let lo = await nextSeqAfter(0);
    if (lo === null) return 0;
    let step = 1024;
    let hi;
    for (;;) {
      const seq = await nextSeqAfter(lo + step);
      if (seq === null) {
        hi = lo + step;
        break;
      }
      lo = seq;
      step *= 2;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const seq = await nextSeqAfter(mid);
      if (seq === null) hi = mid;
      else lo = seq;
    }
    return (await nextSeqAfter(lo)) ?? lo;
  }

  async function readRecent() {
    const end = await feedEnd();
    cursor = Math.max(0, end - backfill);
    for (;;) {
      const page = await api.get(`/v1/events?after=${cursor}&limit=${PAGE}`);
      if (page.events.length > 0) onEvents(page.events, { backfill: true, receivedAt: now() });
      cursor = page.next;
      if (page.events.length < PAGE) return;
    }
  }

  async function feedStillHasCursor() {
    if (cursor === 0) return true;
    return (await nextSeqAfter(cursor - 1)) !== null;
  }

  async function follow() {
    let backoff = 250;
    let connectedBefore = true;
    while (!stopped) {
      controller = new AbortController();
      try {
        onState('connecting');
        if (!connectedBefore) {
          if (!(await feedStillHasCursor())) {
            onReset();
            await readRecent();
          }
          await onReconnected();
        }
        const response = await api.openEvents(`/v1/events?limit=${streamLimit}`, cursor, controller.signal);
        if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
        onState('live');
        connectedBefore = true;
        backoff = 250;
        await readStream(response.body);
        throw new Error('the event stream ended');
      } catch (error) {
        if (stopped) return;
        connectedBefore = false;
        onState('offline', error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async function readStream(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = serverSentEventParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const receivedAt = now();
      const batch = [];
      for (const message of parser.push(value)) {
        if (message.event === 'error') {
          onState('degraded', safeJson(message.data)?.error?.message ?? message.data);
          continue;
        }
        const event = safeJson(message.data);
        if (!event || typeof event.seq !== 'number' || event.seq <= cursor) continue;
        cursor = event.seq;
        batch.push(event);
      }
      if (batch.length > 0) {
        onState('live');
        onEvents(batch, { backfill: false, receivedAt });
      }
    }
  }

  return {
    get cursor() {
      return cursor;
    },
    async start() {
      await readRecent();
      void follow();
    },
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Wall-clock milliseconds with sub-millisecond precision (comparable with the feed's `at`). */
export const now = () => performance.timeOrigin + performance.now();
