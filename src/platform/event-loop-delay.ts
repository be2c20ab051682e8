import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop delay over one sampling window, in seconds (zeros when nothing was sampled). */
export interface EventLoopDelaySample {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** How many delays were sampled in the window. */
  readonly count: number;
}

/** This process's event-loop delay, sampled by Node's own timer (`perf_hooks.monitorEventLoopDelay`). */
export interface EventLoopDelayMonitor {
  /** The delays since the previous `take()` (or since the monitor opened), then starts a new window. */
  take(): EventLoopDelaySample;
  /** Stops sampling. */
  close(): void;
}

const NS_PER_S = 1e9;

/**
 * Starts sampling this process's event-loop delay every `resolutionMs` (default 20): how much
 * later than due a timer of that period fires. The sampling timer is Node's own: it keeps the
 * process from exiting no more than a `setTimeout(...).unref()` would, and costs one timer per
 * resolution.
 */
export function openEventLoopDelayMonitor(resolutionMs = 20): EventLoopDelayMonitor {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // The histogram records the time between two ticks of its timer: the resolution plus the delay.
  const delay = (ns: number) => Math.max(0, ns / NS_PER_S - resolutionMs / 1000);
  return {
    take() {
      const count = histogram.count;
      const sample =
        count === 0
          ? { p50: 0, p90: 0, p99: 0, max: 0, mean: 0, count: 0 }
          : {
              p50: delay(histogram.percentile(50)),
              p90: delay(histogram.percentile(90)),
              p99: delay(histogram.percentile(99)),
              max: delay(histogram.max),
              mean: delay(histogram.mean),
              count,
            };
      histogram.reset();
      return sample;
    },
    close() {
      histogram.disable();
    },
  };
}
