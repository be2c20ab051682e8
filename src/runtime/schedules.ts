import { decideFire, checkTiming, firstTick } from '../core/schedule-timing.js';
import { findNonJson } from '../core/json-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { InvalidInputError, UnknownFlowError } from '../errors.js';
import { PRIORITIES, type Json, type Key, type Priority, type ScheduleRecord } from '../model/index.js';
import type { Clock, Random } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';

/** What `kernel.schedule` takes (D4): exactly one of `every`, `cron` (with `timezone`) or `at`. */
export interface ScheduleOptions {
  /** Stable id: registering the same id again with the same spec is a no-op. */
  readonly id: string;
  readonly key: Key;
  readonly flow: string;
  readonly input?: Json;
  readonly priority?: Priority;
  /** Every this many milliseconds. */
  readonly every?: number;
  /** A cron expression (five or six fields), in `timezone` (default UTC). */
  readonly cron?: string;
  readonly timezone?: string;
  /** Once, at this instant. */
  readonly at?: Date | number;
  /** A tick missed while no kernel ran is fired once (true, the default) or skipped (false). */
  readonly catchUp?: boolean;
}

/** Builds the schedule record from options; a typed error names any bad field. */
export function scheduleRecord(options: ScheduleOptions, flows: ReadonlySet<string>, now: number): ScheduleRecord {
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('kernel.schedule needs { id, key, flow, every | cron | at }', 'invalid_schedule');
  const { id, key, flow } = options;
  if (typeof id !== 'string' || id === '')
    throw new InvalidInputError('kernel.schedule: id must be a non-empty string', 'invalid_schedule');
  checkWellFormed(id, 'kernel.schedule id', 'invalid_schedule');
  if (typeof key !== 'string' || key.trim() === '')
    throw new InvalidInputError(`schedule ${id}: key must be a non-empty string`, 'invalid_key');
  checkWellFormed(key, `schedule ${id} key`, 'invalid_key');
  if (typeof flow !== 'string' || !flows.has(flow)) throw new UnknownFlowError(String(flow), [...flows]);
  const input = options.input === undefined ? null : options.input;
  const bad = findNonJson(input, 'input');
  if (bad !== undefined) throw new InvalidInputError(`schedule ${id}: input must be plain JSON; it is not at ${bad}`, 'invalid_input');
  const priority = options.priority ?? 'normal';
  if (!PRIORITIES.includes(priority))
    throw new InvalidInputError(`schedule ${id}: priority must be one of ${PRIORITIES.join(', ')}`, 'invalid_priority');
  if (options.catchUp !== undefined && typeof options.catchUp !== 'boolean') {
    throw new InvalidInputError(`schedule ${id}: catchUp must be true or false`, 'invalid_schedule');
  }
  const timing = checkTiming(options, `schedule ${id}`);
  return {
    id,
    key,
    flow,
    input,
    priority,
    timing,
    catchUp: options.catchUp ?? true,
    nextFireAt: firstTick(timing, now),
    lastFireAt: null,
    createdAt: now,
  };
}

/**
 * Fires the schedules due at `now`, each tick once whatever the number of kernels on the store
 * (the store's transaction decides), and returns the keys that got a command.
 */
export async function fireDueSchedules(store: Store, clock: Clock, random: Random, events: KernelEventEmitter): Promise<Key[]> {
  const now = clock.now();
  const keys: Key[] = [];
  for (const schedule of await store.dueSchedules(now)) {
    const { fireAt, nextAt, skip } = decideFire(schedule, now);
    const command = skip
      ? null
      : {
          id: random.uuid(),
          key: schedule.key,
          flow: schedule.flow,
          input: schedule.input,
          idempotencyKey: `schedule:${schedule.id}:${fireAt}`,
          priority: schedule.priority,
          preempt: schedule.priority === 'urgent' ? ('steal' as const) : null,
          now,
        };
    const fired = await store.fireSchedule({ id: schedule.id, fireAt, nextAt, command, now });
    if (fired === undefined) continue; // another kernel fired this tick
    events.emit('schedule:fired', { scheduleId: schedule.id, fireAt, runId: fired?.run.id ?? null });
    if (fired?.created) keys.push(fired.run.key);
  }
  return keys;
}
