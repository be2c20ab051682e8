// Prometheus metrics of a daemon over a real kernel on a SQLite file: the counters are derived
// from the durable run-event feed the kernel writes, so this checks the whole path (kernel event
// -> feed batch -> tail -> counter) with exact values, and the text format with a strict parser.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createKernel, defineFlow, sqliteStore, TerminalError, type Json, type Kernel } from 'holdfast';
import { fakeProvider } from 'holdfast/testing';
import { createDaemonMetrics, type DaemonMetrics } from '../../../src/daemon/metrics/daemon-metrics.js';
import { createHttpApp } from '../../../src/daemon/http-app.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { parsePrometheusText, type Exposition } from '../../support/prometheus-text.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hf-metrics-')), 'state.db');

/** A gate a step waits on, opened by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Serves the metrics routes the way the daemon mounts them, on a free port. */
async function served(metrics: DaemonMetrics): Promise<() => Promise<Exposition>> {
  const app = createHttpApp({ routes: [metrics.routes()], readiness: async () => ({ ready: true }), onError: () => undefined });
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve({ server, port: info.port }));
  });
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheusText(await response.text());
  };
}

describe('GET /metrics over a real kernel and its event feed (SQLite file)', () => {
  it('counts completions, a failure, a steal with its late result, an effect failing then delivered, takeovers and a stale epoch exactly', async () => {
    const path = fresh();
    const store = sqliteStore({ path });
    cleanup.push(() => store.close());
    const clock = systemClock;
    const agent = fakeProvider(
      (request) =>
        (request.input as { slow?: boolean }).slow && !request.interrupted
          ? { durationMs: 400, ignoreAbort: true, result: 'late' } // answers after the steal: discarded
          : { durationMs: 5, result: 'answer' },
      { clock },
    );
    const stolenGate = gate();
    let stolenRunning!: () => void;
    const stolenStarted = new Promise<void>((resolve) => (stolenRunning = resolve));
    let emits = 0;
    const flows = [
      defineFlow('ok', async (ctx) => {
        await ctx.step('plan', () => 'plan');
        const answer = await ctx.turn('agent', { slow: false });
        await ctx.step('finish', () => 'done');
        return answer;
      }),
      defineFlow('boom', async (ctx) => {
        await ctx.step('explode', () => {
          throw new TerminalError('no way', 'boom');
        });
      }),
      defineFlow('slow', async (ctx) => {
        const answer = await ctx.turn('agent', { slow: true });
        await ctx.step('after', () => 'after');
        return answer;
      }),
      defineFlow('urgent', async (ctx) => ctx.step('fix', () => 'fixed')),
      defineFlow('notify', async (ctx) =>
        ctx.effect('reply', () => {
          emits += 1;
          if (emits === 1) throw new Error('502 from the receiver');
          return { comment: emits };
        }),
      ),
      defineFlow('stolen', async (ctx) =>
        ctx.step('hold', async () => {
          stolenRunning();
          await stolenGate.opened;
          return 'held';
        }),
      ),
    ];
    const kernel: Kernel = createKernel({
      store,
      flows,
      providers: { agent },
      clock,
      eventFeed: { flushMs: 5 },
      pollIntervalMs: 100,
      ownerTtlMs: 60_000, // renewals (every 12 s) never race the stale write below
    });
    cleanup.push(() => kernel.stop({ timeoutMs: 5_000 }));
    const metrics = createDaemonMetrics({ store, clock, logger: silentLogger, kernel, feedEveryMs: 50 });
    cleanup.push(() => metrics.stop());
    const scrape = await served(metrics);

    // History before the metrics started is not counted.
    await kernel.start();
    const before = await kernel.submit({ key: 'k-before', flow: 'urgent' });
    await before.result();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the feed batch is appended
    await metrics.start();

    // A key whose owner died holding it: the kernel takes it over once the lease expired.
    await store.acquireOwner({ key: 'k-ghost', ownerId: 'ghost-host/1/gone', now: clock.now(), ttlMs: 1, channel: null });
    const ok = await kernel.submit({ key: 'k-ok', flow: 'ok' });
    const ghost = await kernel.submit({ key: 'k-ghost', flow: 'ok' });
    const boom = await kernel.submit({ key: 'k-boom', flow: 'boom' });
    const notify = await kernel.submit({ key: 'k-fx', flow: 'notify' });

    // A steal: the slow turn is interrupted, the urgent run runs, the slow run resumes.
    const slowStarted = kernel.once('turn:started', (e) => e.key === 'k-pre');
    const slow = await kernel.submit({ key: 'k-pre', flow: 'slow' });
    await slowStarted;
    const late = kernel.once('turn:late-result', (e) => e.runId === slow.id);
    const urgent = await kernel.submit({ key: 'k-pre', flow: 'urgent', priority: 'urgent', preempt: 'steal' });

    // Another owner takes a key while its step runs: the step's commit is refused as stale; the
    // kernel takes the key back once that owner's lease expired, and the run completes.
    const stolen = await kernel.submit({ key: 'k-stolen', flow: 'stolen' });
    await stolenStarted;
    const intruder = await store.acquireOwner({
      key: 'k-stolen',
      ownerId: 'intruder-host/2/x',
      now: clock.now(),
      ttlMs: 300,
      channel: null,
      takeOverFrom: kernel.ownerId,
    });
    expect(intruder?.takenOverFrom).toBe(kernel.ownerId);
    const lost = kernel.once('owner:lost', (e) => e.key === 'k-stolen');
    stolenGate.open();
    expect(await lost).toMatchObject({ reason: 'taken-over', rejectedWrite: 'commit step' });

    const results = await Promise.allSettled([ok, ghost, boom, notify, slow, urgent, stolen].map((h) => h.result()));
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[4] as PromiseFulfilledResult<Json>).value).toBe('answer');
    await late;
    await kernel.stop(); // flushes the event feed
    const m = await scrape();

    const finished = (flow: string, status: string) => m.value('holdfast_runs_finished_total', { flow, status });
    expect(m.samples('holdfast_runs_finished_total')).toHaveLength(6);
    expect(finished('ok', 'completed')).toBe(2);
    expect(finished('boom', 'failed')).toBe(1);
    expect(finished('slow', 'completed')).toBe(1);
    expect(finished('urgent', 'completed')).toBe(1); // the run before the metrics started is not counted
    expect(finished('notify', 'completed')).toBe(1);
    expect(finished('stolen', 'completed')).toBe(1);
    expect(m.value('holdfast_runs_queued_total', { flow: 'urgent', priority: 'urgent' })).toBe(1);
    expect(m.value('holdfast_runs_queued_total', { flow: 'ok', priority: 'normal' })).toBe(2);

    // ok: plan + finish, twice; slow: after; urgent: fix; stolen: hold (its first commit was refused).
    const steps = (flow: string) => m.value('holdfast_step_duration_seconds_count', { flow });
    expect([steps('ok'), steps('slow'), steps('urgent'), steps('stolen'), steps('boom'), steps('notify')]).toEqual([
      4,
      1,
      1,
      1,
      undefined,
      undefined,
    ]);
    // Two turns of ok runs and the re-issued slow turn; the stolen-from turn never completed.
    expect(m.value('holdfast_turn_duration_seconds_count', { provider: 'agent' })).toBe(3);
    expect(m.value('holdfast_turn_duration_seconds_sum', { provider: 'agent' })).toBeGreaterThanOrEqual(0.015);
    expect(m.value('holdfast_preemptions_total', { kind: 'steal' })).toBe(1);
    expect(m.value('holdfast_preemptions_total', { kind: 'abort-keep' })).toBe(0);
    expect(m.value('holdfast_late_results_total', { provider: 'agent' })).toBe(1);
    expect(m.value('holdfast_lease_takeovers_total')).toBe(2); // from the ghost, and back from the intruder
    expect(m.value('holdfast_stale_epoch_rejections_total', { operation: 'commit step' })).toBe(1);
    expect(m.value('holdfast_effect_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(m.value('holdfast_effect_attempts_total', { outcome: 'delivered' })).toBe(1);
    expect(m.samples('holdfast_store_unavailable_total')).toEqual([]);
    expect(m.value('holdfast_events_total', { type: 'run:parked' })).toBe(1);
    expect(m.value('holdfast_events_total', { type: 'run:resumed' })).toBe(1);

    // Gauges read from the store: nothing is live any more, the outbox owes nothing.
    expect(m.samples('holdfast_runs')).toEqual([]);
    expect(['urgent', 'normal', 'background'].map((priority) => m.value('holdfast_queue_depth', { priority }))).toEqual([0, 0, 0]);
    expect(m.value('holdfast_effects_owed')).toBe(0);
    expect(m.value('holdfast_effects_failed', { retrying: 'true' })).toBe(0);
    expect(m.value('holdfast_store_unavailable')).toBe(0);
    expect(m.value('holdfast_scrape_truncated')).toBe(0);
    expect(m.value('holdfast_metrics_read_errors_total', { source: 'feed' })).toBe(0);
    for (const stat of ['p50', 'p90', 'p99', 'max', 'mean']) {
      expect(m.value('holdfast_event_loop_delay_seconds', { stat })).toBeGreaterThanOrEqual(0);
    }
    expect(m.families.get('holdfast_step_duration_seconds')?.type).toBe('histogram');
    expect(m.families.get('holdfast_runs_finished_total')?.type).toBe('counter');
    expect(m.families.get('holdfast_queue_depth')?.type).toBe('gauge');
    for (const family of m.families.values()) expect(family.name.startsWith('holdfast_'), family.name).toBe(true);
  }, 20_000);

  it('live runs and queue depths are read from the store at the scrape', async () => {
    const path = fresh();
    const store = sqliteStore({ path });
    cleanup.push(() => store.close());
    const held = gate();
    const flows = [defineFlow('wait', async (ctx) => ctx.step('hold', async () => held.opened.then(() => 'ok')))];
    const kernel = createKernel({ store, flows, eventFeed: { flushMs: 5 }, concurrency: 1, urgentConcurrency: 1 });
    cleanup.push(() => kernel.stop({ timeoutMs: 5_000 }));
    const metrics = createDaemonMetrics({ store, clock: systemClock, logger: silentLogger, kernel, eventLoopDelay: false });
    cleanup.push(() => metrics.stop());
    const scrape = await served(metrics);
    await metrics.start();
    await kernel.start();
    const started = kernel.once('run:started');
    const first = await kernel.submit({ key: 'k', flow: 'wait' });
    await started;
    const queued = [
      await kernel.submit({ key: 'k', flow: 'wait' }),
      await kernel.submit({ key: 'k', flow: 'wait', priority: 'background' }),
    ];
    let m = await scrape();
    expect(m.value('holdfast_runs', { status: 'running', flow: 'wait' })).toBe(1);
    expect(m.value('holdfast_runs', { status: 'queued', flow: 'wait' })).toBe(2);
    expect(m.value('holdfast_queue_depth', { priority: 'normal' })).toBe(1);
    expect(m.value('holdfast_queue_depth', { priority: 'background' })).toBe(1);
    held.open();
    await Promise.all([first, ...queued].map((h) => h.result()));
    m = await scrape();
    expect(m.samples('holdfast_runs')).toEqual([]);
    expect(m.value('holdfast_queue_depth', { priority: 'normal' })).toBe(0);
  });
});
