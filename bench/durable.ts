// Durable execution figures (D3-D5), each beside a baseline measured in the same run:
//   1. effects claimed + emitted + recorded per second, beside raw one-row transactions per second;
//   2. timer precision: 1,000 sleeping runs due within the same second, fire time minus deadline;
//   3. journal bytes per step and per run, before and after compaction;
//   4. step commit latency p99 while 100,000 finished runs are being compacted, beside the p99
//      without compaction (aim: at most 2x).
//
//   npx tsx bench/durable.ts
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createKernel, defineFlow, sqliteStore, type Store } from '../src/index.js';
import { COMPACT_BATCH, compactFinished } from '../src/runtime/retention.js';
import { systemClock } from '../src/platform/system-clock.js';
import { measureRaw } from './kernel-steps.js';
import { int, percentile, round, scratch, table } from './common.js';

const KEYS = 8;

/** 1. Effects/s: runs of 10 effects each, 8 keys in flight, each effect's emit a no-op. */
export async function measureEffects(runsPerKey = 60): Promise<{ effectsPerSec: number; rawTxnPerSec: number; ratio: number }> {
  const tmp = scratch('effects');
  const store = sqliteStore({ path: tmp.file('holdfast.db') });
  const tenEffects = defineFlow('ten-effects', async (ctx) => {
    for (let i = 0; i < 10; i++) await ctx.effect(`post-${i}`, ({ idempotencyKey }) => ({ posted: idempotencyKey }));
    return 'done';
  });
  const kernel = createKernel({ store, flows: [tenEffects], concurrency: KEYS });
  try {
    await kernel.start();
    const before = measureRaw('FULL', { count: 3_000 });
    const start = performance.now();
    await Promise.all(
      Array.from({ length: KEYS }, async (_, k) => {
        for (let n = 0; n < runsPerKey; n++) await (await kernel.submit({ key: `effects:${k}`, flow: 'ten-effects' })).result();
      }),
    );
    const ms = performance.now() - start;
    const after = measureRaw('FULL', { count: 3_000 });
    const rawTxnPerSec = ((before.txns + after.txns) / (before.ms + after.ms)) * 1000;
    const effectsPerSec = ((KEYS * runsPerKey * 10) / ms) * 1000;
    return { effectsPerSec, rawTxnPerSec, ratio: effectsPerSec / rawTxnPerSec };
  } finally {
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
}

/** 2. Timer precision: `timers` runs sleep until instants spread over one second; fire time minus deadline. */
export async function measureTimers(timers = 1_000): Promise<{ timers: number; p50: number; p99: number; max: number }> {
  const tmp = scratch('timers');
  const store = sqliteStore({ path: tmp.file('holdfast.db'), synchronous: 'NORMAL' });
  const lateness: number[] = [];
  const sleeper = defineFlow('sleeper', async (ctx, input: { until: number }) => {
    await ctx.sleepUntil(input.until);
    await ctx.step('woke', () => lateness.push(Date.now() - input.until));
  });
  const kernel = createKernel({ store, flows: [sleeper], concurrency: 64 });
  try {
    await kernel.start();
    const due = Date.now() + 3_000;
    const handles = [];
    for (let i = 0; i < timers; i++)
      handles.push(await kernel.submit({ key: `timer:${i}`, flow: 'sleeper', input: { until: due + Math.floor((i * 1000) / timers) } }));
    await Promise.all(handles.map((h) => h.result()));
    return { timers, p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: Math.max(...lateness) };
  } finally {
    await kernel.stop();
    await store.close();
    tmp.dispose();
  }
}

/** Finished runs with `steps` steps of ~256-byte results each, written straight into the file (setup only). */
function seedFinishedRuns(path: string, runs: number, steps: number, finishedAt: number): void {
  const db = new Database(path);
  const result = JSON.stringify({ data: 'x'.repeat(240) });
  const insertRun = db.prepare(`INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, status, attempts, result,
    created_at, started_at, finished_at) VALUES (?, ?, 'old', 'null', ?, 'normal', 1, 'completed', 1, '"done"', ?, ?, ?)`);
  const insertStep = db.prepare('INSERT INTO steps (run_seq, seq, name, result, epoch, committed_at) VALUES (?, ?, ?, ?, 1, ?)');
  db.transaction(() => {
    for (let r = 0; r < runs; r++) {
      const seq = Number(insertRun.run(`old-${r}`, `old:${r % 100}`, `old-${r}`, finishedAt, finishedAt, finishedAt).lastInsertRowid);
      for (let s = 0; s < steps; s++) insertStep.run(seq, s, `step-${s}`, result, finishedAt);
    }
  })();
  db.close();
}

/** Bytes of the step journal (names and results) and pages in use, read from the file. */
function journalStats(path: string): { journalBytes: number; usedBytes: number } {
  const db = new Database(path, { readonly: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const used = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
    const journal = db.prepare('SELECT coalesce(sum(length(name) + length(result)), 0) AS bytes FROM steps').get() as { bytes: number };
    return { journalBytes: journal.bytes, usedBytes: used * pageSize };
  } finally {
    db.close();
  }
}

/** 3. Journal bytes per step and per run, before and after compaction (pages in use, not file size). */
export async function measureJournalBytes(runs = 2_000): Promise<{
  runs: number;
  journalBytesPerStep: number;
  usedBytesPerRunBefore: number;
  usedBytesPerRunAfter: number;
  journalBytesAfter: number;
}> {
  const tmp = scratch('journal-bytes');
  const path = tmp.file('holdfast.db');
  await sqliteStore({ path }).close();
  const empty = journalStats(path);
  seedFinishedRuns(path, runs, 10, Date.now() - 60_000);
  const before = journalStats(path);
  const store = sqliteStore({ path });
  try {
    await compactFinished(store, systemClock, 1_000);
  } finally {
    await store.close();
  }
  const after = journalStats(path);
  tmp.dispose();
  return {
    runs,
    journalBytesPerStep: before.journalBytes / (runs * 10),
    usedBytesPerRunBefore: (before.usedBytes - empty.usedBytes) / runs,
    usedBytesPerRunAfter: (after.usedBytes - empty.usedBytes) / runs,
    journalBytesAfter: after.journalBytes,
  };
}

/** Step commit latencies (ms) of a 10-step flow on 8 keys for `ms`, with `during` running alongside. */
async function commitLatencies(store: Store, ms: number, during?: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  const flow = defineFlow('timed', async (ctx) => {
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await ctx.step(`s${i}`, () => i);
      latencies.push(performance.now() - t);
    }
  });
  const kernel = createKernel({ store, flows: [flow], concurrency: KEYS });
  await kernel.start();
  const end = performance.now() + ms;
  const background = during?.();
  await Promise.all(
    Array.from({ length: KEYS }, async (_, k) => {
      while (performance.now() < end) await (await kernel.submit({ key: `live:${k}`, flow: 'timed' })).result();
    }),
  );
  await background;
  await kernel.stop();
  return latencies;
}

/** 4. Step commit p99 with and without a compaction of `runs` finished runs in progress. */
export async function measureCompactionImpact(
  runs = 100_000,
): Promise<{ runs: number; p99Without: number; p99During: number; ratio: number; compactMs: number }> {
  const tmp = scratch('compaction');
  const path = tmp.file('holdfast.db');
  await sqliteStore({ path }).close();
  seedFinishedRuns(path, runs, 10, Date.now() - 60_000);
  const store = sqliteStore({ path });
  try {
    const without = await commitLatencies(store, 3_000);
    let compactMs = 0;
    const during = await commitLatencies(store, 3_000, async () => {
      const t = performance.now();
      await compactFinished(store, systemClock, 1_000);
      compactMs = performance.now() - t;
    });
    const p99Without = percentile(without, 99);
    const p99During = percentile(during, 99);
    return { runs, p99Without, p99During, ratio: p99During / p99Without, compactMs };
  } finally {
    await store.close();
    tmp.dispose();
  }
}

export interface DurableResults {
  effects: Awaited<ReturnType<typeof measureEffects>>;
  timers: Awaited<ReturnType<typeof measureTimers>>;
  journal: Awaited<ReturnType<typeof measureJournalBytes>>;
  compaction: Awaited<ReturnType<typeof measureCompactionImpact>>;
}

export async function runDurable(): Promise<DurableResults> {
  return {
    effects: await measureEffects(),
    timers: await measureTimers(),
    journal: await measureJournalBytes(),
    compaction: await measureCompactionImpact(),
  };
}

export function formatDurable(r: DurableResults): string {
  return [
    'effects (claim + emit + record, 10 per run, 8 keys in flight, SQLite FULL) beside raw one-row txn/s',
    table(['effects/s', 'raw txn/s', 'ratio'], [[int(r.effects.effectsPerSec), int(r.effects.rawTxnPerSec), r.effects.ratio.toFixed(2)]]),
    '',
    `timer precision: ${r.timers.timers} sleeping runs due within one second (concurrency 64, SQLite NORMAL); fire time minus deadline`,
    table(['p50 ms', 'p99 ms', 'max ms'], [[String(round(r.timers.p50)), String(round(r.timers.p99)), String(round(r.timers.max))]]),
    '',
    `journal bytes, ${int(r.journal.runs)} ended runs of 10 steps with ~256-byte results (bytes in use: pages minus free pages)`,
    table(
      ['journal bytes/step', 'bytes/run before', 'bytes/run after compaction', 'journal bytes left'],
      [
        [
          int(r.journal.journalBytesPerStep),
          int(r.journal.usedBytesPerRunBefore),
          int(r.journal.usedBytesPerRunAfter),
          int(r.journal.journalBytesAfter),
        ],
      ],
    ),
    '',
    `step commit latency while ${int(r.compaction.runs)} finished runs are compacted (${COMPACT_BATCH} per transaction)`,
    table(
      ['p99 without ms', 'p99 during ms', 'ratio', 'aim', 'compaction took s'],
      [
        [
          r.compaction.p99Without.toFixed(2),
          r.compaction.p99During.toFixed(2),
          r.compaction.ratio.toFixed(2),
          '<= 2',
          (r.compaction.compactMs / 1000).toFixed(1),
        ],
      ],
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(formatDurable(await runDurable()));
