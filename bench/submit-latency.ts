// Submit-to-start latency for an idle key: from just before `kernel.submit(...)` to the first line
// of the flow function, measured in-process with performance.now(). Every sample uses a fresh key,
// and the next sample starts only after the previous run completed and its owner lease was
// released, so each submit finds an idle kernel and an unowned key. Also reports how long the
// submit promise itself took to resolve (the durable enqueue).
//
//   npx tsx bench/submit-latency.ts [samples]
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createKernel, defineFlow, sqliteStore } from '../src/index.js';
import { LEVELS, percentile, round, scratch, table, type SyncLevel } from './common.js';

export const AIM_P99_MS = 2;

export interface LatencyResult {
  level: SyncLevel;
  samples: number;
  startP50: number;
  startP99: number;
  startMax: number;
  submitP50: number;
  submitP99: number;
}

export async function measureSubmitLatency(level: SyncLevel, samples: number, warmup = 50): Promise<LatencyResult> {
  const tmp = scratch('latency');
  let firstLine = 0;
  const flow = defineFlow('first-line', async (ctx) => {
    firstLine = performance.now();
    return ctx.step('one', () => 1);
  });
  const store = sqliteStore({ path: tmp.file('holdfast.db'), synchronous: level });
  const kernel = createKernel({ store, flows: [flow], concurrency: 8 });
  const starts: number[] = [];
  const submits: number[] = [];
  try {
    await kernel.start();
    for (let i = 0; i < warmup + samples; i++) {
      const key = `idle:${level}:${i}`;
      const released = kernel.once('owner:released', (e) => e.key === key);
      const completed = kernel.once('run:completed', (e) => e.key === key);
      firstLine = 0;
      const t0 = performance.now();
      await kernel.submit({ key, flow: 'first-line', input: null });
      const t1 = performance.now();
      await completed;
      await released;
      if (i < warmup) continue;
      starts.push(firstLine - t0);
      submits.push(t1 - t0);
    }
  } finally {
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
  return {
    level,
    samples,
    startP50: percentile(starts, 50),
    startP99: percentile(starts, 99),
    startMax: Math.max(...starts),
    submitP50: percentile(submits, 50),
    submitP99: percentile(submits, 99),
  };
}

export async function runSubmitLatency(samples = 500): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  for (const level of LEVELS) results.push(await measureSubmitLatency(level, samples));
  return results;
}

const ms = (x: number) => x.toFixed(2);

export function formatSubmitLatency(results: readonly LatencyResult[]): string {
  return [
    `submit-to-start latency, idle key (fresh key per sample, previous run finished and owner released), n=${results[0]?.samples ?? 0} per level`,
    table(
      ['synchronous', 'start p50 ms', 'start p99 ms', 'start max ms', `aim p99 < ${AIM_P99_MS} ms`, 'submit() p50 ms', 'submit() p99 ms'],
      results.map((r) => [
        r.level,
        ms(r.startP50),
        ms(r.startP99),
        ms(r.startMax),
        r.startP99 < AIM_P99_MS ? 'yes' : 'NO',
        ms(r.submitP50),
        ms(r.submitP99),
      ]),
    ),
  ].join('\n');
}

export function submitLatencyJson(results: readonly LatencyResult[]) {
  return Object.fromEntries(
    results.map((r) => [
      r.level,
      {
        samples: r.samples,
        p50Ms: round(r.startP50, 3),
        p99Ms: round(r.startP99, 3),
        maxMs: round(r.startMax, 3),
        aimP99Ms: AIM_P99_MS,
        met: r.startP99 < AIM_P99_MS,
        submitP50Ms: round(r.submitP50, 3),
        submitP99Ms: round(r.submitP99, 3),
      },
    ]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatSubmitLatency(await runSubmitLatency(Number(process.argv[2] ?? 500))));
}
