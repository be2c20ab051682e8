// Durable steps per second of a 10-step flow with 8 keys in flight, beside the raw rate of
// single-row `BEGIN IMMEDIATE; INSERT; COMMIT` transactions with better-sqlite3 on a fresh WAL
// file at the same `synchronous` level, both measured in this process, one after the other.
//
//   npx tsx bench/kernel-steps.ts [--scale F]   (F multiplies the fixed amount of work)
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createKernel, defineFlow, sqliteStore } from '../src/index.js';
import { int, LEVELS, round, scratch, table, type SyncLevel } from './common.js';

export const KEYS = 8;
export const STEPS_PER_RUN = 10;

export interface RawResult {
  level: SyncLevel;
  txns: number;
  ms: number;
  txnPerSec: number;
}
export interface StepsResult {
  level: SyncLevel;
  keys: number;
  runsPerKey: number;
  steps: number;
  ms: number;
  stepsPerSec: number;
}
export interface LevelResult {
  level: SyncLevel;
  raw: RawResult;
  kernel: StepsResult;
  ratio: number;
}

/** `count` transactions, or (with `count` undefined) as many as fit in `seconds`. */
export function measureRaw(level: SyncLevel, work: { count?: number; seconds?: number }): RawResult {
  const tmp = scratch('raw');
  const db = new Database(tmp.file('raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${level}`);
    db.exec(
      'CREATE TABLE raw (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL)',
    );
    const begin = db.prepare('BEGIN IMMEDIATE');
    const insert = db.prepare('INSERT INTO raw (run_id, seq, result, at) VALUES (?, ?, ?, ?)');
    const commit = db.prepare('COMMIT');
    const result = JSON.stringify({ step: 3, ok: true });
    const one = (i: number) => {
      begin.run();
      insert.run('run-0000', i, result, Date.now());
      commit.run();
    };
    const start = performance.now();
    let txns = 0;
    if (work.count !== undefined) {
      for (; txns < work.count; txns++) one(txns);
    } else {
      const end = start + (work.seconds ?? 1) * 1000;
      while (performance.now() < end) {
        for (let i = 0; i < 50; i++) one(txns++);
      }
    }
    const ms = performance.now() - start;
    return { level, txns, ms, txnPerSec: (txns / ms) * 1000 };
  } finally {
    db.close();
    tmp.dispose();
  }
}

const tenSteps = defineFlow('ten-steps', async (ctx, input: { n: number }) => {
  let last = 0;
  for (let i = 0; i < STEPS_PER_RUN; i++) {
    const r = await ctx.step(`step-${i}`, () => ({ step: i, n: input.n, ok: true }));
    last = r.step;
  }
  return { done: last };
});

/**
 * Runs `runsPerKey` runs of the 10-step flow on each of 8 keys (concurrency 8) and times from the
 * first submit to the last `run:completed`. Each key is kept fed with QUEUED_PER_KEY runs submitted
 * and not yet completed (a completion submits the key's next run), so all 8 keys stay in flight
 * without a deep backlog. The time covers every durable write of the runs: enqueue, owner acquire,
 * claim, the 10 steps, finish, and the final owner release.
 */
export const QUEUED_PER_KEY = 2;

export async function measureKernelSteps(level: SyncLevel, runsPerKey: number, queuedPerKey = QUEUED_PER_KEY): Promise<StepsResult> {
  const tmp = scratch('steps');
  const store = sqliteStore({ path: tmp.file('holdfast.db'), synchronous: level });
  const kernel = createKernel({ store, flows: [tenSteps], concurrency: KEYS });
  const total = KEYS * runsPerKey;
  const submitted = new Map<string, number>();
  let completed = 0;
  let failure: unknown;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const fail = (error: unknown) => {
    failure ??= error;
    finished();
  };
  const submitNext = (key: string) => {
    const n = submitted.get(key) ?? 0;
    if (n >= runsPerKey) return;
    submitted.set(key, n + 1);
    kernel.submit({ key, flow: 'ten-steps', input: { n } }).catch(fail);
  };
  kernel.on('run:completed', (e) => {
    if (++completed === total) finished();
    else submitNext(e.key);
  });
  kernel.on('run:failed', (e) => fail(new Error(`run ${e.runId} failed: ${e.error.code} ${e.error.message}`)));
  kernel.on('kernel:error', (e) => fail(e.error));
  try {
    await kernel.start();
    const start = performance.now();
    for (let q = 0; q < queuedPerKey; q++) for (let k = 0; k < KEYS; k++) submitNext(`bench:key-${k}`);
    await allDone;
    const ms = performance.now() - start;
    if (failure) throw failure;
    const steps = total * STEPS_PER_RUN;
    return { level, keys: KEYS, runsPerKey, steps, ms, stepsPerSec: (steps / ms) * 1000 };
  } finally {
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
}

/**
 * Fixed work per level, sized to take about 2-4 s each on a 2-core machine with a virtual disk.
 * The kernel figure depends on the amount of work (the tables grow as runs accumulate), so the
 * work is a constant, not derived from a warm-up rate; `scale` multiplies it.
 */
export const WORK: Record<SyncLevel, { runsPerKey: number; rawTxns: number; warmRunsPerKey: number; warmRawTxns: number }> = {
  FULL: { runsPerKey: 400, rawTxns: 16_000, warmRunsPerKey: 20, warmRawTxns: 1_000 },
  NORMAL: { runsPerKey: 500, rawTxns: 160_000, warmRunsPerKey: 20, warmRawTxns: 10_000 },
};

/**
 * Both figures at one level, after one warm-up of each. The raw baseline is measured in two
 * halves, just before and just after the holdfast measurement, and summed, so a change in the
 * machine's load during the level affects both figures alike.
 */
export async function measureLevel(level: SyncLevel, scale = 1): Promise<LevelResult> {
  const work = WORK[level];
  measureRaw(level, { count: work.warmRawTxns });
  await measureKernelSteps(level, work.warmRunsPerKey);
  const half = Math.max(1, Math.round((work.rawTxns * scale) / 2));
  const before = measureRaw(level, { count: half });
  const kernel = await measureKernelSteps(level, Math.max(1, Math.round(work.runsPerKey * scale)));
  const after = measureRaw(level, { count: half });
  const txns = before.txns + after.txns;
  const ms = before.ms + after.ms;
  const raw = { level, txns, ms, txnPerSec: (txns / ms) * 1000 };
  return { level, raw, kernel, ratio: kernel.stepsPerSec / raw.txnPerSec };
}

export async function runKernelSteps(scale = 1): Promise<LevelResult[]> {
  const results: LevelResult[] = [];
  for (const level of LEVELS) results.push(await measureLevel(level, scale));
  return results;
}

export function formatKernelSteps(results: readonly LevelResult[]): string {
  const aim = (r: LevelResult) => (r.level === 'FULL' ? 1 : 0.5);
  return [
    `durable steps/s: 10-step flow, ${KEYS} keys in flight (concurrency ${KEYS}), trivial steps; raw = one-row BEGIN IMMEDIATE/INSERT/COMMIT txn/s, fresh WAL file, same level`,
    table(
      ['synchronous', 'holdfast steps/s', 'raw txn/s', 'ratio', 'aim', 'met', 'work (steps / txns)', 'time (s)'],
      results.map((r) => [
        r.level,
        int(r.kernel.stepsPerSec),
        int(r.raw.txnPerSec),
        r.ratio.toFixed(2),
        `>= ${aim(r).toFixed(1)}`,
        r.ratio >= aim(r) ? 'yes' : 'NO',
        `${int(r.kernel.steps)} / ${int(r.raw.txns)}`,
        `${(r.kernel.ms / 1000).toFixed(1)} / ${(r.raw.ms / 1000).toFixed(1)}`,
      ]),
    ),
  ].join('\n');
}

export function kernelStepsJson(results: readonly LevelResult[]) {
  return Object.fromEntries(
    results.map((r) => [
      r.level,
      {
        stepsPerSec: round(r.kernel.stepsPerSec),
        rawTxnPerSec: round(r.raw.txnPerSec),
        ratio: round(r.ratio, 3),
        aim: r.level === 'FULL' ? 1 : 0.5,
        met: r.ratio >= (r.level === 'FULL' ? 1 : 0.5),
        steps: r.kernel.steps,
        runsPerKey: r.kernel.runsPerKey,
        kernelMs: round(r.kernel.ms),
        rawTxns: r.raw.txns,
        rawMs: round(r.raw.ms),
      },
    ]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const scale = args[0] === '--scale' ? Number(args[1]) : 1;
  console.log(formatKernelSteps(await runKernelSteps(scale)));
}
