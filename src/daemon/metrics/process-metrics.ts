import { Gauge, type Registry } from 'prom-client';
import type { EventLoopDelaySample } from '../../platform/event-loop-delay.js';
import type { WorkerStatus } from '../supervisor.js';

const WORKER_STATES: readonly WorkerStatus['state'][] = ['starting', 'running', 'hung', 'restarting', 'stopped'];
const DELAY_STATS = ['p50', 'p90', 'p99', 'max', 'mean'] as const;

/**
 * Whether the store is down, as this daemon process sees it: while its own reads (the feed tail,
 * a scrape) fail because the store is unavailable, or while its kernel reports an outage it has
 * not recovered from (live, from the kernel's own events: an outage reaches the feed only after
 * it ended, with the events held back meanwhile).
 */
export class StoreHealth {
  private readsFailing = false;
  private kernelDown = false;

  /** A read of this process finished: failed because the store is unavailable, or not. */
  read(unavailable: boolean): void {
    this.readsFailing = unavailable;
  }

  /** The kernel of this process reported `store:unavailable` (true) or `store:recovered` (false). */
  kernel(down: boolean): void {
    this.kernelDown = down;
  }

  get down(): boolean {
    return this.readsFailing || this.kernelDown;
  }
}

export interface ProcessMetricsSources {
  readonly health: StoreHealth;
  /** The event-loop delay since the previous call; undefined when it is not sampled. */
  readonly delay: () => EventLoopDelaySample | undefined;
  /** The feed tail's position. */
  readonly cursor: () => number | undefined;
  readonly workers: (() => readonly WorkerStatus[]) | undefined;
}

/** The gauges of this daemon process, set at each scrape: store health, event-loop delay, the feed tail, workers. */
export class ProcessMetrics {
  private readonly storeDown: Gauge;
  private readonly delay: Gauge<'stat'>;
  private readonly cursor: Gauge;
  private readonly workers: Gauge<'state'> | undefined;
  private readonly restarts: Gauge<'slot'> | undefined;

  constructor(
    registry: Registry,
    private readonly sources: ProcessMetricsSources,
  ) {
    const registers = [registry];
    this.storeDown = new Gauge({
      name: 'holdfast_store_unavailable',
      help: "1 while the store is unavailable to this daemon (its reads fail, or its kernel's writes wait for it), else 0.",
      registers,
    });
    this.delay = new Gauge({
      name: 'holdfast_event_loop_delay_seconds',
      help: "This daemon process's event-loop delay since the previous scrape (stat: p50, p90, p99, max, mean).",
      labelNames: ['stat'],
      registers,
    });
    this.cursor = new Gauge({
      name: 'holdfast_feed_cursor',
      help: 'The seq of the last run-event feed event the metrics have read.',
      registers,
    });
    if (sources.workers) {
      this.workers = new Gauge({
        name: 'holdfast_workers',
        help: 'Worker processes by state (starting, running, hung, restarting, stopped).',
        labelNames: ['state'],
        registers,
      });
      this.restarts = new Gauge({
        name: 'holdfast_worker_restarts',
        help: 'Restarts of each worker slot since the daemon started.',
        labelNames: ['slot'],
        registers,
      });
    }
  }

  /** Sets every gauge from its source, now. */
  refresh(): void {
    this.storeDown.set(this.sources.health.down ? 1 : 0);
    this.cursor.set(this.sources.cursor() ?? 0);
    const sample = this.sources.delay();
    if (sample) for (const stat of DELAY_STATS) this.delay.set({ stat }, sample[stat]);
    const workers = this.sources.workers?.();
    if (workers && this.workers && this.restarts) {
      for (const state of WORKER_STATES) this.workers.set({ state }, workers.filter((w) => w.state === state).length);
      this.restarts.reset();
      for (const worker of workers) this.restarts.set({ slot: String(worker.slot) }, worker.restarts);
    }
  }
}
