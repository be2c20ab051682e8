// graphile-worker: a chain of 10 jobs, each job's task computing its step and adding the next job
// (with its 256-byte result as the payload) through the task's `addJob`, the way a multi-step job is
// written with graphile-worker. New jobs reach the workers through LISTEN/NOTIFY.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, type Runner, type Task, type WorkerUtils } from 'graphile-worker';
import { installedVersion } from '../installed.js';
import {
  INTERRUPT_AT_MS,
  keepInFlight,
  LONG_STEP_MS,
  now,
  signal,
  sleep,
  stepResult,
  STEPS,
  IN_FLIGHT,
  within,
  type InterruptSample,
  type LatencyResult,
  type SystemBench,
} from '../unit.js';
import { abortableSleep } from './abortable-sleep.js';

type Marks = ReturnType<typeof signal<number>>;
const quiet = new Logger(() => () => undefined);

export async function graphileBench(connectionString: string, schema: string): Promise<SystemBench> {
  const firstLines = new Map<string, Marks>();
  const lastSteps = new Map<string, Marks>();
  const longMarks = new Map<string, { started: Marks; ended: Marks }>();
  const mark = (map: Map<string, Marks>, run: string) => map.get(run) ?? map.set(run, signal<number>()).get(run)!;

  const chain: Task = async (payload, task) => {
    const { run: id, step } = payload as { run: string; step: number };
    if (step === 0) mark(firstLines, id).resolve(now());
    const result = stepResult(id, step);
    if (step + 1 < STEPS) await task.addJob('chain', { run: id, step: step + 1, prev: result });
    else mark(lastSteps, id).resolve(now());
  };
  const long: Task = async (payload, task) => {
    const marks = longMarks.get((payload as { run: string }).run)!;
    marks.started.resolve(now());
    try {
      await abortableSleep(LONG_STEP_MS, task.abortSignal);
    } finally {
      marks.ended.resolve(now());
    }
  };
  const urgent: Task = async (payload) => {
    mark(firstLines, (payload as { run: string }).run).resolve(now());
  };

  const runner: Runner = await run({
    connectionString,
    schema,
    concurrency: IN_FLIGHT,
    noHandleSignals: true,
    logger: quiet,
    taskList: { chain, long, urgent },
  });
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString, schema, logger: quiet });
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  /** Job completions are committed after the task returns; wait until no job is left. */
  const drained = async () => {
    while (Number((await probe.query(`SELECT count(*) AS n FROM "${schema}"._private_jobs`)).rows[0].n) > 0) await sleep(2);
  };

  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${ids++}`;
  const runChain = async (id: string) => {
    const done = mark(lastSteps, id);
    await utils.addJob('chain', { run: id, step: 0 });
    await within(done.promise, 30_000, `graphile-worker chain ${id}`);
  };

  return {
    name: 'graphile-worker',
    version: installedVersion('graphile-worker') ?? 'unknown',
    settings: `one runner, concurrency ${IN_FLIGHT}, defaults otherwise (LISTEN/NOTIFY for new jobs, no local queue, no completion batching); schema "${schema}"; jobs added with WorkerUtils.addJob from the same process`,
    async throughput(seconds) {
      const start = performance.now();
      const r = await keepInFlight(seconds, (i) => runChain(nextId(`tp${i}`)));
      await drained();
      const ms = performance.now() - start;
      return { ...r, ms, stepsPerSec: (r.steps / ms) * 1000 };
    },
    async latency(samples, warmup) {
      const result: LatencyResult = {
        path: 'WorkerUtils.addJob (NOTIFY to the runner) → first line of the first task',
        startMs: [],
        submitMs: [],
      };
      for (let i = 0; i < warmup + samples; i++) {
        const id = nextId('lat');
        const line = mark(firstLines, id);
        const t = performance.now();
        const done = mark(lastSteps, id);
        await utils.addJob('chain', { run: id, step: 0 });
        const submitted = performance.now();
        const started = await within(line.promise, 10_000, `graphile-worker job ${id} to start`);
        await within(done.promise, 10_000, `graphile-worker chain ${id}`);
        await drained();
        if (i < warmup) continue;
        result.submitMs.push(submitted - t);
        result.startMs.push(started - (performance.timeOrigin + t));
      }
      return [result];
    },
    async interrupt(samples) {
      const out: InterruptSample[] = [];
      for (let i = 0; i < samples; i++) {
        const id = nextId('long');
        const urgentId = nextId('urgent');
        const marks = { started: signal<number>(), ended: signal<number>() };
        longMarks.set(id, marks);
        // A named queue runs its jobs one at a time: it stands in for the key.
        const job = await utils.addJob('long', { run: id }, { queueName: 'key-1', priority: 10 });
        const startedAt = await within(marks.started.promise, 10_000, 'graphile-worker long job to start');
        await sleep(INTERRUPT_AT_MS);
        await utils.addJob('urgent', { run: urgentId }, { queueName: 'key-1', priority: -10 });
        const failed = await utils.permanentlyFailJobs([job.id], 'interrupted for urgent work');
        const committed = now();
        if (failed.length > 0) throw new Error('graphile-worker failed a locked (running) job; the figure below assumes it cannot');
        const ended = await within(marks.ended.promise, 10_000, 'graphile-worker long job to end');
        const urgentStart = await within(mark(firstLines, urgentId).promise, 10_000, 'graphile-worker urgent job to start');
        await drained();
        out.push({
          stepEndedMs: ended - committed,
          ranToEnd: ended - startedAt >= LONG_STEP_MS - 2,
          urgentStartMs: urgentStart - committed,
          overlapped: urgentStart < ended,
        });
      }
      return [
        {
          api: "WorkerUtils.permanentlyFailJobs([id]): it skips locked jobs, and graphile-worker has no cancel for a running job (a task's abortSignal fires only on shutdown); the urgent job waits in the named queue",
          samples: out,
        },
      ];
    },
    async close() {
      await runner.stop();
      await utils.release();
      await probe.end();
    },
  };
}
