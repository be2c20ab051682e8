import { Counter, Histogram, type Registry } from 'prom-client';
import { PREEMPT_KINDS, PRIORITIES } from '../../model/index.js';
import type { FeedEvent } from '../../ports/event-feed.js';

/** Upper bounds (seconds) of the step duration histogram: in-process code, milliseconds to minutes. */
export const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Upper bounds (seconds) of the turn duration histogram: agent and model turns, up to an hour. */
export const TURN_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The label value of a field an event of an earlier version did not carry. */
const UNKNOWN = 'unknown';

/**
 * The counters and histograms derived from the run-event feed: each feed event read moves them
 * once. They count from when the daemon's metrics started (see FeedTail), whichever process
 * (daemon or worker) the event came from.
 */
export class EventMetrics {
  private readonly events: Counter<'type'>;
  private readonly queued: Counter<'flow' | 'priority'>;
  private readonly finished: Counter<'flow' | 'status'>;
  private readonly steps: Histogram<'flow'>;
  private readonly turns: Histogram<'provider'>;
  private readonly preemptions: Counter<'kind'>;
  private readonly takeovers: Counter;
  private readonly staleEpochs: Counter<'operation'>;
  private readonly lateResults: Counter<'provider'>;
  private readonly effectAttempts: Counter<'outcome'>;
  private readonly unavailable: Counter<'operation'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.events = new Counter({
      name: 'holdfast_events_total',
      help: 'Run-event feed events read, by type.',
      labelNames: ['type'],
      registers,
    });
    this.queued = new Counter({
      name: 'holdfast_runs_queued_total',
      help: 'Commands recorded (run:queued), by flow and priority.',
      labelNames: ['flow', 'priority'],
      registers,
    });
    this.finished = new Counter({
      name: 'holdfast_runs_finished_total',
      help: 'Runs that ended, by flow and status (completed, failed, cancelled).',
      labelNames: ['flow', 'status'],
      registers,
    });
    this.steps = new Histogram({
      name: 'holdfast_step_duration_seconds',
      help: "Committed ctx.step calls: from the call of the attempt's function to the end of its commit, by flow.",
      labelNames: ['flow'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.turns = new Histogram({
      name: 'holdfast_turn_duration_seconds',
      help: 'Committed provider turns: from the turn start to the end of its commit, by provider.',
      labelNames: ['provider'],
      buckets: TURN_BUCKETS,
      registers,
    });
    this.preemptions = new Counter({
      name: 'holdfast_preemptions_total',
      help: 'Active runs interrupted by urgent work, by kind (steal, abort-keep, abort-drop).',
      labelNames: ['kind'],
      registers,
    });
    this.takeovers = new Counter({
      name: 'holdfast_lease_takeovers_total',
      help: 'Owner leases taken from another owner that had not released them (expired, or proven dead).',
      registers,
    });
    this.staleEpochs = new Counter({
      name: 'holdfast_stale_epoch_rejections_total',
      help: 'Fenced writes the store refused because another owner held the key at a newer epoch, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.lateResults = new Counter({
      name: 'holdfast_late_results_total',
      help: 'Provider results that arrived after their turn was interrupted and were discarded (K7), by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.effectAttempts = new Counter({
      name: 'holdfast_effect_attempts_total',
      help: 'Effect emits, by outcome (delivered, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.unavailable = new Counter({
      name: 'holdfast_store_unavailable_total',
      help: 'Store outages a kernel process saw begin, by the operation that found the store unavailable.',
      labelNames: ['operation'],
      registers,
    });
    for (const kind of PREEMPT_KINDS) this.preemptions.inc({ kind }, 0);
    for (const outcome of ['delivered', 'failed']) this.effectAttempts.inc({ outcome }, 0);
    this.takeovers.inc(0);
  }

  /** Moves the metrics an event of the feed stands for. */
  observe(event: FeedEvent): void {
    this.events.inc({ type: event.type });
    const data = (event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data) ? event.data : {}) as Record<
      string,
      unknown
    >;
    switch (event.type) {
      case 'run:queued':
        this.queued.inc({ flow: text(data.flow), priority: oneOf(data.priority, PRIORITIES) });
        return;
      case 'run:completed':
      case 'run:failed':
      case 'run:cancelled':
        this.finished.inc({ flow: text(data.flow), status: event.type.slice('run:'.length) });
        return;
      case 'step:committed':
        if (typeof data.durationMs === 'number') this.steps.observe({ flow: text(data.flow) }, seconds(data.durationMs));
        return;
      case 'turn:completed':
        if (typeof data.durationMs === 'number') this.turns.observe({ provider: text(data.provider) }, seconds(data.durationMs));
        return;
      case 'run:interrupted':
        if (data.by !== 'operator') this.preemptions.inc({ kind: oneOf(data.kind, PREEMPT_KINDS) });
        return;
      case 'owner:acquired':
        if (data.takeover === true) this.takeovers.inc();
        return;
      case 'owner:lost':
        if (typeof data.rejectedWrite === 'string') this.staleEpochs.inc({ operation: data.rejectedWrite });
        return;
      case 'turn:late-result':
        this.lateResults.inc({ provider: text(data.provider) });
        return;
      case 'effect:delivered':
        this.effectAttempts.inc({ outcome: 'delivered' });
        return;
      case 'effect:failed':
        this.effectAttempts.inc({ outcome: 'failed' });
        return;
      case 'store:unavailable':
        this.unavailable.inc({ operation: text(data.operation) });
        return;
    }
  }
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : UNKNOWN;
}

function oneOf(value: unknown, allowed: readonly string[]): string {
  return typeof value === 'string' && allowed.includes(value) ? value : UNKNOWN;
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
