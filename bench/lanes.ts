// Lane leases on SQLite (WAL, synchronous=FULL):
// 1. acquire+release pairs per second, one serial caller per process, 2 processes contending on
//    one file, (a) on one hot lane and (b) over 1,000 distinct lanes, beside the raw rate of a
//    one-row `BEGIN IMMEDIATE` insert transaction on the same kind of file. Measured in ROUNDS
//    interleaved rounds (raw, hot, spread, raw again), so a change of the machine's load hits both
//    sides alike; each round's ratio is against the mean of the raw measurements around it, and
//    the median round is reported. Then once with 8 callers per process (group commit).
//    Every scenario re-folds the journal afterwards and counts double grants. A refused client
//    backs off 1 ms before retrying.
// 2. ctx.lane: the latency from a holder run's lane function returning to a waiting run's lane
//    function starting, p50/p99, in one kernel process: the release, the wake of the waiting run,
//    its claim, its acquire and the journaling of that acquire.
//
//   npx tsx bench/lanes.ts [--seconds N] [--rounds N] [--samples N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arbitrate } from '../src/core/lane-lease/arbiter.js';
import { normalizeTree } from '../src/core/lane-lease/paths.js';
import { applyRecord, EMPTY_LANE_STATE } from '../src/core/lane-lease/replay.js';
import { createLanes } from '../src/lanes/service.js';
import { createKernel } from '../src/runtime/kernel.js';
import { defineFlow } from '../src/runtime/flow.js';
import { probeProcessAlive } from '../src/platform/process-liveness.js';
import { systemClock } from '../src/platform/system-clock.js';
import { openDatabase } from '../src/stores/sqlite/open-database.js';
import { sqliteStore } from '../src/stores/sqlite/sqlite-store.js';
import { percentile } from './common.js';

const SELF = fileURLToPath(import.meta.url);
const PROCESSES = 2;
const CLIENTS = 8;
const REFUSED_BACKOFF_MS = 1;
type Scenario = 'raw' | 'hot' | 'spread';
interface WorkerReport {
  ops: number;
  refused: number;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function worker(scenario: Scenario, db: string, dir: string, id: string, seconds: number, clients: number): Promise<void> {
  let op: (client: string) => Promise<boolean>;
  let close: () => Promise<void>;
  if (scenario === 'raw') {
    const conn = openDatabase(db, 'FULL', 10_000);
    conn.pragma('busy_timeout = 10000'); // the raw baseline waits for the lock on its thread, as plain SQLite code does
    conn.exec('CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, worker TEXT, at INTEGER)');
    const insert = conn.prepare('INSERT INTO bench_raw (worker, at) VALUES (?, ?)');
    const txn = conn.transaction(() => insert.run(id, Date.now()));
    op = async () => {
      txn.immediate();
      return true;
    };
    close = async () => conn.close();
  } else {
    const store = sqliteStore({ path: db, busyTimeoutMs: 10_000 });
    const lanes = createLanes({ store, clock: systemClock, host: hostname(), pid: process.pid, isProcessAlive: probeProcessAlive });
    op = async (client) => {
      const n = scenario === 'hot' ? 0 : Math.floor(Math.random() * 1000);
      const lane = `lane-${n}`;
      const got = await lanes.acquire({ lane, tree: [`src/${n}/`], owner: client });
      if (got.outcome !== 'acquire') return false;
      const { released } = await lanes.release({ lane, owner: client, lease: got.lease.id });
      if (released === null) throw new Error(`lease #${got.lease.id} vanished before its release`);
      return true;
    };
    close = () => store.close();
  }
  writeFileSync(join(dir, `ready-${id}`), '');
  while (!existsSync(join(dir, 'go'))) await sleep(1);
  let ops = 0;
  let refused = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const loop = async (client: string) => {
    while (performance.now() < end) {
      if (await op(client)) ops++;
      else {
        refused++;
        await sleep(REFUSED_BACKOFF_MS); // a refused client waits a little, as a real one would
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, k) => loop(`${id}-c${k}`)));
  const report: WorkerReport = { ops, refused, ms: performance.now() - start };
  await close();
  process.stdout.write(JSON.stringify(report));
}

function runWorker(scenario: Scenario, db: string, dir: string, id: string, seconds: number, clients: number): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, SELF, '--worker', scenario, db, dir, id, String(seconds), String(clients)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`${scenario} worker ${id} exited ${code}`)),
    );
  });
}

async function measure(scenario: Scenario, processes: number, seconds: number, clients = 1) {
  const dir = mkdtempSync(join(tmpdir(), `holdfast-bench-${scenario}-`));
  const db = join(dir, 'state.db');
  openDatabase(db, 'FULL', 10_000).close();
  const ids = Array.from({ length: processes }, (_, i) => `w${i}`);
  const runs = ids.map((id) => runWorker(scenario, db, dir, id, seconds, clients));
  while (!ids.every((id) => existsSync(join(dir, `ready-${id}`)))) await sleep(5);
  writeFileSync(join(dir, 'go'), '');
  const reports = await Promise.all(runs);
  const ops = reports.reduce((s, r) => s + r.ops, 0);
  const refused = reports.reduce((s, r) => s + r.refused, 0);
  const ms = Math.max(...reports.map((r) => r.ms));
  const doubleGrants = scenario === 'raw' ? 0 : await countDoubleGrants(db);
  rmSync(dir, { recursive: true, force: true });
  return { rate: (ops / ms) * 1000, ops, refused, doubleGrants };
}

/** Re-folds the journal: an acquire the arbiter would refuse against the live set then is a double grant. */
async function countDoubleGrants(db: string): Promise<number> {
  const store = sqliteStore({ path: db });
  const { records } = await store.lanes.journal();
  await store.close();
  let state = EMPTY_LANE_STATE;
  let bad = 0;
  for (const r of records) {
    if (
      r.op === 'acquire' &&
      arbitrate({ lane: r.lane ?? '', tree: normalizeTree(r.tree ?? []), mode: r.mode ?? undefined }, state.leases).outcome !== 'acquire'
    )
      bad++;
    state = applyRecord(state, r);
  }
  return bad;
}

/**
 * ctx.lane wake latency, in one kernel process on a fresh SQLite file: per sample, a holder run
 * takes lane "h" on [src] and waits; a second run on another key asks for lane "w" on [src/x],
 * is refused and waits durably; then the holder's function returns. Timed from that return to the
 * first line of the waiting run's lane function. The kernel's poll is 60 s: only the wake counts.
 */
async function wakeLatency(samples: number): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-lane-wake-'));
  const store = sqliteStore({ path: join(dir, 'state.db') });
  let letGo: () => void = () => undefined;
  let returnedAt = 0;
  const latencies: number[] = [];
  const hold = defineFlow('hold', async (ctx) =>
    ctx.lane({ lane: 'h', tree: ['src'] }, async () => {
      await new Promise<void>((resolve) => (letGo = resolve));
      returnedAt = performance.now();
      return null;
    }),
  );
  const wait = defineFlow('wait', async (ctx) =>
    ctx.lane({ lane: 'w', tree: ['src/x'] }, () => {
      latencies.push(performance.now() - returnedAt);
      return null;
    }),
  );
  const kernel = createKernel({ store, flows: [hold, wait], pollIntervalMs: 60_000, wake: null });
  await kernel.start();
  for (let i = 0; i < samples + 10; i++) {
    const holder = await kernel.submit({ key: `h${i}`, flow: 'hold' });
    await kernel.once('step:committed', (e) => e.runId === holder.id && e.name === 'lane:h');
    const waiter = await kernel.submit({ key: `w${i}`, flow: 'wait' });
    await kernel.once('run:waiting', (e) => e.runId === waiter.id && e.kind === 'lane');
    letGo();
    await Promise.all([holder.result(), waiter.result()]);
  }
  await kernel.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const measured = latencies.slice(10); // the first 10 warm up
  return { p50: percentile(measured, 50), p99: percentile(measured, 99), max: Math.max(...measured), n: measured.length };
}

/**
 * Where the time of one serial acquire+release pair goes, one process, no contention: per
 * transaction, a raw one-row insert; the same SQL statements a lane pair runs (journal, live
 * lease, generation), without the store's code; the lane service; and the lane service with
 * synchronous=OFF (no fsync: what is left is CPU). Microseconds per transaction.
 */
async function breakdown(seconds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-lane-cost-'));
  const rate = async (body: () => unknown): Promise<number> => {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    while (performance.now() < end) {
      await body();
      n++;
    }
    return (performance.now() - start) / n;
  };
  const conn = openDatabase(join(dir, 'raw.db'), 'FULL', 10_000);
  conn.exec('CREATE TABLE one (id INTEGER PRIMARY KEY, at INTEGER)');
  const one = conn.prepare('INSERT INTO one (at) VALUES (?)');
  const rawTxn = conn.transaction(() => one.run(Date.now()));
  const j = conn.prepare('INSERT INTO lane_journal (op, at, lane, holder, tree) VALUES (?, ?, ?, ?, ?)');
  const live = conn.prepare('SELECT * FROM lane_leases ORDER BY id');
  const gen = conn.prepare('SELECT generation FROM lane_generations WHERE lane = ?').pluck();
  const put = conn.prepare(
    "INSERT INTO lane_leases (id, lane, kind, tree, mode, holder, host, pid, ttl_minutes, generation, acquired_at, beat_at) VALUES (?, 'l', 'w', '[]', 'exclusive', 'c', 'h', 1, 50, 1, 0, 0)",
  );
  const setGen = conn.prepare(
    "INSERT INTO lane_generations (lane, generation) VALUES ('l', ?) ON CONFLICT (lane) DO UPDATE SET generation = excluded.generation",
  );
  const del = conn.prepare('DELETE FROM lane_leases WHERE id = ?');
  const acquireSql = conn.transaction(() => {
    live.all();
    const g = ((gen.get('l') as number | undefined) ?? 0) + 1;
    const id = Number(j.run('acquire', Date.now(), 'l', 'c', '["src/"]').lastInsertRowid);
    put.run(id);
    setGen.run(g);
    return id;
  });
  const releaseSql = conn.transaction((id: number) => {
    live.all();
    j.run('release', Date.now(), 'l', 'c', null);
    del.run(id);
  });
  const service = async (sync: 'FULL' | 'OFF') => {
    const store = sqliteStore({ path: join(dir, `service-${sync}.db`), synchronous: sync as 'FULL' });
    const lanes = createLanes({ store, clock: systemClock, host: hostname(), pid: process.pid, isProcessAlive: probeProcessAlive });
    const us = await rate(async () => {
      const got = await lanes.acquire({ lane: 'l', tree: ['src/'], owner: 'c' });
      if (got.outcome === 'acquire') await lanes.release({ lane: 'l', owner: 'c', lease: got.lease.id });
    });
    await store.close();
    return (us * 1000) / 2;
  };
  const result = {
    'raw one-row txn': (await rate(() => rawTxn.immediate())) * 1000,
    'same SQL as a lane txn': ((await rate(() => releaseSql.immediate(acquireSql.immediate()))) * 1000) / 2,
    'lane service txn': await service('FULL'),
    'lane service txn, synchronous=OFF': await service('OFF'),
  };
  conn.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    const [, scenario, db, dir, id, seconds, clients] = args as [string, Scenario, string, string, string, string, string];
    await worker(scenario, db, dir, id, Number(seconds), Number(clients));
    return;
  }
  const seconds = option(args, '--seconds', 2);
  const rounds = option(args, '--rounds', 3);
  const samples = option(args, '--samples', 200);
  const f = (n: number) => n.toFixed(0).padStart(6);
  console.log(`lane leases on SQLite (WAL, synchronous=FULL), ${PROCESSES} processes, ${seconds}s per measurement, ${rounds} rounds`);
  console.log('one serial caller per process (a pair is 2 transactions); ratio = pairs/s / raw txn/s (2 processes) of the round');
  const ratios = { hot: [] as number[], spread: [] as number[] };
  let doubleGrants = 0;
  let before = await measure('raw', PROCESSES, seconds);
  for (let r = 1; r <= rounds; r++) {
    const hot = await measure('hot', PROCESSES, seconds);
    const spread = await measure('spread', PROCESSES, seconds);
    const after = await measure('raw', PROCESSES, seconds);
    const raw = (before.rate + after.rate) / 2;
    ratios.hot.push(hot.rate / raw);
    ratios.spread.push(spread.rate / raw);
    doubleGrants += hot.doubleGrants + spread.doubleGrants;
    console.log(
      `round ${r}: raw ${f(raw)} txn/s | (a) hot lane ${f(hot.rate)} pairs/s = ${(hot.rate / raw).toFixed(2)} | (b) 1000 lanes ${f(spread.rate)} pairs/s = ${(spread.rate / raw).toFixed(2)}`,
    );
    before = after;
  }
  console.log(
    `median ratio: (a) hot lane ${median(ratios.hot).toFixed(2)}, (b) 1000 lanes ${median(ratios.spread).toFixed(2)} (aim >= 0.5)`,
  );
  const raw = await measure('raw', PROCESSES, seconds);
  const hotBatched = await measure('hot', PROCESSES, seconds, CLIENTS);
  const spreadBatched = await measure('spread', PROCESSES, seconds, CLIENTS);
  doubleGrants += hotBatched.doubleGrants + spreadBatched.doubleGrants;
  console.log(`${CLIENTS} callers per process (concurrent calls in a process share a group commit), raw ${f(raw.rate)} txn/s:`);
  console.log(`(a) hot lane ${f(hotBatched.rate)} pairs/s = ${(hotBatched.rate / raw.rate).toFixed(2)}, refusals ${hotBatched.refused}`);
  console.log(
    `(b) 1000 lanes ${f(spreadBatched.rate)} pairs/s = ${(spreadBatched.rate / raw.rate).toFixed(2)}, refusals ${spreadBatched.refused}`,
  );
  console.log(`double grants in every scenario: ${doubleGrants}`);
  const cost = await breakdown(seconds);
  console.log(
    `one process, no contention, µs per transaction: ${Object.entries(cost)
      .map(([what, us]) => `${what} ${us.toFixed(0)}`)
      .join(', ')}`,
  );
  const wake = await wakeLatency(samples);
  console.log(
    `ctx.lane release -> waiting run's function start, ${wake.n} samples, one process: p50 ${wake.p50.toFixed(2)} ms, p99 ${wake.p99.toFixed(2)} ms, max ${wake.max.toFixed(2)} ms`,
  );
  if (doubleGrants > 0) process.exitCode = 1;
}

await main();
