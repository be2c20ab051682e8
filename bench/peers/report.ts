// Turns one run's measurements into the summary written to bench/results/: percentiles, ratios to
// the raw transaction rate measured beside each figure, and the aims.
import { percentile, round } from '../common.js';
import type { ThroughputRound } from './measure-system.js';
import type { NotifyPreemptionResult } from './notify-preemption.js';
import { combineRaw, type RawResult } from './raw-baseline.js';
import type { InterruptResult, LatencyResult } from './unit.js';

export const AIMS = {
  stepsPerSecVsDbos: 5,
  latencyBelow: 'graphile-worker',
} as const;

export type Measured<T> = ({ status: 'measured' } & T) | { status: 'not measured'; reason: string };

/** A latency in ms, also in units of one raw transaction's mean time (ms × raw txn/s ÷ 1000). */
export interface Timing {
  ms: number;
  rawTxns: number;
}
const timing = (ms: number, raw: RawResult): Timing => ({ ms: round(ms, 3), rawTxns: round((ms * raw.txnPerSec) / 1000, 2) });

/** Everything measured for one system across its processes (throughput rounds, then latency and interruption). */
export interface Collected {
  id: string;
  name: string;
  version: string;
  settings: string;
  rounds: ThroughputRound[];
  latency: LatencyResult[];
  interrupt: InterruptResult[];
  /** The raw baseline measured around the latency and interruption samples (the process that took them). */
  sampleRaw?: RawResult;
  phases: Record<string, number>[];
}

export interface SystemSummary {
  id: string;
  name: string;
  version: string;
  settings: string;
  rawTxnPerSec: number;
  raw8TxnPerSec: number;
  /** The raw rate the latency and interruption timings are expressed in (measured around them). */
  sampleRawTxnPerSec: number;
  /** Over all rounds: total steps ÷ total time, and the raw rate over all the rounds' baselines. */
  throughput: {
    stepsPerSec: number;
    ratio: number;
    runs: number;
    steps: number;
    seconds: number;
    rounds: { stepsPerSec: number; rawTxnPerSec: number; ratio: number }[];
  };
  latency: { path: string; samples: number; p50: Timing; p99: Timing; max: Timing; submitP50Ms: number; submitP99Ms: number }[];
  interrupt: {
    api: string;
    samples: number;
    stepEndedP50: Timing;
    ranToEnd: number;
    urgentStartP50: Timing;
    urgentStartP99: Timing;
    urgentStartMax: Timing;
    overlapped: number;
  }[];
}

export interface NotifySummary {
  preempt: string;
  samples: number;
  rawTxnPerSec: number;
  abortP50: Timing;
  abortP99: Timing;
  startP50: Timing;
  startP99: Timing;
  startMax: Timing;
  clockOffsetMs: { owner: number; submitter: number };
}

export function summarizeSystem(r: Collected): SystemSummary {
  const raw = r.rounds.map((x) => x.raw).reduce(combineRaw);
  const raw8 = r.rounds.map((x) => x.raw8).find((x) => x !== undefined);
  const steps = r.rounds.reduce((n, x) => n + x.result.steps, 0);
  const ms = r.rounds.reduce((n, x) => n + x.result.ms, 0);
  const stepsPerSec = (steps / ms) * 1000;
  const sampleRaw = r.sampleRaw ?? raw;
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    settings: r.settings,
    rawTxnPerSec: round(raw.txnPerSec),
    raw8TxnPerSec: round(raw8?.txnPerSec ?? NaN),
    sampleRawTxnPerSec: round(sampleRaw.txnPerSec),
    throughput: {
      stepsPerSec: round(stepsPerSec, 1),
      ratio: round(stepsPerSec / raw.txnPerSec, 3),
      runs: r.rounds.reduce((n, x) => n + x.result.runs, 0),
      steps,
      seconds: round(ms / 1000, 2),
      rounds: r.rounds.map((x) => ({
        stepsPerSec: round(x.result.stepsPerSec, 1),
        rawTxnPerSec: round(x.raw.txnPerSec),
        ratio: round(x.result.stepsPerSec / x.raw.txnPerSec, 3),
      })),
    },
    latency: r.latency.map((l) => ({
      path: l.path,
      samples: l.startMs.length,
      p50: timing(percentile(l.startMs, 50), sampleRaw),
      p99: timing(percentile(l.startMs, 99), sampleRaw),
      max: timing(Math.max(...l.startMs), sampleRaw),
      submitP50Ms: round(percentile(l.submitMs, 50), 3),
      submitP99Ms: round(percentile(l.submitMs, 99), 3),
    })),
    interrupt: r.interrupt.map((i) => {
      const starts = i.samples.map((s) => s.urgentStartMs);
      return {
        api: i.api,
        samples: i.samples.length,
        stepEndedP50: timing(
          percentile(
            i.samples.map((s) => s.stepEndedMs),
            50,
          ),
          raw,
        ),
        ranToEnd: i.samples.filter((s) => s.ranToEnd).length,
        urgentStartP50: timing(percentile(starts, 50), sampleRaw),
        urgentStartP99: timing(percentile(starts, 99), sampleRaw),
        urgentStartMax: timing(Math.max(...starts), sampleRaw),
        overlapped: i.samples.filter((s) => s.overlapped).length,
      };
    }),
  };
}

export function summarizeNotify(r: NotifyPreemptionResult, raw: RawResult): NotifySummary {
  return {
    preempt: r.preempt,
    samples: r.samples,
    rawTxnPerSec: round(raw.txnPerSec),
    abortP50: timing(percentile(r.abortMs, 50), raw),
    abortP99: timing(percentile(r.abortMs, 99), raw),
    startP50: timing(percentile(r.startMs, 50), raw),
    startP99: timing(percentile(r.startMs, 99), raw),
    startMax: timing(Math.max(...r.startMs), raw),
    clockOffsetMs: { owner: round(r.clockOffsetMs.owner, 3), submitter: round(r.clockOffsetMs.submitter, 3) },
  };
}

export interface RunSummary {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  postgres: Record<string, string>;
  unit: { steps: number; resultBytes: number; inFlight: number; longStepMs: number; interruptAtMs: number };
  plan: Record<string, number>;
  systems: (Measured<SystemSummary> & { id: string; name: string })[];
  notifyPreemption: Measured<NotifySummary>;
  aims: {
    /** `factor`: holdfast's ratio ÷ DBOS's ratio (each to its own raw baseline); `plainFactor`: steps/s ÷ steps/s. */
    holdfastStepsVsDbos: Measured<{ factor: number; plainFactor: number; met: boolean }>;
    holdfastLatencyP99BelowGraphile: Measured<{ holdfastP99Ms: number; graphileP99Ms: number; met: boolean }>;
  };
  totalSeconds: number;
}

/** Whether the aims are met, from what was measured (a figure not measured leaves its aim open). */
export function aims(systems: RunSummary['systems']): RunSummary['aims'] {
  const get = (id: string) => systems.find((s) => s.id === id);
  const hf = get('holdfast');
  const dbos = get('dbos');
  const gw = get('graphile-worker');
  const missing = (...xs: (RunSummary['systems'][number] | undefined)[]) =>
    xs
      .filter((x) => !x || x.status !== 'measured')
      .map((x) => x?.name ?? 'a system')
      .join(' and ');
  const vsDbos: RunSummary['aims']['holdfastStepsVsDbos'] =
    hf?.status === 'measured' && dbos?.status === 'measured'
      ? (() => {
          const factor = round(hf.throughput.ratio / dbos.throughput.ratio, 2);
          const plainFactor = round(hf.throughput.stepsPerSec / dbos.throughput.stepsPerSec, 2);
          return { status: 'measured', factor, plainFactor, met: factor >= AIMS.stepsPerSecVsDbos };
        })()
      : { status: 'not measured', reason: `${missing(hf, dbos)} not measured` };
  const latency: RunSummary['aims']['holdfastLatencyP99BelowGraphile'] =
    hf?.status === 'measured' && gw?.status === 'measured'
      ? {
          status: 'measured',
          holdfastP99Ms: hf.latency[0]!.p99.ms,
          graphileP99Ms: gw.latency[0]!.p99.ms,
          met: hf.latency[0]!.p99.ms < gw.latency[0]!.p99.ms,
        }
      : { status: 'not measured', reason: `${missing(hf, gw)} not measured` };
  return { holdfastStepsVsDbos: vsDbos, holdfastLatencyP99BelowGraphile: latency };
}
