// holdfast on its Postgres store: a flow of 10 `ctx.step` calls, one key per lane in flight, the
// kernel created as the other benchmarks create it (bench/kernel-steps.ts, bench/durable.ts).
import { performance } from 'node:perf_hooks';
import { createKernel, defineFlow, type Kernel, type PreemptKind, type Store } from '../../../src/index.js';
import { loadPostgresStore } from '../holdfast-postgres.js';
import {
  IN_FLIGHT,
  INTERRUPT_AT_MS,
  keepInFlight,
  LONG_STEP_MS,
  now,
  signal,
  sleep,
  stepResult,
  STEPS,
  within,
  type InterruptResult,
  type InterruptSample,
  type LatencyResult,
  type SystemBench,
} from '../unit.js';
import { abortableSleep } from './abortable-sleep.js';

type Marks = ReturnType<typeof signal<number>>;
export const INTERRUPT_PREEMPTS: readonly PreemptKind[] = ['abort-keep', 'steal'];

export async function holdfastBench(connectionString: string, schema: string): Promise<SystemBench> {
  const loaded = await loadPostgresStore();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const firstLines = new Map<string, Marks>();
  const longMarks = new Map<string, { started: Marks; ended: Marks; executions: number }>();
  const mark = (run: string) => firstLines.get(run) ?? firstLines.set(run, signal<number>()).get(run)!;

  const tenSteps = defineFlow('ten-steps', async (ctx, input: { run: string }) => {
    mark(input.run).resolve(now());
    let last = 0;
    for (let i = 0; i < STEPS; i++) last = (await ctx.step(`step-${i}`, () => stepResult(input.run, i))).step;
    return last;
  });
  // A long step that honours its signal; when the run is re-executed after the interruption the
  // step is short, so a sample does not wait for a second long step.
  const long = defineFlow('long', async (ctx, input: { run: string }) => {
    await ctx.step('long', async ({ signal: stepSignal }) => {
      const marks = longMarks.get(input.run)!;
      if (marks.executions++ > 0) return stepResult(input.run, 0);
      marks.started.resolve(now());
      try {
        await abortableSleep(LONG_STEP_MS, stepSignal);
      } finally {
        marks.ended.resolve(now());
      }
      return stepResult(input.run, 0);
    });
    return ctx.step('after', () => stepResult(input.run, 1)).then((r) => r.step);
  });
  const urgent = defineFlow('urgent', async (ctx, input: { run: string }) => {
    await ctx.step('reply', () => (mark(input.run).resolve(now()), stepResult(input.run, 0)));
    return 'replied';
  });

  const store: Store = loaded.postgresStore({ connectionString, schema });
  const kernel: Kernel = createKernel({ store, flows: [tenSteps, long, urgent], concurrency: IN_FLIGHT });
  let failure: unknown;
  kernel.on('kernel:error', (e) => (failure ??= e.error));
  kernel.on('run:failed', (e) => (failure ??= new Error(`run ${e.runId} failed: ${e.error.code} ${e.error.message}`)));
  const check = () => {
    if (failure) throw failure;
  };
  await kernel.start();

  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${ids++}`;

  async function interruptWith(preempt: PreemptKind, samples: number): Promise<InterruptSample[]> {
    const out: InterruptSample[] = [];
    for (let i = 0; i < samples; i++) {
      const key = nextId(`interrupt-${preempt}`);
      const id = `${key}:long`;
      const urgentId = `${key}:urgent`;
      const marks = { started: signal<number>(), ended: signal<number>(), executions: 0 };
      longMarks.set(id, marks);
      let queuedAt = 0;
      const off = kernel.on('run:queued', (e) => {
        if (e.key === key && e.priority === 'urgent') queuedAt = now();
      });
      const urgentDone = kernel.once('run:completed', (e) => e.key === key && e.result === 'replied');
      const longDone = kernel.once('run:completed', (e) => e.key === key && e.result !== 'replied');
      const released = kernel.once('owner:released', (e) => e.key === key);
      await kernel.submit({ key, flow: 'long', input: { run: id } });
      const startedAt = await within(marks.started.promise, 10_000, 'holdfast long step to start');
      await sleep(INTERRUPT_AT_MS);
      await kernel.submit({ key, flow: 'urgent', input: { run: urgentId }, priority: 'urgent', preempt });
      off();
      const ended = await within(marks.ended.promise, 10_000, 'holdfast long step to end');
      const urgentStart = await within(mark(urgentId).promise, 10_000, 'holdfast urgent run to start');
      await within(Promise.all([urgentDone, longDone, released]), 20_000, `holdfast interruption sample ${key} to drain`);
      check();
      out.push({
        stepEndedMs: ended - queuedAt,
        ranToEnd: ended - startedAt >= LONG_STEP_MS - 2,
        urgentStartMs: urgentStart - queuedAt,
        overlapped: urgentStart < ended,
      });
    }
    return out;
  }

  return {
    name: 'holdfast',
    version: 'source tree',
    settings: `postgresStore({ connectionString, schema: "${schema}" }), createKernel({ concurrency: ${IN_FLIGHT} }), defaults otherwise; one key per run in flight`,
    async throughput(seconds) {
      const r = await keepInFlight(seconds, async (i, lane) => {
        await (await kernel.submit({ key: `lane-${lane}`, flow: 'ten-steps', input: { run: `tp-${i}` } })).result();
      });
      check();
      return r;
    },
    async latency(samples, warmup) {
      const result: LatencyResult = {
        path: 'kernel.submit (idle kernel, unowned key) → first line of the flow',
        startMs: [],
        submitMs: [],
      };
      for (let i = 0; i < warmup + samples; i++) {
        const key = nextId('latency');
        const line = mark(key);
        const completed = kernel.once('run:completed', (e) => e.key === key);
        const released = kernel.once('owner:released', (e) => e.key === key);
        const t = performance.now();
        await kernel.submit({ key, flow: 'ten-steps', input: { run: key } });
        const submitted = performance.now();
        const started = await within(line.promise, 10_000, `holdfast run ${key} to start`);
        await within(Promise.all([completed, released]), 10_000, `holdfast run ${key} to finish`);
        if (i < warmup) continue;
        result.submitMs.push(submitted - t);
        result.startMs.push(started - (performance.timeOrigin + t));
      }
      check();
      return [result];
    },
    async interrupt(samples): Promise<InterruptResult[]> {
      const results: InterruptResult[] = [];
      for (const preempt of INTERRUPT_PREEMPTS) {
        results.push({
          api: `kernel.submit({ priority: 'urgent', preempt: '${preempt}' }) for the same key: the running step's signal aborts; the run ${preempt === 'steal' ? 'is parked and resumes after the urgent run' : 'is requeued'}`,
          samples: await interruptWith(preempt, samples),
        });
      }
      return results;
    },
    async close() {
      await kernel.stop();
      await store.close();
    },
  };
}
