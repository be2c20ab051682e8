import { describe, expect, it } from 'vitest';
import { memoryStore, virtualClock } from 'holdfast/testing';
import { StoreUnavailableError } from '../../../src/errors.js';
import type { KernelEventName, KernelEvents } from '../../../src/runtime/events.js';
import type { FeedEvent, NewFeedEvent, Store } from '../../../src/ports/store.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createDaemonMetrics } from '../../../src/daemon/metrics/daemon-metrics.js';
import { FeedTail } from '../../../src/daemon/metrics/feed-tail.js';
import type { WorkerStatus } from '../../../src/daemon/supervisor.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

const T0 = 1_000_000;

/** A feed entry as a kernel records it. */
function entry<E extends KernelEventName>(type: E, data: KernelEvents[E], at = T0): NewFeedEvent {
  const fields = data as { runId?: string; key?: string };
  return { at, type, runId: fields.runId ?? null, key: fields.key ?? null, data: data as never };
}

const error = { code: 'boom', message: 'it broke' };

function setup(options: { store?: Store; workers?: () => readonly WorkerStatus[] } = {}) {
  const clock = virtualClock(T0);
  const store = options.store ?? memoryStore();
  const metrics = createDaemonMetrics({ store, clock, logger: silentLogger, eventLoopDelay: false, workers: options.workers });
  const scrape = async () => parsePrometheusText(await metrics.scrape());
  return { clock, store, metrics, scrape };
}

describe('daemon metrics from the run-event feed (memory store, virtual clock)', () => {
  it('counts from the newest event at start: history is not counted again, later events exactly once', async () => {
    const { clock, store, metrics, scrape } = setup();
    await store.appendEvents([
      entry('run:completed', { runId: 'old', key: 'k', result: null, flow: 'triage' }),
      entry('owner:acquired', { key: 'k', epoch: 1, takeover: true }),
    ]);
    await metrics.start();
    let m = await scrape();
    expect(m.value('holdfast_runs_finished_total', { flow: 'triage', status: 'completed' })).toBeUndefined();
    expect(m.value('holdfast_lease_takeovers_total')).toBe(0);
    expect(m.value('holdfast_feed_cursor')).toBe(2);

    await store.appendEvents([
      entry('run:queued', { runId: 'a', key: 'k', flow: 'triage', priority: 'urgent' }),
      entry('run:completed', { runId: 'a', key: 'k', result: 1, flow: 'triage' }),
      entry('run:failed', { runId: 'b', key: 'k', error, flow: 'triage' }),
      entry('run:cancelled', { runId: 'c', key: 'k', error, flow: 'build' }),
      entry('run:failed', { runId: 'd', key: 'k', error }), // an entry of an earlier version, without its flow
      entry('step:committed', { runId: 'a', key: 'k', seq: 0, name: 'plan', flow: 'triage', durationMs: 20 }),
      entry('step:committed', { runId: 'a', key: 'k', seq: 1, name: 'effect:reply' }), // not a ctx.step: not timed
      entry('turn:completed', { runId: 'a', key: 'k', seq: 2, provider: 'agent', durationMs: 1500 }),
      entry('run:interrupted', { runId: 'a', key: 'k', kind: 'steal', by: 'u' }),
      entry('run:interrupted', { runId: 'a', key: 'k', kind: 'abort-drop', by: 'operator' }), // a cancel, not a preemption
      entry('owner:acquired', { key: 'k', epoch: 2, takeover: true }),
      entry('owner:acquired', { key: 'k', epoch: 3 }),
      entry('owner:lost', { key: 'k', epoch: 3, reason: 'taken-over', rejectedWrite: 'commit step' }),
      entry('owner:lost', { key: 'k', epoch: 3, reason: 'lapsed' }),
      entry('turn:late-result', { runId: 'a', key: 'k', seq: 2, provider: 'agent', attempt: 1 }),
      entry('effect:failed', { runId: 'a', key: 'k', effectKey: 'e', name: 'reply', attempt: 1, error, retryAt: T0 + 2000 }),
      entry('effect:delivered', { runId: 'a', key: 'k', effectKey: 'e', name: 'reply', attempt: 2 }),
      entry('store:unavailable', { operation: 'commit step', reason: 'locked', message: 'busy' }),
      entry('store:recovered', { operation: 'commit step', downMs: 300 }),
    ]);
    await clock.advance(1_000); // the tail reads on its own every second
    m = await scrape();
    expect(m.value('holdfast_feed_cursor')).toBe(21);
    expect(m.value('holdfast_runs_queued_total', { flow: 'triage', priority: 'urgent' })).toBe(1);
    expect(m.samples('holdfast_runs_finished_total').map((s) => [s.labels.flow, s.labels.status, s.value])).toEqual([
      ['triage', 'completed', 1],
      ['triage', 'failed', 1],
      ['build', 'cancelled', 1],
      ['unknown', 'failed', 1],
    ]);
    expect(m.value('holdfast_step_duration_seconds_count', { flow: 'triage' })).toBe(1);
    expect(m.value('holdfast_step_duration_seconds_sum', { flow: 'triage' })).toBe(0.02);
    expect(m.value('holdfast_step_duration_seconds_bucket', { flow: 'triage', le: '0.01' })).toBe(0);
    expect(m.value('holdfast_step_duration_seconds_bucket', { flow: 'triage', le: '0.025' })).toBe(1);
    expect(m.value('holdfast_turn_duration_seconds_sum', { provider: 'agent' })).toBe(1.5);
    expect(m.value('holdfast_preemptions_total', { kind: 'steal' })).toBe(1);
    expect(m.value('holdfast_preemptions_total', { kind: 'abort-drop' })).toBe(0);
    expect(m.value('holdfast_lease_takeovers_total')).toBe(1);
    expect(m.value('holdfast_stale_epoch_rejections_total', { operation: 'commit step' })).toBe(1);
    expect(m.value('holdfast_late_results_total', { provider: 'agent' })).toBe(1);
    expect(m.value('holdfast_effect_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(m.value('holdfast_effect_attempts_total', { outcome: 'delivered' })).toBe(1);
    expect(m.value('holdfast_store_unavailable_total', { operation: 'commit step' })).toBe(1);
    expect(m.value('holdfast_events_total', { type: 'owner:acquired' })).toBe(2);

    // A scrape reads the feed up to now, and the next reads only what is new.
    await store.appendEvents([entry('run:completed', { runId: 'e', key: 'k', result: null, flow: 'triage' })]);
    m = await scrape();
    expect(m.value('holdfast_runs_finished_total', { flow: 'triage', status: 'completed' })).toBe(2);
    m = await scrape();
    expect(m.value('holdfast_runs_finished_total', { flow: 'triage', status: 'completed' })).toBe(2);
    await metrics.stop();

    // A restarted daemon starts at the newest event again.
    const again = createDaemonMetrics({ store, clock, logger: silentLogger, eventLoopDelay: false });
    await again.start();
    const fresh = parsePrometheusText(await again.scrape());
    expect(fresh.value('holdfast_runs_finished_total', { flow: 'triage', status: 'completed' })).toBeUndefined();
    expect(fresh.value('holdfast_feed_cursor')).toBe(22);
    await again.stop();
  });

  it('gauges read from the store at the scrape: live runs by status and flow, queue depth, waits, the outbox', async () => {
    const { store, metrics, scrape } = setup();
    const command = (id: string, priority: 'urgent' | 'normal' | 'background', flow = 'triage') =>
      store.enqueue({ id, key: 'k', flow, input: null, idempotencyKey: id, priority, preempt: null, now: T0 });
    await command('u1', 'urgent');
    await command('n1', 'normal');
    await command('n2', 'normal', 'build');
    await command('b1', 'background');
    const lease = await store.acquireOwner({ key: 'k', ownerId: 'o', now: T0, ttlMs: 10_000, channel: null });
    const fence = { key: 'k', ownerId: 'o', epoch: lease!.epoch };
    await store.claimNext({ ...fence, now: T0 }); // u1 runs
    await store.claimEffect({ ...fence, runId: 'u1', seq: 0, name: 'reply', effectKey: 'e1', origins: [], now: T0 });
    await store.failEffect({ ...fence, runId: 'u1', effectKey: 'e1', error, now: T0, retryAt: null });
    await store.claimEffect({ ...fence, runId: 'u1', seq: 1, name: 'reply', effectKey: 'e2', origins: [], now: T0 });
    await metrics.start();
    const m = await scrape();
    expect(m.value('holdfast_runs', { status: 'running', flow: 'triage' })).toBe(1);
    expect(m.value('holdfast_runs', { status: 'queued', flow: 'triage' })).toBe(2);
    expect(m.value('holdfast_runs', { status: 'queued', flow: 'build' })).toBe(1);
    expect(m.value('holdfast_queue_depth', { priority: 'urgent' })).toBe(0);
    expect(m.value('holdfast_queue_depth', { priority: 'normal' })).toBe(2);
    expect(m.value('holdfast_queue_depth', { priority: 'background' })).toBe(1);
    expect(m.value('holdfast_runs_waiting', { kind: 'preempted' })).toBe(0);
    expect(m.value('holdfast_effects_owed')).toBe(1);
    expect(m.value('holdfast_effects_failed', { retrying: 'false' })).toBe(1);
    expect(m.value('holdfast_effects_failed', { retrying: 'true' })).toBe(0);
    expect(m.value('holdfast_scrape_truncated')).toBe(0);
    expect(m.value('holdfast_store_unavailable')).toBe(0);
    await metrics.stop();
  });

  it('holdfast_store_unavailable is 1 while the reads fail as unavailable, or the kernel reports an outage', async () => {
    const inner = memoryStore();
    let down = false;
    const unavailable = () => new StoreUnavailableError('locked', 'test store', 'held');
    const store: Store = {
      ...inner,
      readEvents: (q) => (down ? Promise.reject(unavailable()) : inner.readEvents(q)),
      listRuns: (q) => (down ? Promise.reject(unavailable()) : inner.listRuns(q)),
    };
    const listeners = new Map<string, () => void>();
    const kernel = {
      on: ((name: string, listener: () => void) => {
        listeners.set(name, listener);
        return () => listeners.delete(name);
      }) as never,
    };
    const clock = virtualClock(T0);
    const metrics = createDaemonMetrics({ store, clock, logger: silentLogger, eventLoopDelay: false, kernel });
    await metrics.start();
    const gauge = async () => parsePrometheusText(await metrics.scrape()).value('holdfast_store_unavailable');
    expect(await gauge()).toBe(0);
    down = true;
    expect(await gauge()).toBe(1);
    const m = parsePrometheusText(await metrics.scrape());
    expect(m.value('holdfast_metrics_read_errors_total', { source: 'feed' })).toBeGreaterThan(0);
    down = false;
    expect(await gauge()).toBe(0);
    listeners.get('store:unavailable')!();
    expect(await gauge()).toBe(1);
    listeners.get('store:recovered')!();
    expect(await gauge()).toBe(0);
    await metrics.stop();
    expect(listeners.size).toBe(0);
  });

  it('worker states and restarts, when the daemon has workers', async () => {
    const workers: WorkerStatus[] = [
      { slot: 0, pid: 10, state: 'running', ownerId: 'a', restarts: 0, silentMs: 5 },
      { slot: 1, pid: 11, state: 'hung', ownerId: 'b', restarts: 2, silentMs: 40_000 },
    ];
    const { metrics, scrape } = setup({ workers: () => workers });
    await metrics.start();
    const m = await scrape();
    expect(m.value('holdfast_workers', { state: 'running' })).toBe(1);
    expect(m.value('holdfast_workers', { state: 'hung' })).toBe(1);
    expect(m.value('holdfast_workers', { state: 'restarting' })).toBe(0);
    expect(m.value('holdfast_worker_restarts', { slot: '1' })).toBe(2);
    await metrics.stop();
  });

  it('two daemons in one process keep their own registries, and GET /metrics answers the text format', async () => {
    const a = setup();
    const b = setup();
    await a.metrics.start();
    await b.metrics.start();
    await a.store.appendEvents([entry('run:completed', { runId: 'x', key: 'k', result: null, flow: 'f' })]);
    const response = await a.metrics.routes().request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(parsePrometheusText(await response.text()).value('holdfast_runs_finished_total', { flow: 'f', status: 'completed' })).toBe(1);
    expect((await b.scrape()).value('holdfast_runs_finished_total', { flow: 'f', status: 'completed' })).toBeUndefined();
    await a.metrics.stop();
    await b.metrics.stop();
  });
});

describe('FeedTail starts after the newest seq', () => {
  /** A feed holding exactly `seqs` (increasing, with gaps), that counts its reads. */
  function feed(seqs: readonly number[]) {
    let reads = 0;
    const events = seqs.map((seq): FeedEvent => ({ seq, at: 0, type: 'run:queued', runId: null, key: null, data: null }));
    return {
      get reads() {
        return reads;
      },
      readEvents: async ({ after, limit }: { after: number; limit: number }) => {
        reads++;
        return events.filter((e) => e.seq > after).slice(0, limit);
      },
      latestEventSeq: async () => {
        reads++;
        return events.at(-1)?.seq ?? 0;
      },
    };
  }

  const cases: [string, number[]][] = [
    ['empty', []],
    ['one', [1]],
    ['pruned start', [7, 8, 9]],
    ['gaps', [3, 4, 40, 41, 1000, 1023]],
    ['a power of two', Array.from({ length: 1024 }, (_, i) => i + 1)],
    ['one past', Array.from({ length: 1025 }, (_, i) => i + 1)],
    ['sparse and large', [5, 1_000_000, 5_000_000_000]],
  ];
  for (const [name, seqs] of cases) {
    it(`${name}: starts after ${seqs.at(-1) ?? 0}`, async () => {
      const store = feed(seqs);
      const seen: number[] = [];
      const tail = new FeedTail({ store, clock: virtualClock(0), logger: silentLogger, onEvent: (e) => seen.push(e.seq) });
      await tail.start();
      expect(tail.position).toBe(seqs.at(-1) ?? 0);
      expect(seen).toEqual([]);
      expect(store.reads).toBeLessThan(80);
      await tail.stop();
    });
  }
});
