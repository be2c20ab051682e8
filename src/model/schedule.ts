import type { Json } from './json.js';
import type { Key, Millis } from './ids.js';
import type { Priority } from './run.js';

/** When a schedule fires: every N ms, on a cron expression (in a time zone), or once at an instant. */
export type ScheduleTiming = { readonly every: number } | { readonly cron: string; readonly timezone?: string } | { readonly at: Millis };

/** A recurring (or one-off) command (D4), fired once per tick however many kernels share the store. */
export interface ScheduleRecord {
  readonly id: string;
  readonly key: Key;
  readonly flow: string;
  readonly input: Json;
  readonly priority: Priority;
  readonly timing: ScheduleTiming;
  /** A tick missed while nothing ran is fired once (true) or skipped (false). */
  readonly catchUp: boolean;
  /** The next tick, or null once a one-off schedule has fired. */
  readonly nextFireAt: Millis | null;
  readonly lastFireAt: Millis | null;
  readonly createdAt: Millis;
}
