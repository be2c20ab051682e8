// holdfast beside DBOS, graphile-worker and pg-boss on one Postgres, in one run, with one unit of
// work (10 durable steps per run, 256-byte results, 8 runs in flight). Every figure is also given
// relative to single-row INSERT transactions measured on the same server in the same run.
//
//   npm --prefix bench/peers install      (once: the peers live in bench/peers/node_modules only)
//   npx tsx bench/peers/run.ts            (from the repository root; about 3-4 minutes)
//
// HOLDFAST_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) is where the benchmark
// creates its own database, HOLDFAST_BENCH_PG_DB (default hf_bench_peers), dropped and created
// afresh at the start and dropped at the end. Results go to bench/results/peers.{json,md} and
// bench/results/peers-*.svg.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { firstLine } from './holdfast-postgres.js';
import { missingPeers } from './installed.js';
import type { Plan, SystemId, SystemResult } from './measure-system.js';
import { percentile } from '../common.js';
import { measureNotifyPreemption } from './notify-preemption.js';
import { combineRaw, durabilitySettings, measureRaw } from './raw-baseline.js';
import { aims, summarizeNotify, summarizeSystem, type Collected, type RunSummary } from './report.js';
import { markdown, writeResults } from './results-writer.js';
import { IN_FLIGHT, INTERRUPT_AT_MS, LONG_STEP_MS, RESULT_BYTES, STEPS } from './unit.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const measureScript = fileURLToPath(new URL('./measure-system.ts', import.meta.url));
const adminUrl = process.env.HOLDFAST_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = process.env.HOLDFAST_BENCH_PG_DB ?? 'hf_bench_peers';
const SYSTEM_TIMEOUT_MS = 180_000;
const NOTIFY_SAMPLES = 60;

const base: Plan = {
  parts: [],
  throughputSeconds: 5,
  rawSeconds: 1,
  raw8: false,
  latencySamples: 150,
  latencyWarmup: 15,
  interruptSamples: 3,
};
const HOLDFAST_INTERRUPT_SAMPLES = 20;
/** Throughput is measured in two rounds, the second in reverse order, so a drift of the machine's load affects every system alike. */
const ORDER: { id: SystemId; name: string }[] = [
  { id: 'dbos', name: 'DBOS' },
  { id: 'holdfast', name: 'holdfast' },
  { id: 'graphile-worker', name: 'graphile-worker' },
  { id: 'pg-boss', name: 'pg-boss' },
  // The same peer with its in-process wake-up; its interruption figure would be pg-boss's.
  { id: 'pg-boss-notify', name: 'pg-boss + notifyWorker' },
];
const latencyPlan = (id: SystemId): Plan => ({
  ...base,
  parts: id === 'pg-boss-notify' ? ['latency'] : ['latency', 'interrupt'],
  interruptSamples: id === 'holdfast' ? HOLDFAST_INTERRUPT_SAMPLES : base.interruptSamples,
});

function databaseUrl(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function recreateDatabase(drop: boolean, create: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    if (drop) await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    if (create) await admin.query(`CREATE DATABASE "${dbName}"`);
  } finally {
    await admin.end();
  }
}

/** Runs one system's measurements in a process of its own; a failure becomes its "not measured" reason. */
function measureInChild(id: SystemId, url: string, plan: Plan): Promise<SystemResult | { reason: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', measureScript, id, url, JSON.stringify(plan)], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SYSTEM_TIMEOUT_MS);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      const result = lines.find((l) => l.startsWith('RESULT '));
      const failed = lines.find((l) => l.startsWith('FAILED '));
      if (result) return resolve(JSON.parse(result.slice('RESULT '.length)) as SystemResult);
      const lastErr = stderr.trim().split('\n').filter(Boolean).slice(-1)[0];
      const reason =
        failed?.slice('FAILED '.length) ??
        (sig ? `killed (${sig}) after ${SYSTEM_TIMEOUT_MS / 1000} s` : `exited ${code}: ${lastErr ?? 'no output'}`);
      resolve({ reason });
    });
  });
}

async function main(): Promise<void> {
  const missing = missingPeers();
  if (missing.length > 0) {
    console.error(
      `The peers are not installed (${missing.join(', ')} missing). Install them into bench/peers/node_modules first:\n\n  npm --prefix bench/peers install\n`,
    );
    process.exit(2);
  }
  const began = performance.now();
  try {
    await recreateDatabase(true, true);
  } catch (error) {
    console.error(
      `Postgres is not reachable at ${adminUrl} (${firstLine(error)}). Start it or set HOLDFAST_BENCH_PG_URL to a server where the benchmark may create a database.`,
    );
    process.exit(2);
  }
  const url = databaseUrl(adminUrl, dbName);
  const postgres = await durabilitySettings(url);
  console.log(
    `database ${dbName}: PostgreSQL ${postgres.server_version}, synchronous_commit=${postgres.synchronous_commit}, fsync=${postgres.fsync}`,
  );

  const collected = new Map<SystemId, Collected>();
  const failures = new Map<SystemId, string>();
  const measure = async (id: SystemId, name: string, plan: Plan, what: string) => {
    if (failures.has(id)) return;
    const t = performance.now();
    const r = await measureInChild(id, url, plan);
    const took = `${((performance.now() - t) / 1000).toFixed(0)} s`;
    if ('reason' in r) {
      failures.set(id, `${what}: ${r.reason}`);
      return console.log(`${name}, ${what}: not measured: ${r.reason} (${took})`);
    }
    const c = collected.get(id) ?? {
      id,
      name: r.name,
      version: r.version,
      settings: r.settings,
      rounds: [],
      latency: [],
      interrupt: [],
      phases: [],
    };
    if (r.throughput) c.rounds.push(r.throughput);
    c.latency.push(...(r.latency ?? []));
    c.interrupt.push(...(r.interrupt ?? []));
    if (r.sampleRaw) c.sampleRaw = r.sampleRaw;
    c.phases.push(r.phases);
    collected.set(id, c);
    const tp = r.throughput
      ? `${r.throughput.result.stepsPerSec.toFixed(0)} steps/s, raw ${r.throughput.raw.txnPerSec.toFixed(0)} txn/s`
      : '';
    const lat = r.latency?.[0] ? `start p50 ${percentile(r.latency[0].startMs, 50).toFixed(2)} ms` : '';
    console.log(`${name}, ${what}: ${[tp, lat].filter(Boolean).join(', ')} (${took})`);
  };
  for (const s of ORDER) await measure(s.id, s.name, { ...base, parts: ['throughput'], raw8: true }, 'throughput round 1');
  for (const s of [...ORDER].reverse()) await measure(s.id, s.name, { ...base, parts: ['throughput'] }, 'throughput round 2');
  for (const s of ORDER) await measure(s.id, s.name, latencyPlan(s.id), 'latency and interruption');
  const systems: RunSummary['systems'] = ORDER.map((s) => {
    const failure = failures.get(s.id);
    const c = collected.get(s.id);
    if (failure || !c) return { status: 'not measured', id: s.id, name: s.name, reason: failure ?? 'no result' };
    return { status: 'measured', ...summarizeSystem(c) };
  });

  let notifyPreemption: RunSummary['notifyPreemption'];
  try {
    const before = await measureRaw(url, 1);
    const n = await measureNotifyPreemption(url, 'holdfast_notify_bench', NOTIFY_SAMPLES, 'abort-keep');
    const after = await measureRaw(url, 1);
    notifyPreemption = { status: 'measured', ...summarizeNotify(n, combineRaw(before, after)) };
    console.log(
      `cross-process preemption: urgent first step p50 ${notifyPreemption.startP50.ms} ms, p99 ${notifyPreemption.startP99.ms} ms`,
    );
  } catch (error) {
    notifyPreemption = { status: 'not measured', reason: firstLine(error) };
    console.log(`cross-process preemption: not measured: ${notifyPreemption.reason}`);
  }
  if (!process.env.HOLDFAST_BENCH_KEEP_DB) await recreateDatabase(true, false);

  const summary: RunSummary = {
    date: new Date().toISOString().slice(0, 10),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? '?',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    postgres,
    unit: { steps: STEPS, resultBytes: RESULT_BYTES, inFlight: IN_FLIGHT, longStepMs: LONG_STEP_MS, interruptAtMs: INTERRUPT_AT_MS },
    plan: {
      throughputRounds: 2,
      throughputSeconds: base.throughputSeconds,
      rawSeconds: base.rawSeconds,
      latencySamples: base.latencySamples,
      latencyWarmup: base.latencyWarmup,
      interruptSamples: base.interruptSamples,
      holdfastInterruptSamples: HOLDFAST_INTERRUPT_SAMPLES,
      notifySamples: NOTIFY_SAMPLES,
    },
    systems,
    notifyPreemption,
    aims: aims(systems),
    totalSeconds: (performance.now() - began) / 1000,
  };
  const files = writeResults(summary);
  console.log(`\n${markdown(summary)}`);
  console.log(`wrote ${files.join(', ')}`);
  console.log(`BENCH_JSON ${JSON.stringify(summary)}`);
}

await main();
