import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { HoldfastClient } from '../client/holdfast-client.js';

type EventPage = Awaited<ReturnType<HoldfastClient['events']>>;

/**
 * What the event streams of one admin API share, so that N connected clients cost about one
 * feed read per poll, not N: streams that are caught up wait for one common tick (a single timer
 * on the injected clock, running only while someone waits), and identical reads issued in the
 * same tick (same cursor, same limit: what caught-up clients ask) share one store read. A stream
 * that is behind reads its own pages as before. The feed stays the truth: nothing is cached
 * beyond the tick.
 */
export class SharedFeedReader {
  private readonly inFlight = new Map<string, Promise<EventPage>>();
  private readonly texts = new WeakMap<EventPage, string>();
  private waiters: (() => void)[] = [];
  private timer: TimerHandle | null = null;

  constructor(
    private readonly client: HoldfastClient,
    private readonly clock: Clock,
    private readonly pollMs: number,
  ) {}

  /** The page after `after`; a read already in flight for the same page is joined. */
  read(after: number, limit: number): Promise<EventPage> {
    const id = `${after}:${limit}`;
    let page = this.inFlight.get(id);
    if (!page) {
      page = this.client.events({ after, limit }).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, page);
    }
    return page;
  }

  /**
   * A page as server-sent events (`id: <seq>`, `event: <type>`, `data: <the event as JSON>` each),
   * built once per page however many streams send it. JSON has no raw line breaks, so each
   * event's data is one `data:` line.
   */
  sseText(page: EventPage): string {
    let text = this.texts.get(page);
    if (text === undefined) {
      text = page.events.map((event) => `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
      this.texts.set(page, text);
    }
    return text;
  }

  /** Resolves at the next common tick, or at once when `signal` aborts. */
  nextTick(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      signal.addEventListener('abort', wake, { once: true });
      this.waiters.push(wake);
      this.timer ??= this.clock.setTimer(this.pollMs, () => this.tick());
    });
  }

  private tick(): void {
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
