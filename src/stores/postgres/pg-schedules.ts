import { scheduleConflict } from '../../core/schedule-record.js';
import type { ScheduleStore } from '../../ports/store.js';
import type { PgContext } from './pg-context.js';
import { toSchedule, type ScheduleRow } from './pg-rows.js';

/**
 * The Postgres store's schedules (D4): a tick moves and its command is enqueued in one transaction.
 * Kernels that fire one tick together race on the schedule's row: the first locks it and moves the
 * tick; the others skip the locked row (`SKIP LOCKED`) and learn at once that another kernel fires
 * this tick. Should the first roll back, the tick is still due and the next poll fires it.
 */
export function pgSchedules(c: PgContext): ScheduleStore {
  const { db, s } = c;
  return {
    putSchedule: (schedule) =>
      db.transaction(async (sql) => {
        const inserted = await sql.query(
          `INSERT INTO ${s}.schedules (id, key, flow, input, priority, timing, catch_up, next_fire_at, last_fire_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
          [
            schedule.id,
            schedule.key,
            schedule.flow,
            JSON.stringify(schedule.input),
            schedule.priority,
            JSON.stringify(schedule.timing),
            schedule.catchUp,
            schedule.nextFireAt,
            schedule.lastFireAt,
            schedule.createdAt,
          ],
        );
        if (inserted.rowCount === 1) return schedule;
        const existing = toSchedule((await c.first<ScheduleRow>(sql, `SELECT * FROM ${s}.schedules WHERE id = $1`, [schedule.id]))!);
        const differs = scheduleConflict(existing, schedule);
        if (differs) throw differs;
        return existing;
      }),

    deleteSchedule: (id) =>
      db.transaction(async (sql) => ((await sql.query(`DELETE FROM ${s}.schedules WHERE id = $1`, [id])).rowCount ?? 0) > 0),

    async listSchedules() {
      return (await db.read((sql) => c.rows<ScheduleRow>(sql, `SELECT * FROM ${s}.schedules ORDER BY id`))).map(toSchedule);
    },

    async dueSchedules(now) {
      const text = `SELECT * FROM ${s}.schedules WHERE next_fire_at <= $1 ORDER BY next_fire_at, id`;
      return (await db.read((sql) => c.rows<ScheduleRow>(sql, text, [now]))).map(toSchedule);
    },

    fireSchedule: (request) =>
      db.transaction(async (sql) => {
        const firedAt = request.command ? request.fireAt : null;
        const moved = await sql.query(
          `UPDATE ${s}.schedules SET next_fire_at = $3, last_fire_at = coalesce($4, last_fire_at)
           WHERE id = (SELECT id FROM ${s}.schedules WHERE id = $1 AND next_fire_at = $2 FOR UPDATE SKIP LOCKED)`,
          [request.id, request.fireAt, request.nextAt, firedAt],
        );
        if (moved.rowCount === 0) return undefined;
        if (!request.command) return null;
        return c.enqueue(sql, request.command);
      }),
  };
}
