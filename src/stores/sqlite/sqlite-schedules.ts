import { scheduleConflict } from '../../core/schedule-record.js';
import type { ScheduleRecord } from '../../model/index.js';
import type { EnqueueResult, ScheduleStore } from '../../ports/store.js';
import { fromSchedule, toRun, toSchedule, type RunRow, type ScheduleRow } from './rows.js';
import type { SqliteContext } from './sqlite-context.js';

/** The SQLite store's schedules (D4): a tick moves and its command is enqueued in one transaction. */
export function sqliteSchedules(c: SqliteContext): ScheduleStore {
  const { d, q, batcher } = c;
  return {
    putSchedule(schedule: ScheduleRecord): Promise<ScheduleRecord> {
      return batcher.write(() => {
        const row = d.schedule.get(schedule.id) as ScheduleRow | undefined;
        if (row) {
          const existing = toSchedule(row);
          const differs = scheduleConflict(existing, schedule);
          if (differs) throw differs;
          return existing;
        }
        d.insertSchedule.run(fromSchedule(schedule));
        return schedule;
      });
    },

    deleteSchedule(id: string): Promise<boolean> {
      return batcher.write(() => d.deleteSchedule.run(id).changes > 0);
    },

    async listSchedules(): Promise<ScheduleRecord[]> {
      return c.read(() => d.schedules.all() as ScheduleRow[]).map(toSchedule);
    },

    async dueSchedules(now: number): Promise<ScheduleRecord[]> {
      return c.read(() => d.dueSchedules.all(now) as ScheduleRow[]).map(toSchedule);
    },

    fireSchedule(request): Promise<EnqueueResult | null | undefined> {
      return batcher.write(() => {
        const firedAt = request.command ? request.fireAt : null;
        if (d.advanceSchedule.run({ id: request.id, fireAt: request.fireAt, nextAt: request.nextAt, firedAt }).changes === 0)
          return undefined;
        if (!request.command) return null;
        const existing = q.runByIdem.get(request.command.idempotencyKey) as RunRow | undefined;
        if (existing) return { run: toRun(existing), created: false };
        c.insertRun(request.command);
        return { run: c.run(request.command.id)!, created: true };
      });
    },
  };
}
