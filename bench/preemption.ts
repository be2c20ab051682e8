// Preemption latency: a work run is in the middle of one long provider turn (60 s) when an urgent
// command for the same key is submitted, at a random offset into the turn. Measured from the
// urgent submit's durable commit (the moment `await kernel.submit(...)` resolves in the submitting
// process) to
//   (a) the in-flight turn's abort observed: `turn:preempted` for the fake provider (the turn saw
//       the interrupt and the run unwinds); `turn:aborted` for execProvider children (the provider
//       settled, which it does only once no process of the child's group is left), and
//   (b) the urgent run's first step started (the first line of its first step function).
// Three setups, each on a SQLite store (synchronous FULL, the default) in a fresh temp dir:
//   1. fake provider on the real clock, urgent command submitted by the owning kernel itself;
//   2. execProvider running bench/fixtures/long-child.js, urgent submitted by the owning kernel;
//   3. execProvider as in 2, urgent submitted from another process: an unstarted kernel on the same
//      SQLite file records it and signals the owner over its unix socket. One submitter process
//      serves every sample (it reads `submit KEY KIND` lines and prints the commit timestamp).
// Timestamps are `performance.timeOrigin + performance.now()` in every process. Every sample uses a
// fresh key, and the next sample starts only once the previous one has fully drained (urgent run
// completed, interrupted turn settled, owner lease released).
//
// Setup 1 runs with preempt `steal` and with `abort-drop`; setups 2 and 3 with `abort-drop` and 60 %
// of the sample count (see `plan`).
//
//   npx tsx bench/preemption.ts [samples]   (default 200: 200 fake, 120 per exec setup)
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createKernel, defineFlow, execProvider, sqliteStore, type Kernel, type PreemptKind, type Provider } from '../src/index.js';
import { fakeProvider } from '../src/testing.js';
import { systemClock } from '../src/platform/system-clock.js';
import { percentile, round, scratch, table } from './common.js';

export const AIM_IN_PROCESS_MS = 10;
export const AIM_CROSS_PROCESS_MS = 50;
/** Random offset into the turn at which the urgent command is submitted. */
export const OFFSET_MS = 20;
export const TURN_MS = 60_000;
const WARMUP = 5;
const SAMPLE_TIMEOUT_MS = 15_000;

const here = fileURLToPath(new URL('.', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);
const longChild = fileURLToPath(new URL('./fixtures/long-child.js', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type SetupName = 'fake, in-process' | 'exec child, in-process' | 'exec child, other process';

export interface PreemptionResult {
  setup: SetupName;
  preempt: PreemptKind;
  samples: number;
  /** Which event (a) is taken from. */
  abortEvent: 'turn:preempted' | 'turn:aborted';
  abort: number[];
  start: number[];
  /** For exec setups: commit to `turn:preempted` (the run unwinding, before the group is gone). */
  unwind: number[];
  aimMs: number;
  /**
   * In-process setups: the same two figures measured from `run:queued` for the urgent command,
   * which the kernel emits as soon as the enqueue's COMMIT returned, before `submit()` resolves.
   */
  fromQueued?: { abort: number[]; start: number[] };
  /** Setup 3: the submitter's clock minus ours, from the ping with the shortest round trip. */
  clock?: { offsetMs: number; rttMs: number };
}

// The flows, shared by the owner and the submitter process (which must know the flow names).
const firstLines = new Map<string, number>();
const work = defineFlow('work', async (ctx, input: { key: string }) => {
  await ctx.step('plan', () => `plan for ${input.key}`);
  const answer = await ctx.turn<unknown>('agent', `work on ${input.key}`);
  return ctx.step('finish', () => (typeof answer === 'string' ? answer.length : 0));
});
const urgent = defineFlow('urgent', async (ctx) => {
  await ctx.step('reply', () => {
    firstLines.set(ctx.key, now());
    return 'replied';
  });
  return 'done';
});
const flows = [work, urgent];

/** A fake turn of TURN_MS on the real clock; a re-issued turn (after a steal) answers at once. */
const fakeAgent = (): Provider =>
  fakeProvider((request) => (request.interrupted ? { durationMs: 0, result: 'resumed' } : { durationMs: TURN_MS, result: 'finished' }), {
    clock: systemClock,
  });
const execAgent = (): Provider => execProvider({ argv: [process.execPath, longChild] });

/** The submitter process of setup 3, driven over stdin, answering one JSON line per command. */
class Submitter {
  private readonly child: ChildProcess;
  private readonly waiting: ((line: Record<string, unknown>) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor(db: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', thisFile, '--submitter', db], {
      cwd: here,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) =>
      this.waiting.shift()?.(JSON.parse(line) as Record<string, unknown>),
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  request(line: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`submitter did not answer "${line}"`)), SAMPLE_TIMEOUT_MS);
      this.waiting.push((reply) => {
        clearTimeout(timer);
        if (typeof reply.error === 'string') reject(new Error(`submitter: ${reply.error}`));
        else resolve(reply);
      });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  /** The submitter's clock minus ours, taken from the ping with the shortest round trip. */
  async clockOffset(pings = 30): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: NaN, rttMs: Infinity };
    for (let i = 0; i < pings; i++) {
      const sent = now();
      const reply = await this.request('ping');
      const received = now();
      if (received - sent < best.rttMs) best = { offsetMs: (reply.at as number) - (sent + received) / 2, rttMs: received - sent };
    }
    return best;
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

/** Runs one setup on a fresh SQLite file with its own owner kernel. */
export async function measureSetup(setup: SetupName, preempt: PreemptKind, samples: number): Promise<PreemptionResult> {
  const tmp = scratch('preempt');
  const db = tmp.file('holdfast.db');
  const store = sqliteStore({ path: db });
  const exec = setup !== 'fake, in-process';
  const kernel = createKernel({ store, flows, providers: { agent: exec ? execAgent() : fakeAgent() }, pollIntervalMs: 60_000 });
  const stamps = { preempted: new Map<string, number>(), aborted: new Map<string, number>(), queued: new Map<string, number>() };
  kernel.on('run:queued', (e) => {
    if (e.priority === 'urgent') stamps.queued.set(e.key, now());
  });
  kernel.on('turn:preempted', (e) => stamps.preempted.set(e.key, now()));
  kernel.on('turn:aborted', (e) => stamps.aborted.set(e.key, now()));
  let failure: unknown;
  kernel.on('kernel:error', (e) => (failure ??= e.error));
  kernel.on('run:failed', (e) => (failure ??= new Error(`run ${e.runId} failed: ${e.error.code} ${e.error.message}`)));
  const submitter = setup === 'exec child, other process' ? new Submitter(db) : undefined;
  const result: PreemptionResult = {
    setup,
    preempt,
    samples,
    abortEvent: exec ? 'turn:aborted' : 'turn:preempted',
    abort: [],
    start: [],
    unwind: [],
    aimMs: submitter ? AIM_CROSS_PROCESS_MS : AIM_IN_PROCESS_MS,
    ...(submitter ? {} : { fromQueued: { abort: [], start: [] } }),
  };
  try {
    await kernel.start();
    if (submitter) result.clock = await submitter.clockOffset();
    for (let i = 0; i < WARMUP + samples; i++) {
      const key = `preempt:${i}`;
      // The turn counts as started once the provider runs it: for a child, once it printed its first line.
      const started: Promise<unknown> = exec
        ? kernel.once('turn:output', (e) => e.key === key)
        : kernel.once('turn:started', (e) => e.key === key);
      const urgentDone = kernel.once('run:completed', (e) => e.key === key && e.result === 'done');
      const settled = kernel.once('turn:aborted', (e) => e.key === key);
      const released = kernel.once('owner:released', (e) => e.key === key);
      await kernel.submit({ key, flow: 'work', input: { key } });
      await within(started, `turn of sample ${i} to start`);
      await sleep(Math.random() * OFFSET_MS);
      let committedAt: number;
      if (submitter) {
        committedAt = (await submitter.request(`submit ${key} ${preempt}`)).at as number;
      } else {
        await kernel.submit({ key, flow: 'urgent', input: null, priority: 'urgent', preempt });
        committedAt = now();
      }
      await within(Promise.all([urgentDone, settled, released]), `sample ${i} to drain`);
      if (failure) throw failure;
      if (i < WARMUP) continue;
      const abortAt = (exec ? stamps.aborted : stamps.preempted).get(key)!;
      result.abort.push(abortAt - committedAt);
      result.start.push(firstLines.get(key)! - committedAt);
      if (exec) result.unwind.push(stamps.preempted.get(key)! - committedAt);
      if (result.fromQueued) {
        const queuedAt = stamps.queued.get(key)!;
        result.fromQueued.abort.push(abortAt - queuedAt);
        result.fromQueued.start.push(firstLines.get(key)! - queuedAt);
      }
    }
  } finally {
    await submitter?.close();
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
  return result;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${SAMPLE_TIMEOUT_MS} ms waiting for ${what}`)), SAMPLE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The setups of one full run. `samples` (default 200) is the count for the fake provider; the exec
 * setups take 60 % of it (120 by default), because every exec sample starts two node processes
 * (the group watchdog and the child), about 170 ms, and the whole run should stay under a minute.
 * The exec setups use `abort-drop`, so nothing resumes after the urgent run (a stolen run would
 * re-issue its turn and start two more processes per sample); the fake setup is run with both.
 */
export function plan(samples = 200): { setup: SetupName; preempt: PreemptKind; samples: number }[] {
  const exec = Math.max(1, Math.round(samples * 0.6));
  return [
    { setup: 'fake, in-process', preempt: 'steal', samples },
    { setup: 'fake, in-process', preempt: 'abort-drop', samples },
    { setup: 'exec child, in-process', preempt: 'abort-drop', samples: exec },
    { setup: 'exec child, other process', preempt: 'abort-drop', samples: exec },
  ];
}

export async function runPreemption(samples = 200): Promise<PreemptionResult[]> {
  const results: PreemptionResult[] = [];
  for (const p of plan(samples)) results.push(await measureSetup(p.setup, p.preempt, p.samples));
  return results;
}

const ms = (x: number) => x.toFixed(2);
const metA = (r: PreemptionResult) => percentile(r.abort, 99) < r.aimMs;
const metB = (r: PreemptionResult) => percentile(r.start, 99) < r.aimMs;

export function formatPreemption(results: readonly PreemptionResult[]): string {
  const lines = [
    `preemption latency: one ${TURN_MS / 1000} s turn in flight, urgent command submitted at a random 0-${OFFSET_MS} ms into it; from the urgent submit's commit to`,
    `(a) the turn's abort observed (fake: turn:preempted; exec: turn:aborted, the child's process group gone) and (b) the urgent run's first step started`,
    table(
      [
        'setup',
        'preempt',
        'n',
        '(a) event',
        '(a) p50 ms',
        '(a) p99 ms',
        '(a) max ms',
        '(b) p50 ms',
        '(b) p99 ms',
        '(b) max ms',
        'aim p99',
        'met (a)',
        'met (b)',
      ],
      results.map((r) => [
        r.setup,
        r.preempt,
        String(r.samples),
        r.abortEvent,
        ms(percentile(r.abort, 50)),
        ms(percentile(r.abort, 99)),
        ms(Math.max(...r.abort)),
        ms(percentile(r.start, 50)),
        ms(percentile(r.start, 99)),
        ms(Math.max(...r.start)),
        `< ${r.aimMs} ms`,
        metA(r) ? 'yes' : 'NO',
        metB(r) ? 'yes' : 'NO',
      ]),
    ),
  ];
  for (const r of results) {
    if (r.fromQueued) {
      const q = r.fromQueued;
      lines.push(
        `${r.setup} (${r.preempt}), from run:queued (emitted when the enqueue's COMMIT returned, before submit() resolves): (a) p50 ${ms(percentile(q.abort, 50))} ms, p99 ${ms(percentile(q.abort, 99))} ms; (b) p50 ${ms(percentile(q.start, 50))} ms, p99 ${ms(percentile(q.start, 99))} ms`,
      );
    }
    if (r.unwind.length > 0) {
      lines.push(
        `${r.setup} (${r.preempt}): commit to turn:preempted (run unwinds, group not yet gone) p50 ${ms(percentile(r.unwind, 50))} ms, p99 ${ms(percentile(r.unwind, 99))} ms`,
      );
    }
    if (r.clock) {
      lines.push(
        `${r.setup}: submitter clock minus owner clock ${r.clock.offsetMs.toFixed(3)} ms (shortest ping round trip ${r.clock.rttMs.toFixed(3)} ms); not corrected`,
      );
    }
  }
  return lines.join('\n');
}

export function preemptionJson(results: readonly PreemptionResult[]) {
  return results.map((r) => ({
    setup: r.setup,
    preempt: r.preempt,
    samples: r.samples,
    abortEvent: r.abortEvent,
    abortP50Ms: round(percentile(r.abort, 50), 3),
    abortP99Ms: round(percentile(r.abort, 99), 3),
    abortMaxMs: round(Math.max(...r.abort), 3),
    startP50Ms: round(percentile(r.start, 50), 3),
    startP99Ms: round(percentile(r.start, 99), 3),
    startMaxMs: round(Math.max(...r.start), 3),
    ...(r.unwind.length > 0 ? { unwindP50Ms: round(percentile(r.unwind, 50), 3), unwindP99Ms: round(percentile(r.unwind, 99), 3) } : {}),
    ...(r.fromQueued
      ? {
          fromQueued: {
            abortP50Ms: round(percentile(r.fromQueued.abort, 50), 3),
            abortP99Ms: round(percentile(r.fromQueued.abort, 99), 3),
            startP50Ms: round(percentile(r.fromQueued.start, 50), 3),
            startP99Ms: round(percentile(r.fromQueued.start, 99), 3),
          },
        }
      : {}),
    ...(r.clock ? { clockOffsetMs: round(r.clock.offsetMs, 3), clockRttMs: round(r.clock.rttMs, 3) } : {}),
    aimP99Ms: r.aimMs,
    metAbort: metA(r),
    metStart: metB(r),
  }));
}

/**
 * The submitter of setup 3: an unstarted kernel on the owner's SQLite file. For each stdin line
 * `submit KEY KIND` it records an urgent command (which signals the key's owner over its socket)
 * and prints `{"at": <timestamp of the enqueue's commit>}`; `ping` prints the current time.
 */
async function serveSubmitter(db: string): Promise<void> {
  const store = sqliteStore({ path: db });
  const kernel: Kernel = createKernel({ store, flows });
  const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  // The start point is the enqueue's COMMIT (run:queued), not submit()'s return: an unstarted
  // kernel's submit resolves only after it has also signalled the owner.
  let committedAt = 0;
  kernel.on('run:queued', () => (committedAt = now()));
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, key, kind] = line.trim().split(' ');
    if (verb === 'ping') {
      out({ at: now() });
    } else if (verb === 'submit' && key && kind) {
      try {
        await kernel.submit({ key, flow: 'urgent', input: null, priority: 'urgent', preempt: kind as PreemptKind });
        out({ at: committedAt });
      } catch (error) {
        out({ error: String(error) });
      }
    }
  }
  await store.close();
}

if (process.argv[1] === thisFile) {
  if (process.argv[2] === '--submitter') {
    await serveSubmitter(process.argv[3]!);
  } else {
    const samples = Number(process.argv[2] ?? 200);
    const began = performance.now();
    console.log(formatPreemption(await runPreemption(samples)));
    console.log(`total ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
}
