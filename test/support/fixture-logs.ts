// Reading the logs fault-test fixtures append to. Two shapes are in use:
//   event lines  `<kind> <fields...> <pid> <ms>`  (blocking-kernel, paused-kernel)
//   timed lines  `<ms> <what> <json>`             (outage-kernel, stuck-kernel)
import { logLines } from './processes.js';

/** One event line, in append order. */
export interface EventLine {
  readonly index: number;
  readonly kind: string;
  readonly fields: readonly string[];
  readonly pid: number;
  readonly at: number;
}

export function eventLines(file: string): EventLine[] {
  return logLines(file).map((parts, index) => ({
    index,
    kind: parts[0] ?? '',
    fields: parts.slice(1, -2),
    pid: Number(parts.at(-2)),
    at: Number(parts.at(-1)),
  }));
}

/** The JSON payload of an event line (a kernel event logged as `<name> <json>`). */
export function payload<T>(line: EventLine): T {
  return JSON.parse(line.fields.join(' ')) as T;
}

/** A timed line; one still being appended (not yet whole JSON) is left out until it is whole. */
export interface TimedLine {
  readonly at: number;
  readonly what: string;
  readonly data: Record<string, unknown>;
}

export function timedLines(file: string): TimedLine[] {
  return logLines(file).flatMap(([at, what, ...json]) => {
    try {
      return [{ at: Number(at), what: what!, data: JSON.parse(json.join(' ')) as Record<string, unknown> }];
    } catch {
      return [];
    }
  });
}
