import { scheduleConflict } from '../../core/schedule-record.js';
import type { ScheduleRecord } from '../../model/index.js';
import type { EnqueueResult, NewCommand, ScheduleStore } from '../../ports/store.js';
import type { MemoryState } from './memory-state.js';

/** The memory store's schedules (D4); firing a tick and enqueuing its command happen together. */
export function memorySchedules(s: MemoryState, enqueue: (command: NewCommand) => Promise<EnqueueResult>): ScheduleStore {
  return {
    async putSchedule(schedule: ScheduleRecord): Promise<ScheduleRecord> {
      s.open();
      const existing = s.schedules.get(schedule.id);
      if (existing) {
        const differs = scheduleConflict(existing, schedule);
        if (differs) throw differs;
        return structuredClone(existing);
      }
      s.schedules.set(schedule.id, structuredClone(schedule));
      return structuredClone(schedule);
    },

    async deleteSchedule(id: string): Promise<boolean> {
      s.open();
      return s.schedules.delete(id);
    },

    async listSchedules(): Promise<ScheduleRecord[]> {
      return [...s.schedules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((x) => structuredClone(x));
    },

    async dueSchedules(now: number): Promise<ScheduleRecord[]> {
      return [...s.schedules.values()].filter((x) => x.nextFireAt !== null && x.nextFireAt <= now).map((x) => structuredClone(x));
    },

    async fireSchedule(request) {
      s.open();
      const schedule = s.schedules.get(request.id);
      if (!schedule || schedule.nextFireAt !== request.fireAt) return undefined;
      s.schedules.set(schedule.id, {
        ...schedule,
        nextFireAt: request.nextAt,
        lastFireAt: request.command ? request.fireAt : schedule.lastFireAt,
      });
      return request.command ? enqueue(request.command) : null;
    },
  };
}
