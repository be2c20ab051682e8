// Lane-lease throughput: acquire+release pairs per second with 2 processes contending on a SQLite
// file, (a) on one hot lane and (b) over 1,000 distinct lanes, beside the raw rate of a one-row
// `BEGIN IMMEDIATE` insert transaction on the same kind of file (WAL, synchronous=FULL), measured
// in the same run. Every scenario re-folds the journal afterwards and counts double grants. A
// refused client backs off 1 ms before retrying (a client spinning on refusals only measures how
// fast refusals are journaled, and starves the holder's release).
//
//   npx tsx bench/lanes.ts [--seconds N]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arbitrate } from '../src/core/lane-lease/arbiter.js';
import { normalizeTree } from '../src/core/lane-lease/paths.js';
import { applyRecord, EMPTY_LANE_STATE } from '../src/core/lane-lease/replay.js';
import { createLanes } from '../src/lanes/service.js';
import { probeProcessAlive } from '../src/platform/process-liveness.js';
import { systemClock } from '../src/platform/system-clock.js';
import { openDatabase } from '../src/stores/sqlite/open-database.js';
import { sqliteStore } from '../src/stores/sqlite/sqlite-store.js';

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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    const [, scenario, db, dir, id, seconds, clients] = args as [string, Scenario, string, string, string, string, string];
    await worker(scenario, db, dir, id, Number(seconds), Number(clients));
    return;
  }
  const seconds = args[0] === '--seconds' ? Number(args[1]) : 2;
  const raw1 = await measure('raw', 1, seconds);
  const raw2 = await measure('raw', PROCESSES, seconds);
  const hot = await measure('hot', PROCESSES, seconds);
  const spread = await measure('spread', PROCESSES, seconds);
  const hotBatched = await measure('hot', PROCESSES, seconds, CLIENTS);
  const spreadBatched = await measure('spread', PROCESSES, seconds, CLIENTS);
  const f = (n: number) => n.toFixed(0).padStart(7);
  const ratio = (n: number) => `${(n / raw2.rate).toFixed(2)} of raw (2 proc), ${(n / raw1.rate).toFixed(2)} of raw (1 proc)`;
  console.log(`lane leases on SQLite (WAL, synchronous=FULL), ${PROCESSES} processes, ${seconds}s per measurement`);
  console.log(`raw BEGIN IMMEDIATE 1-row insert txn/s, 1 process : ${f(raw1.rate)}`);
  console.log(`raw BEGIN IMMEDIATE 1-row insert txn/s, ${PROCESSES} processes: ${f(raw2.rate)}`);
  const line = (label: string, m: Awaited<ReturnType<typeof measure>>) =>
    console.log(
      `${label} acquire+release pairs/s ${f(m.rate)}  refusals ${String(m.refused).padStart(6)}  double grants ${m.doubleGrants}  -> ${ratio(m.rate)}`,
    );
  console.log('one client per process (each pair is 2 serial transactions):');
  line('(a) hot lane  ', hot);
  line('(b) 1000 lanes', spread);
  console.log(`${CLIENTS} clients per process (concurrent calls in a process share a group commit):`);
  line('(a) hot lane  ', hotBatched);
  line('(b) 1000 lanes', spreadBatched);
  if ([hot, spread, hotBatched, spreadBatched].some((m) => m.doubleGrants > 0)) process.exitCode = 1;
}

await main();
