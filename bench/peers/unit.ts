// The unit of work every system runs, and the shape of what each system's adapter measures.
// A run is 10 durable steps (a 10-step flow, a DBOS workflow of 10 steps, a chain of 10 jobs);
// every step returns a 256-byte JSON result; 8 runs are kept in flight.
import { performance } from 'node:perf_hooks';

export const STEPS = 10;
export const IN_FLIGHT = 8;
export const RESULT_BYTES = 256;

/** Wall-clock milliseconds comparable across processes on one host. */
export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The JSON result of step `i` of run `run`: exactly RESULT_BYTES bytes once serialised. */
export function stepResult(run: string, i: number): { run: string; step: number; pad: string } {
  const bare = JSON.stringify({ run, step: i, pad: '' }).length;
  return { run, step: i, pad: 'x'.repeat(Math.max(0, RESULT_BYTES - bare)) };
}

/** Runs of 10 steps completed in a window, 8 kept in flight; steps/s = 10 × runs / ms. */
export interface ThroughputResult {
  runs: number;
  steps: number;
  ms: number;
  stepsPerSec: number;
}

/** Submit → first line of the run's code, one idle run at a time; and how long submit itself took. */
export interface LatencyResult {
  /** What "submit" and "start" are for this system, in words. */
  path: string;
  startMs: number[];
  submitMs: number[];
}

/**
 * One interruption: a run is inside a long step (LONG_STEP_MS) on a key (a serial queue for the
 * peers); urgent work for the same key is submitted and the running work is interrupted through
 * the system's own API. Times are from that API call's durable commit.
 */
export interface InterruptSample {
  /** Commit → the long step's function returned or threw. */
  stepEndedMs: number;
  /** Whether the long step's function ran for its whole length (it was not interrupted). */
  ranToEnd: boolean;
  /** Commit → first line of the urgent work's first step. */
  urgentStartMs: number;
  /** Whether the urgent work started while the interrupted step was still running. */
  overlapped: boolean;
}

export interface InterruptResult {
  /** The API used to interrupt, and what it does, in words. */
  api: string;
  samples: InterruptSample[];
}

/** The long step of the interruption figure, and how far into it the interruption comes. */
export const LONG_STEP_MS = 3_000;
export const INTERRUPT_AT_MS = 250;

export interface SystemBench {
  readonly name: string;
  readonly version: string;
  /** How the system is configured for this benchmark, in words (concurrency, polling, durability). */
  readonly settings: string;
  throughput(seconds: number): Promise<ThroughputResult>;
  /** One or more submit paths (the first is the system's main one). */
  latency(samples: number, warmup: number): Promise<LatencyResult[]>;
  /** One or more interruption methods (the first is the system's main one). */
  interrupt(samples: number): Promise<InterruptResult[]>;
  close(): Promise<void>;
}

/**
 * Keeps IN_FLIGHT runs going for `seconds`: `startRun(i, lane)` starts run i on lane 0-7 and
 * resolves when it has completed; a lane starts its next run only then. No run is started after
 * the window; the time ends at the last completion.
 */
export async function keepInFlight(seconds: number, startRun: (i: number, lane: number) => Promise<void>): Promise<ThroughputResult> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  let runs = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, lane) => {
      while (performance.now() < end) {
        await startRun(next++, lane);
        runs++;
      }
    }),
  );
  const ms = performance.now() - start;
  return { runs, steps: runs * STEPS, ms, stepsPerSec: ((runs * STEPS) / ms) * 1000 };
}

/** A promise with its resolve function, for "the first line ran" signals. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects after `ms` naming `what`, so a stuck sample fails the run instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
