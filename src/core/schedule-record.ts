import { HoldfastError } from '../errors.js';
import type { Json, ScheduleRecord } from '../model/index.js';
import { sameJson } from './json-value.js';

/**
 * A schedule registered again (every kernel registers its schedules at start) must be the same
 * schedule: the error names the first field that differs, or undefined when nothing does.
 */
export function scheduleConflict(existing: ScheduleRecord, next: ScheduleRecord): HoldfastError | undefined {
  const fields: [string, Json, Json][] = [
    ['key', existing.key, next.key],
    ['flow', existing.flow, next.flow],
    ['input', existing.input, next.input],
    ['priority', existing.priority, next.priority],
    ['timing', existing.timing, next.timing],
    ['catchUp', existing.catchUp, next.catchUp],
  ];
  const differs = fields.find(([, a, b]) => !sameJson(a, b));
  if (!differs) return undefined;
  return new HoldfastError(
    'schedule_conflict',
    `schedule ${JSON.stringify(existing.id)} is already registered with another ${differs[0]} (${JSON.stringify(differs[1])}, not ${JSON.stringify(differs[2])}); delete it first (kernel.unschedule) or use another id`,
  );
}
