import type { Millis, ScheduleRecord } from '../model/index.js';
import type { EnqueueResult, NewCommand } from './run-store.js';

/**
 * Schedules (D4): recurring commands, fired exactly once per tick however many kernels share the
 * store. Unfenced: any kernel may fire a due schedule; the transaction decides who does.
 */
export interface ScheduleStore {
  /**
   * Registers a schedule, or leaves an identical one as it is (kernels register theirs at every
   * start). The same id with another key, flow, input, priority, timing or catch-up throws
   * `schedule_conflict` naming what differs; nothing is written.
   */
  putSchedule(schedule: ScheduleRecord): Promise<ScheduleRecord>;

  /** Removes a schedule; false when there was none. */
  deleteSchedule(id: string): Promise<boolean>;

  listSchedules(): Promise<ScheduleRecord[]>;

  /** Schedules whose next tick is at or before `now`. */
  dueSchedules(now: Millis): Promise<ScheduleRecord[]>;

  /**
   * Fires the tick `fireAt` of schedule `id` in one transaction, only if it is still the schedule's
   * next tick: moves it to `nextAt` and, unless `command` is null (a missed tick skipped), enqueues
   * `command`. Returns what was enqueued, null when skipped, undefined when another kernel fired
   * this tick first.
   */
  fireSchedule(request: {
    readonly id: string;
    readonly fireAt: Millis;
    readonly nextAt: Millis | null;
    readonly command: NewCommand | null;
    readonly now: Millis;
  }): Promise<EnqueueResult | null | undefined>;
}
