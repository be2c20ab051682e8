import { Hono } from 'hono';
import { Counter, Registry } from 'prom-client';
import { StoreUnavailableError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { Store } from '../../ports/store.js';
import { openEventLoopDelayMonitor, type EventLoopDelayMonitor } from '../../platform/event-loop-delay.js';
import type { Kernel } from '../../runtime/kernel.js';
import type { WorkerStatus } from '../supervisor.js';
import { EventMetrics } from './event-metrics.js';
import { FeedTail } from './feed-tail.js';
import { ProcessMetrics, StoreHealth } from './process-metrics.js';
import { StoreMetrics } from './store-metrics.js';

export interface DaemonMetricsOptions {
  /** The daemon's store: the run-event feed is tailed from it and the gauges read from it. */
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The supervisor's worker statuses (`workers: N`): adds `holdfast_workers` and `holdfast_worker_restarts`. */
  readonly workers?: () => readonly WorkerStatus[];
  /**
   * The kernel of the daemon's process (its serving kernel, or its client kernel with workers):
   * its `store:unavailable` / `store:recovered` drive `holdfast_store_unavailable` as they happen.
   * Counters never come from it (they come from the feed, which every process writes).
   */
  readonly kernel?: Pick<Kernel, 'on'>;
  /** How often the feed is read between scrapes (default 1 000 ms). */
  readonly feedEveryMs?: number;
  /** The event-loop delay monitor; default: this process's, opened at `start()`; `false`: none. */
  readonly eventLoopDelay?: EventLoopDelayMonitor | false;
}

/** Prometheus metrics of a daemon (I4), on a registry of its own. */
export interface DaemonMetrics {
  /** The Hono app serving `GET /metrics` (Prometheus text format 0.0.4); mount it at `/`. */
  routes(): Hono;
  /** Starts tailing the run-event feed from its newest event, and sampling the event loop. */
  start(): Promise<void>;
  /** Stops tailing and sampling; waits for a read in progress. */
  stop(): Promise<void>;
  /** What `GET /metrics` answers: reads the feed up to now and the store's gauges, then renders. */
  scrape(): Promise<string>;
  /** The registry's content type (`text/plain; version=0.0.4; charset=utf-8`). */
  readonly contentType: string;
}

/**
 * Creates the daemon's metrics: counters and histograms derived from the durable run-event feed
 * (so events of worker processes count as much as the daemon's own; see FeedTail), gauges read
 * from the store at each scrape (live runs, queues, waits, the outbox), and gauges of this process
 * (store health, event-loop delay, workers). Every metric is named `holdfast_*` and is documented
 * in docs/observability.md. The registry is this object's own, never prom-client's global one,
 * so several daemons in one process do not collide.
 *
 * Nothing is persisted: counters start at zero when the daemon starts, counting from the newest
 * feed event then (a restart does not count history again); Prometheus handles the reset.
 */
export function createDaemonMetrics(options: DaemonMetricsOptions): DaemonMetrics {
  const registry = new Registry();
  const health = new StoreHealth();
  const readErrors = new Counter({
    name: 'holdfast_metrics_read_errors_total',
    help: 'Reads of the store by the metrics that failed, by source (feed, scrape); the affected metrics are stale meanwhile.',
    labelNames: ['source'],
    registers: [registry],
  });
  for (const source of ['feed', 'scrape']) readErrors.inc({ source }, 0);
  const events = new EventMetrics(registry);
  const stored = new StoreMetrics(registry, options.store);
  const tail = new FeedTail({
    store: options.store,
    clock: options.clock,
    logger: options.logger,
    everyMs: options.feedEveryMs,
    onEvent: (event) => events.observe(event),
    onRead: (failure) => {
      if (failure !== 'none') readErrors.inc({ source: 'feed' });
      health.read(failure === 'unavailable');
    },
  });
  let delay: EventLoopDelayMonitor | undefined = options.eventLoopDelay === false ? undefined : options.eventLoopDelay;
  const own = new ProcessMetrics(registry, {
    health,
    delay: () => delay?.take(),
    cursor: () => tail.position,
    workers: options.workers,
  });
  const detach: (() => void)[] = [];
  let started = false;

  const scrape = async (): Promise<string> => {
    await tail.catchUp();
    try {
      await stored.refresh();
      health.read(false);
    } catch (error) {
      readErrors.inc({ source: 'scrape' });
      const unavailable = error instanceof StoreUnavailableError;
      health.read(unavailable);
      if (!unavailable) options.logger.warn('holdfast: metrics could not read the store', { error: String(error) });
    }
    own.refresh();
    return registry.metrics();
  };

  return {
    contentType: registry.contentType,
    routes() {
      const app = new Hono();
      app.get('/metrics', async (c) => c.body(await scrape(), 200, { 'content-type': registry.contentType }));
      return app;
    },
    async start() {
      if (started) return;
      started = true;
      if (options.eventLoopDelay === undefined) delay = openEventLoopDelayMonitor();
      if (options.kernel) {
        detach.push(options.kernel.on('store:unavailable', () => health.kernel(true)));
        detach.push(options.kernel.on('store:recovered', () => health.kernel(false)));
      }
      await tail.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      for (const off of detach.splice(0)) off();
      await tail.stop();
      if (options.eventLoopDelay === undefined) delay?.close();
    },
    scrape,
  };
}
