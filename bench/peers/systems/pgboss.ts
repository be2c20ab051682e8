// pg-boss: a chain of 10 jobs, each handler sending the next job (its 256-byte result in the
// payload) and returning its result, which pg-boss stores as the job's output on completion.
// pg-boss workers poll (0.5 s is the smallest interval it accepts); `notify` mode also calls
// `boss.notifyWorker` for every worker after each send, which skips the poll wait in this process.
import { performance } from 'node:perf_hooks';
import PgBoss from 'pg-boss';
import { installedVersion } from '../installed.js';
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
  type InterruptSample,
  type LatencyResult,
  type SystemBench,
} from '../unit.js';
import { abortableSleep } from './abortable-sleep.js';

type Marks = ReturnType<typeof signal<number>>;
type Link = { run: string; step: number; last: number; prev?: unknown };
const POLL_SECONDS = 0.5;

export async function pgBossBench(connectionString: string, schema: string, mode: 'poll' | 'notify'): Promise<SystemBench> {
  const boss = new PgBoss({ connectionString, schema, schedule: false, max: IN_FLIGHT + 2 });
  let failure: unknown;
  boss.on('error', (error) => (failure ??= error));
  await boss.start();
  await boss.createQueue('chain');
  await boss.createQueue('key-1');

  const firstLines = new Map<string, Marks>();
  const lastSteps = new Map<string, Marks>();
  const longMarks = new Map<string, { started: Marks; ended: Marks }>();
  const mark = (map: Map<string, Marks>, run: string) => map.get(run) ?? map.set(run, signal<number>()).get(run)!;
  const workers: string[] = [];
  const send = async (name: string, data: object, options: PgBoss.SendOptions = {}) => {
    const id = await boss.send(name, data, options);
    if (mode === 'notify') for (const w of workers) boss.notifyWorker(w);
    return id;
  };

  const poll = { batchSize: 1, pollingIntervalSeconds: POLL_SECONDS };
  // IN_FLIGHT workers of one job each: pg-boss runs a worker's batch to its end before fetching again.
  for (let w = 0; w < IN_FLIGHT; w++) {
    workers.push(
      await boss.work<Link>('chain', poll, async ([job]) => {
        const { run: id, step, last } = job!.data;
        if (step === 0) mark(firstLines, id).resolve(now());
        const result = stepResult(id, step);
        if (step < last) await send('chain', { run: id, step: step + 1, last, prev: result });
        else mark(lastSteps, id).resolve(now());
        return result;
      }),
    );
  }
  // One worker on the key queue: its jobs run one at a time, standing in for a key.
  await boss.work<{ run: string; urgent?: boolean }>('key-1', poll, async ([job]) => {
    const { run: id, urgent } = job!.data;
    if (urgent) return void mark(firstLines, id).resolve(now());
    const marks = longMarks.get(id)!;
    marks.started.resolve(now());
    try {
      await abortableSleep(LONG_STEP_MS); // a handler gets no signal from pg-boss
    } finally {
      marks.ended.resolve(now());
    }
  });

  /** Completions are written after the handler returns; wait until none is outstanding. */
  const drained = async () => {
    const open = `SELECT count(*) AS n FROM "${schema}".job WHERE state < 'completed'`;
    while (Number((await boss.getDb().executeSql(open, [])).rows[0].n) > 0) await sleep(2);
  };
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${ids++}`;
  const runChain = async (id: string, last = STEPS - 1) => {
    const done = mark(lastSteps, id);
    await send('chain', { run: id, step: 0, last });
    await within(done.promise, 60_000, `pg-boss chain ${id}`);
  };
  const check = () => {
    if (failure) throw failure;
  };

  const polling = `${IN_FLIGHT} workers (work() with batchSize 1) polling every ${POLL_SECONDS} s, pg-boss's smallest interval`;
  return {
    name: mode === 'poll' ? 'pg-boss' : 'pg-boss + notifyWorker',
    version: installedVersion('pg-boss') ?? 'unknown',
    settings:
      mode === 'poll'
        ? `${polling}; schema "${schema}"`
        : `${polling}, and boss.notifyWorker(id) for every worker after each send (same process only); schema "${schema}"`,
    async throughput(seconds) {
      const start = performance.now();
      const r = await keepInFlight(seconds, (i) => runChain(nextId(`tp${i}`)));
      await drained();
      check();
      const ms = performance.now() - start;
      return { ...r, ms, stepsPerSec: (r.steps / ms) * 1000 };
    },
    async latency(samples, warmup) {
      // Polling makes a 10-job chain take seconds; the first job's start is all this figure needs.
      const last = 0;
      const result: LatencyResult = {
        path: `boss.send${mode === 'notify' ? ' + notifyWorker' : ''} → first line of the handler (a chain of 1 job)`,
        startMs: [],
        submitMs: [],
      };
      const n = mode === 'poll' ? Math.ceil(samples / 4) : samples;
      const warm = mode === 'poll' ? Math.min(warmup, 5) : warmup;
      for (let i = 0; i < warm + n; i++) {
        const id = nextId('lat');
        const line = mark(firstLines, id);
        const done = mark(lastSteps, id);
        const t = performance.now();
        await send('chain', { run: id, step: 0, last });
        const submitted = performance.now();
        const started = await within(line.promise, 10_000, `pg-boss job ${id} to start`);
        await within(done.promise, 30_000, `pg-boss chain ${id}`);
        await drained();
        if (i < warm) continue;
        result.submitMs.push(submitted - t);
        result.startMs.push(started - (performance.timeOrigin + t));
      }
      check();
      return [result];
    },
    async interrupt(samples) {
      const out: InterruptSample[] = [];
      for (let i = 0; i < samples; i++) {
        const id = nextId('long');
        const urgentId = nextId('urgent');
        const marks = { started: signal<number>(), ended: signal<number>() };
        longMarks.set(id, marks);
        const jobId = await send('key-1', { run: id }, { priority: 0 });
        const startedAt = await within(marks.started.promise, 10_000, 'pg-boss long job to start');
        await sleep(INTERRUPT_AT_MS);
        await send('key-1', { run: urgentId, urgent: true }, { priority: 10 });
        await boss.cancel('key-1', jobId!);
        const committed = now();
        const ended = await within(marks.ended.promise, 10_000, 'pg-boss long job to end');
        const urgentStart = await within(mark(firstLines, urgentId).promise, 10_000, 'pg-boss urgent job to start');
        await drained();
        out.push({
          stepEndedMs: ended - committed,
          ranToEnd: ended - startedAt >= LONG_STEP_MS - 2,
          urgentStartMs: urgentStart - committed,
          overlapped: urgentStart < ended,
        });
      }
      check();
      return [
        {
          api: 'boss.cancel(queue, id): marks the job cancelled; the running handler is not told (it gets no signal) and the worker fetches again only after it returns',
          samples: out,
        },
      ];
    },
    close: () => boss.stop({ graceful: false, wait: true }),
  };
}
