import { StoreUnavailableError } from '../../errors.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { EventFeedStore, FeedEvent } from '../../ports/event-feed.js';
import type { Logger } from '../../ports/logger.js';

export interface FeedTailOptions {
  readonly store: Pick<EventFeedStore, 'readEvents' | 'latestEventSeq'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with every event read, in feed order, once. */
  readonly onEvent: (event: FeedEvent) => void;
  /** Called after every catch-up: it read to the end (`none`), or failed (the store `unavailable`, or another `error`). */
  readonly onRead?: (failure: 'none' | 'unavailable' | 'error') => void;
  /** How often the tail reads what was appended (default 1 000 ms). */
  readonly everyMs?: number;
  /** Events per read (default 1 000). */
  readonly pageSize?: number;
  /** The most reads of one catch-up; the rest waits for the next (default 50). */
  readonly maxPages?: number;
}

/**
 * Follows the durable run-event feed by its cursor, as every kernel process appends to it (the
 * daemon's own kernel and its worker processes alike), and hands each event to `onEvent` once.
 *
 * States: created -> positioning (finding the newest seq, so history written before `start` is
 * not counted; retried each tick while the store does not answer) -> following (a read every
 * `everyMs` on the injected clock, page by page until the end) -> stopped. `catchUp()` reads now
 * (a scrape calls it so what it reports is current); reads never overlap.
 *
 * Nothing is stored: a daemon that restarts starts again from the newest seq, so counters derived
 * from the tail count what happened while it ran. Events a kernel lost in a crash (the feed is
 * appended after the changes it reports) are never seen.
 */
export class FeedTail {
  private readonly everyMs: number;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private cursor: number | undefined;
  private timer: TimerHandle | undefined;
  private reading: Promise<void> | undefined;
  private running = false;

  constructor(private readonly options: FeedTailOptions) {
    this.everyMs = options.everyMs ?? 1_000;
    this.pageSize = options.pageSize ?? 1_000;
    this.maxPages = options.maxPages ?? 50;
  }

  /** The seq of the last event handed on (undefined until the tail found its starting point). */
  get position(): number | undefined {
    return this.cursor;
  }

  /** Finds the newest seq (history before it is skipped), then reads every `everyMs`. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.catchUp();
    this.arm();
  }

  /** Stops reading; waits for a read in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    await this.reading;
  }

  /** Reads what was appended since the last read, now (joining a read in progress). Never rejects. */
  catchUp(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.options.clock.setTimer(this.everyMs, () => {
      void this.catchUp().finally(() => this.arm());
    });
  }

  private async read(): Promise<void> {
    try {
      this.cursor ??= await this.options.store.latestEventSeq();
      for (let page = 0; page < this.maxPages; page++) {
        const events = await this.options.store.readEvents({ after: this.cursor, limit: this.pageSize });
        for (const event of events) {
          this.cursor = event.seq;
          this.options.onEvent(event);
        }
        if (events.length < this.pageSize) break;
      }
      this.options.onRead?.('none');
    } catch (error) {
      const unavailable = error instanceof StoreUnavailableError;
      this.options.onRead?.(unavailable ? 'unavailable' : 'error');
      if (!unavailable) this.options.logger.warn('holdfast: metrics could not read the event feed; trying again', { error: String(error) });
    }
  }
}
