// DBOS Transact: a workflow of 10 `DBOS.runStep` steps, each step's output checkpointed in the
// system database (one transaction per step) before the next step starts.
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import {
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
import { installedVersion } from '../installed.js';
import { abortableSleep } from './abortable-sleep.js';

const version = installedVersion('@dbos-inc/dbos-sdk') ?? 'unknown';
const QUEUE_POLL_MS = 100;

export async function dbosBench(connectionString: string, schema: string): Promise<SystemBench> {
  const firstLines = new Map<string, ReturnType<typeof signal<number>>>();
  const firstLine = (id: string) => firstLines.get(id) ?? firstLines.set(id, signal<number>()).get(id)!;
  const long = new Map<string, { started: ReturnType<typeof signal<number>>; ended: ReturnType<typeof signal<number>> }>();

  const tenSteps = DBOS.registerWorkflow(
    async (run: string) => {
      firstLine(run).resolve(now());
      let last = stepResult(run, 0);
      for (let i = 0; i < STEPS; i++) last = await DBOS.runStep(async () => stepResult(run, i), { name: `step-${i}` });
      return last.step;
    },
    { name: 'tenSteps' },
  );
  // A long step that honours DBOS's cancel signal, then a short one.
  const longRun = DBOS.registerWorkflow(
    async (run: string) => {
      await DBOS.runStep(
        async () => {
          const marks = long.get(run)!;
          marks.started.resolve(now());
          try {
            await abortableSleep(LONG_STEP_MS, DBOS.stepStatus?.cancelSignal);
          } finally {
            marks.ended.resolve(now());
          }
          return stepResult(run, 0);
        },
        { name: 'long' },
      );
      return DBOS.runStep(async () => stepResult(run, 1), { name: 'after' });
    },
    { name: 'longRun' },
  );
  const urgentRun = DBOS.registerWorkflow(
    async (run: string) => {
      await DBOS.runStep(async () => (firstLine(run).resolve(now()), stepResult(run, 0)), { name: 'reply' });
    },
    { name: 'urgentRun' },
  );

  DBOS.setConfig({ name: 'hf-bench-peers', systemDatabaseUrl: connectionString, systemDatabaseSchemaName: schema, logLevel: 'error' });
  await DBOS.launch();
  // A queue of concurrency 1 stands in for a key: its workflows run one at a time.
  const keyQueue = await DBOS.registerQueue('key-queue', { workerConcurrency: 1, minPollingIntervalMs: QUEUE_POLL_MS });
  const openQueue = await DBOS.registerQueue('open-queue', { minPollingIntervalMs: QUEUE_POLL_MS });

  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${process.pid}-${ids++}`;

  async function latencyOf(path: string, samples: number, warmup: number, queueName?: string): Promise<LatencyResult> {
    const result: LatencyResult = { path, startMs: [], submitMs: [] };
    for (let i = 0; i < warmup + samples; i++) {
      const id = nextId('lat');
      const line = firstLine(id);
      const t = performance.now();
      const handle = await DBOS.startWorkflow(tenSteps, { workflowID: id, ...(queueName ? { queueName } : {}) })(id);
      const submitted = performance.now();
      const started = await within(line.promise, 10_000, `DBOS workflow ${id} to start`);
      await handle.getResult({ pollingIntervalMs: 5 });
      if (i < warmup) continue;
      result.submitMs.push(submitted - t);
      result.startMs.push(started - (performance.timeOrigin + t));
    }
    return result;
  }

  return {
    name: 'DBOS',
    version,
    settings: `workflows started with DBOS.startWorkflow in the worker process; system database schema "${schema}", default pool; queues (for the latency and interruption figures) poll every ${QUEUE_POLL_MS} ms`,
    throughput: (seconds) =>
      keepInFlight(seconds, async (i) => {
        const id = nextId(`tp${i}`);
        await (await DBOS.startWorkflow(tenSteps, { workflowID: id })(id)).getResult();
      }),
    async latency(samples, warmup) {
      return [
        await latencyOf('DBOS.startWorkflow in the worker process → first line of the workflow', samples, warmup),
        await latencyOf(
          `DBOS.startWorkflow onto a queue (polled every ${QUEUE_POLL_MS} ms) → first line of the workflow`,
          Math.ceil(samples / 4),
          Math.min(warmup, 5),
          openQueue.name,
        ),
      ];
    },
    async interrupt(samples) {
      const out: InterruptSample[] = [];
      for (let i = 0; i < samples; i++) {
        const id = nextId('long');
        const urgentId = nextId('urgent');
        const marks = { started: signal<number>(), ended: signal<number>() };
        long.set(id, marks);
        const longHandle = await DBOS.startWorkflow(longRun, {
          workflowID: id,
          queueName: keyQueue.name,
          enqueueOptions: { priority: 10 },
        })(id);
        const startedAt = await within(marks.started.promise, 10_000, 'DBOS long step to start');
        await sleep(INTERRUPT_AT_MS);
        const urgent = await DBOS.startWorkflow(urgentRun, {
          workflowID: urgentId,
          queueName: keyQueue.name,
          enqueueOptions: { priority: 0 },
        })(urgentId);
        await DBOS.cancelWorkflow(id);
        const committed = now();
        const ended = await within(marks.ended.promise, 10_000, 'DBOS long step to end');
        const urgentStart = await within(firstLine(urgentId).promise, 10_000, 'DBOS urgent workflow to start');
        await urgent.getResult({ pollingIntervalMs: 5 });
        await longHandle.getResult({ pollingIntervalMs: 5 }).catch(() => undefined);
        out.push({
          stepEndedMs: ended - committed,
          ranToEnd: ended - startedAt >= LONG_STEP_MS - 2,
          urgentStartMs: urgentStart - committed,
          overlapped: urgentStart < ended,
        });
      }
      return [
        {
          api: "DBOS.cancelWorkflow (the step's function gets DBOS.stepStatus.cancelSignal, which the long step honours)",
          samples: out,
        },
      ];
    },
    close: () => DBOS.shutdown(),
  };
}
