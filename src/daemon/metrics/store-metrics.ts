import { Gauge, type Registry } from 'prom-client';
import { PRIORITIES, WAIT_KINDS, type Priority, type RunStatus, type WaitKind } from '../../model/index.js';
import type { Store } from '../../ports/store.js';

/** The most live runs, and owed effects, one scrape reads (`holdfast_scrape_truncated` says when it hit it). */
export const SCRAPE_READ_LIMIT = 10_000;

const LIVE: readonly RunStatus[] = ['queued', 'running', 'waiting'];

/**
 * The gauges read from the store at each scrape: live runs, queue depths, waits and the outbox.
 * Read-only, two queries per scrape; the store is the truth, whichever process runs the runs.
 */
export class StoreMetrics {
  private readonly runs: Gauge<'status' | 'flow'>;
  private readonly queueDepth: Gauge<'priority'>;
  private readonly waiting: Gauge<'kind'>;
  private readonly owed: Gauge;
  private readonly failed: Gauge<'retrying'>;
  private readonly truncated: Gauge;

  constructor(
    registry: Registry,
    private readonly store: Pick<Store, 'listRuns' | 'listEffects'>,
  ) {
    const registers = [registry];
    this.runs = new Gauge({
      name: 'holdfast_runs',
      help: 'Live runs in the store at the scrape, by status (queued, running, waiting) and flow.',
      labelNames: ['status', 'flow'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'holdfast_queue_depth',
      help: 'Queued runs in the store at the scrape, by priority.',
      labelNames: ['priority'],
      registers,
    });
    this.waiting = new Gauge({
      name: 'holdfast_runs_waiting',
      help: 'Waiting runs at the scrape, by what they wait for (timer, retry, effect, child, preempted: parked by steal).',
      labelNames: ['kind'],
      registers,
    });
    this.owed = new Gauge({
      name: 'holdfast_effects_owed',
      help: 'Effects claimed and not yet recorded at the scrape (being emitted, or left by an owner that died).',
      registers,
    });
    this.failed = new Gauge({
      name: 'holdfast_effects_failed',
      help: 'Effects whose last emit failed at the scrape; retrying="false": failed for good (TerminalError).',
      labelNames: ['retrying'],
      registers,
    });
    this.truncated = new Gauge({
      name: 'holdfast_scrape_truncated',
      help: `1 when the scrape read its limit of ${SCRAPE_READ_LIMIT} live runs or owed effects, so the gauges read from the store undercount.`,
      registers,
    });
  }

  /** Reads the store and sets the gauges. Rejects (gauges unchanged) when the store does not answer. */
  async refresh(): Promise<void> {
    const [runs, effects] = await Promise.all([
      this.store.listRuns({ status: LIVE, limit: SCRAPE_READ_LIMIT }),
      this.store.listEffects({ status: ['claimed', 'failed'], limit: SCRAPE_READ_LIMIT }),
    ]);
    const byStatusFlow = new Map<string, { status: RunStatus; flow: string; count: number }>();
    const depth = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    const waits = Object.fromEntries(WAIT_KINDS.map((k) => [k, 0])) as Record<WaitKind, number>;
    for (const run of runs) {
      const id = `${run.status}\u0000${run.flow}`;
      const entry = byStatusFlow.get(id) ?? { status: run.status, flow: run.flow, count: 0 };
      entry.count += 1;
      byStatusFlow.set(id, entry);
      if (run.status === 'queued') depth[run.priority] += 1;
      if (run.status === 'waiting') waits[run.wait?.kind ?? 'preempted'] += 1;
    }
    this.runs.reset();
    for (const { status, flow, count } of byStatusFlow.values()) this.runs.set({ status, flow }, count);
    for (const priority of PRIORITIES) this.queueDepth.set({ priority }, depth[priority]);
    for (const kind of WAIT_KINDS) this.waiting.set({ kind }, waits[kind]);
    this.owed.set(effects.filter((e) => e.status === 'claimed').length);
    const failed = effects.filter((e) => e.status === 'failed');
    this.failed.set({ retrying: 'true' }, failed.filter((e) => e.nextAttemptAt !== null).length);
    this.failed.set({ retrying: 'false' }, failed.filter((e) => e.nextAttemptAt === null).length);
    this.truncated.set(runs.length >= SCRAPE_READ_LIMIT || effects.length >= SCRAPE_READ_LIMIT ? 1 : 0);
  }
}
