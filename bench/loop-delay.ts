// Event-loop delay of a working kernel while another process holds the SQLite write lock for 3 s.
//
// The kernel (SQLite, synchronous FULL) keeps 4 keys busy with a 5-step flow; the event loop is
// sampled with perf_hooks.monitorEventLoopDelay (1 ms resolution) for 3 s with the store free,
// then for the 3 s another process holds `BEGIN IMMEDIATE`. Beside it, in the same run, the
// baseline: the same lock met by a plain better-sqlite3 write with a 5 s busy timeout on the event
// loop, which is how holdfast's store waited for the lock before (one write blocks the loop until
// the lock is released). Aim: p99 < 5 ms under the lock. Runs keep going once the lock is gone.
//
//   npx tsx bench/loop-delay.ts
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createKernel, defineFlow, sqliteStore } from '../src/index.js';
import { round, scratch, table } from './common.js';

const LOCK_MS = 3_000;
const KEYS = 4;
export const AIM_P99_MS = 5;

export interface DelayFigures {
  p50: number;
  p99: number;
  max: number;
}
export interface LoopDelayResult {
  free: DelayFigures;
  locked: DelayFigures;
  baselineLocked: DelayFigures;
  stepsDuringLock: number;
  stepsAfterLock: number;
  unavailableEvents: number;
  failedRuns: number;
}

/** Holds the write lock of `db` from another process for `ms`; resolves once it is held, with a promise of its release. */
async function holdLock(db: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 10000 });
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec('COMMIT');
    db.close();`;
  const child = spawn(process.execPath, ['-e', script, db, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return { released };
}

function figures(histogram: ReturnType<typeof monitorEventLoopDelay>): DelayFigures {
  const ms = (ns: number) => round(ns / 1e6, 2);
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
}

const fiveSteps = defineFlow('five-steps', async (ctx, input: { n: number }) => {
  for (let i = 0; i < 5; i++) await ctx.step(`s${i}`, () => ({ i, n: input.n }));
  return input.n;
});

export async function measureLoopDelay(): Promise<LoopDelayResult> {
  const tmp = scratch('loop-delay');
  const db = tmp.file('holdfast.db');
  const store = sqliteStore({ path: db });
  const kernel = createKernel({ store, flows: [fiveSteps], concurrency: KEYS });
  let steps = 0;
  let unavailable = 0;
  let failed = 0;
  let stopping = false;
  let n = 0;
  kernel.on('step:committed', () => steps++);
  kernel.on('store:unavailable', () => unavailable++);
  kernel.on('run:failed', () => failed++);
  const feed = (key: string) => {
    if (!stopping) void kernel.submit({ key, flow: 'five-steps', input: { n: n++ } }).catch(() => undefined);
  };
  kernel.on('run:completed', (e) => feed(e.key));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  try {
    await kernel.start();
    for (let k = 0; k < KEYS; k++) for (let q = 0; q < 2; q++) feed(`loop:key-${k}`);
    await new Promise((r) => setTimeout(r, 500)); // warm up
    histogram.enable();
    await new Promise((r) => setTimeout(r, LOCK_MS));
    histogram.disable();
    const free = figures(histogram);
    histogram.reset();
    const lock = await holdLock(db, LOCK_MS);
    const before = steps;
    histogram.enable();
    await lock.released;
    histogram.disable();
    const locked = figures(histogram);
    const stepsDuringLock = steps - before;
    const afterRelease = steps;
    await new Promise((r) => setTimeout(r, 1_000));
    const stepsAfterLock = steps - afterRelease;
    stopping = true;
    return {
      free,
      locked,
      baselineLocked: await measureBaseline(tmp.file('baseline.db')),
      stepsDuringLock,
      stepsAfterLock,
      unavailableEvents: unavailable,
      failedRuns: failed,
    };
  } finally {
    stopping = true;
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
}

/** The old way: writes every 10 ms through a connection that waits up to 5 s for the lock. */
async function measureBaseline(path: string): Promise<DelayFigures> {
  const db = new Database(path, { timeout: 5_000 });
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x INTEGER)');
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const lock = await holdLock(path, LOCK_MS);
  let writes = 0;
  const timer = setInterval(() => insert.run(writes++), 10);
  histogram.enable();
  await lock.released;
  histogram.disable();
  clearInterval(timer);
  db.close();
  return figures(histogram);
}

export function formatLoopDelay(r: LoopDelayResult): string {
  const row = (name: string, f: DelayFigures) => [name, f.p50.toFixed(2), f.p99.toFixed(2), f.max.toFixed(2)];
  return [
    `event-loop delay (ms) of a kernel keeping ${KEYS} keys busy, SQLite FULL; another process holds the write lock for ${LOCK_MS / 1000} s`,
    table(
      ['phase', 'p50', 'p99', 'max'],
      [
        row('holdfast, store free', r.free),
        row('holdfast, lock held', r.locked),
        row('baseline: 5 s busy timeout on the loop, lock held', r.baselineLocked),
      ],
    ),
    `aim p99 < ${AIM_P99_MS} ms under the lock: ${r.locked.p99 < AIM_P99_MS ? 'met' : 'NOT met'}; steps committed during the lock ${r.stepsDuringLock}, in the second after it ${r.stepsAfterLock}; store:unavailable events ${r.unavailableEvents}; failed runs ${r.failedRuns}`,
  ].join('\n');
}

export function loopDelayJson(r: LoopDelayResult) {
  return { ...r, aimP99Ms: AIM_P99_MS, met: r.locked.p99 < AIM_P99_MS };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const began = performance.now();
  console.log(formatLoopDelay(await measureLoopDelay()));
  console.log(`(${((performance.now() - began) / 1000).toFixed(1)} s)`);
}
