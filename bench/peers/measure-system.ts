// Measures one system in a process of its own (DBOS keeps one global runtime per process, and a
// fresh process gives every system the same clean heap). The plan says which parts to run:
//   throughput  raw baseline, the throughput window, raw baseline again (and 8-connection raw);
//   latency     submit-to-start samples;
//   interrupt   interruption samples.
// Prints one line `RESULT {json}` on success, or `FAILED <reason>`.
//
//   node --import tsx bench/peers/measure-system.ts <system> <connection string> <plan json>
import { performance } from 'node:perf_hooks';
import { round } from '../common.js';
import { firstLine } from './holdfast-postgres.js';
import { combineRaw, measureRaw, type RawResult } from './raw-baseline.js';
import { dbosBench } from './systems/dbos.js';
import { graphileBench } from './systems/graphile.js';
import { holdfastBench } from './systems/holdfast.js';
import { pgBossBench } from './systems/pgboss.js';
import type { InterruptResult, LatencyResult, SystemBench, ThroughputResult } from './unit.js';

export const SYSTEMS = ['holdfast', 'dbos', 'graphile-worker', 'pg-boss', 'pg-boss-notify'] as const;
export type SystemId = (typeof SYSTEMS)[number];
export type Part = 'throughput' | 'latency' | 'interrupt';

export interface Plan {
  parts: Part[];
  /** Seconds during which runs are started, 8 in flight. */
  throughputSeconds: number;
  /** Seconds of raw baseline just before and again just after the throughput window. */
  rawSeconds: number;
  /** Also measure raw transactions on 8 connections at once after the window. */
  raw8: boolean;
  latencySamples: number;
  latencyWarmup: number;
  interruptSamples: number;
}

export interface ThroughputRound {
  result: ThroughputResult;
  /** One connection, before + after the window. */
  raw: RawResult;
  /** Eight connections inserting at once, after the window: the server's rate with 8 writers. */
  raw8?: RawResult;
}

export interface SystemResult {
  id: SystemId;
  name: string;
  version: string;
  settings: string;
  throughput?: ThroughputRound;
  latency?: LatencyResult[];
  interrupt?: InterruptResult[];
  /** Raw baseline (one connection) just before the latency samples and just after the interruption samples. */
  sampleRaw?: RawResult;
  /** Seconds each phase took in the measuring process (setup includes migrations). */
  phases: Record<string, number>;
}

const SCHEMAS: Record<SystemId, string> = {
  holdfast: 'holdfast_bench',
  dbos: 'dbos_bench',
  'graphile-worker': 'graphile_worker_bench',
  'pg-boss': 'pgboss_bench',
  'pg-boss-notify': 'pgboss_notify_bench',
};

function create(id: SystemId, url: string): Promise<SystemBench> {
  const schema = SCHEMAS[id];
  switch (id) {
    case 'holdfast':
      return holdfastBench(url, schema);
    case 'dbos':
      return dbosBench(url, schema);
    case 'graphile-worker':
      return graphileBench(url, schema);
    case 'pg-boss':
      return pgBossBench(url, schema, 'poll');
    case 'pg-boss-notify':
      return pgBossBench(url, schema, 'notify');
  }
}

async function throughputRound(bench: SystemBench, url: string, plan: Plan): Promise<ThroughputRound> {
  const before = await measureRaw(url, plan.rawSeconds);
  const result = await bench.throughput(plan.throughputSeconds);
  const after = await measureRaw(url, plan.rawSeconds);
  const raw8 = plan.raw8 ? await measureRaw(url, plan.rawSeconds, 8) : undefined;
  return { result, raw: combineRaw(before, after), ...(raw8 ? { raw8 } : {}) };
}

export async function measureSystem(id: SystemId, url: string, plan: Plan): Promise<SystemResult> {
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = <T>(name: string, value: T): T => {
    const t = performance.now();
    phases[name] = round((t - mark) / 1000, 1);
    mark = t;
    return value;
  };
  const bench = phase('setup', await create(id, url));
  try {
    const has = (part: Part) => plan.parts.includes(part);
    const throughput = has('throughput') ? phase('throughput', await throughputRound(bench, url, plan)) : undefined;
    const sampled = has('latency') || has('interrupt');
    const before = sampled ? await measureRaw(url, plan.rawSeconds) : undefined;
    const latency = has('latency') ? phase('latency', await bench.latency(plan.latencySamples, plan.latencyWarmup)) : undefined;
    const interrupt = has('interrupt') ? phase('interrupt', await bench.interrupt(plan.interruptSamples)) : undefined;
    const sampleRaw = before ? combineRaw(before, await measureRaw(url, plan.rawSeconds)) : undefined;
    const { name, version, settings } = bench;
    return {
      id,
      name,
      version,
      settings,
      ...(throughput ? { throughput } : {}),
      ...(latency ? { latency } : {}),
      ...(interrupt ? { interrupt } : {}),
      ...(sampleRaw ? { sampleRaw } : {}),
      phases,
    };
  } finally {
    await bench.close();
    phase('close', null);
  }
}

const [, , id, url, planJson] = process.argv;
if (id && url && planJson) {
  try {
    if (!(SYSTEMS as readonly string[]).includes(id)) throw new Error(`unknown system "${id}"; expected one of ${SYSTEMS.join(', ')}`);
    const result = await measureSystem(id as SystemId, url, JSON.parse(planJson) as Plan);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (error) {
    process.stdout.write(`FAILED ${firstLine(error)}\n`);
    process.exit(1);
  }
}
