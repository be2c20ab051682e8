import { backoffDelay } from '../core/backoff.js';
import { StoreUnavailableError } from '../errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { EventFeedStore, NewFeedEvent } from '../ports/event-feed.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import type { KernelEventEmitter, KernelEvents } from './events.js';
import { coalescedOutput, FEED_EVENT_NAMES, toFeedEvent, type FeedEventName } from './feed-event.js';

export interface EventRecorderOptions {
  readonly store: EventFeedStore;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The longest an event waits before the append that records it starts (default 50 ms). */
  readonly flushMs?: number;
  /** Events per append; this many pending start an append at once (default 200). */
  readonly batchSize?: number;
  /** The most events kept while the store is unavailable; past it the oldest are dropped (default 10 000). */
  readonly maxPending?: number;
}

/** The longest wait between appends while the store keeps failing. */
const MAX_RETRY_MS = 5_000;

/**
 * Records a kernel's events into the durable run-event feed (I2, I4), in batches: an event is
 * queued as it is emitted (a listener never waits for the store) and appended at most `flushMs`
 * later, or as soon as `batchSize` are queued, one append per batch, in emit order. Consecutive
 * `turn:output` text of one turn is coalesced, and a chunk longer than 4 KB is cut (feed-event).
 *
 * States: idle (nothing queued) -> armed (a flush timer on the injected clock) -> flushing (one
 * append at a time) -> idle; flushing -> backing off when an append fails because the store is
 * unavailable: the batch is kept, in order, and retried from a timer with capped backoff, while
 * new events keep queueing up to `maxPending` (then the oldest are dropped, counted in `dropped`
 * and logged as a warning). An append that fails for any other reason drops its batch, with a
 * warning, so one bad batch cannot block the feed. `close()` stops listening and flushes.
 *
 * Crash semantics: events are appended after the state changes they report; a process that dies
 * loses the events still queued (at most `flushMs` of them, or what an outage held back), never
 * the state itself, and never records an event twice.
 */
export class EventRecorder {
  private readonly store: EventFeedStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private pending: NewFeedEvent[] = [];
  private timer: TimerHandle | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private droppedSinceWarning = 0;
  private droppedTotal = 0;
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(options: EventRecorderOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    this.flushMs = options.flushMs ?? 50;
    this.batchSize = options.batchSize ?? 200;
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** Events dropped so far (the store was unavailable too long, or an append failed for good). */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Events queued and not yet appended. */
  get queued(): number {
    return this.pending.length;
  }

  /** Records every event of `events` but `kernel:error`, from now until `close()`. */
  attach(events: KernelEventEmitter): void {
    for (const name of FEED_EVENT_NAMES) this.detach.push(events.on(name, (event) => this.record(name, event)));
  }

  /** Queues one event. */
  record<E extends FeedEventName>(type: E, event: KernelEvents[E]): void {
    if (this.closed) return;
    const entry = toFeedEvent(type, event, this.clock.now());
    const last = this.pending.at(-1);
    const merged = last === undefined ? undefined : coalescedOutput(last, entry);
    if (merged) this.pending[this.pending.length - 1] = merged;
    else this.pending.push(entry);
    this.dropOverflow();
    if (this.pending.length >= this.batchSize && this.failures === 0) this.arm(0);
    else this.arm(this.flushMs);
  }

  /**
   * Appends everything queued, a batch at a time, waiting for an append in progress first.
   * Resolves once the queue is empty, or after an append failed (what it could not append stays
   * queued for the next attempt). Never rejects.
   */
  async flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    this.flushing = this.drain();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Deletes feed events older than `retainMs` (retention of the feed). Never rejects. */
  async prune(retainMs: number): Promise<number> {
    try {
      return await this.store.pruneEvents(this.clock.now() - retainMs);
    } catch (error) {
      this.logger.warn('holdfast: could not prune the event feed; trying again later', { error: String(error) });
      return 0;
    }
  }

  /** Stops listening, then flushes. Events it could not append are lost (and logged). */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.detach.splice(0)) off();
    await this.flush();
    this.timer?.cancel();
    this.timer = undefined;
    if (this.pending.length > 0) {
      this.logger.warn('holdfast: event feed closed with events it could not append', { lost: this.pending.length });
      this.droppedTotal += this.pending.length;
      this.pending = [];
    }
  }

  private arm(delayMs: number): void {
    if (this.timer !== undefined) {
      if (delayMs > 0) return;
      this.timer.cancel();
    }
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        await this.store.appendEvents(batch);
      } catch (error) {
        this.appendFailed(batch, error);
        return;
      }
      this.appended();
    }
  }

  private appended(): void {
    if (this.failures > 0 && this.droppedSinceWarning > 0) {
      this.logger.warn('holdfast: event feed recording again; events were dropped while the store was unavailable', {
        dropped: this.droppedSinceWarning,
      });
    }
    this.failures = 0;
    this.droppedSinceWarning = 0;
  }

  private appendFailed(batch: NewFeedEvent[], error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) {
      this.droppedTotal += batch.length;
      this.logger.warn('holdfast: event feed append failed; its events are dropped', { dropped: batch.length, error: String(error) });
      if (this.pending.length > 0) this.arm(this.flushMs);
      return;
    }
    this.pending.unshift(...batch);
    this.dropOverflow();
    this.failures++;
    if (this.closed) return;
    this.timer?.cancel();
    const delay = backoffDelay({ initialMs: this.flushMs, maxMs: MAX_RETRY_MS, factor: 2 }, this.failures);
    this.timer = this.clock.setTimer(delay, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  /** Keeps at most `maxPending` events, dropping the oldest; warns once per outage. */
  private dropOverflow(): void {
    const over = this.pending.length - this.maxPending;
    if (over <= 0) return;
    this.pending.splice(0, over);
    this.droppedTotal += over;
    if (this.droppedSinceWarning === 0) {
      this.logger.warn('holdfast: event feed queue full while the store is unavailable; dropping the oldest events', {
        maxPending: this.maxPending,
      });
    }
    this.droppedSinceWarning += over;
  }
}
