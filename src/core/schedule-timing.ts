import { Cron } from 'croner';
import { InvalidInputError } from '../errors.js';
import type { Millis, ScheduleRecord, ScheduleTiming } from '../model/index.js';
import { shownValue } from './shown-value.js';

/** A tick fired more than this late counts as missed (the kernels were down), whatever its period. */
export const MISSED_AFTER_MS = 60_000;

/**
 * The first tick of `timing` strictly after `after`, or null when there is none (a one-off
 * schedule past its instant). `every` ticks are `anchor + k * every`. Pure: the cron library
 * computes, it runs no timer.
 */
export function nextTick(timing: ScheduleTiming, after: Millis, anchor: Millis): Millis | null {
  if ('every' in timing) {
    const k = Math.floor((after - anchor) / timing.every) + 1;
    return anchor + Math.max(1, k) * timing.every;
  }
  if ('at' in timing) return timing.at > after ? timing.at : null;
  const next = cronOf(timing).nextRun(new Date(after));
  return next === null ? null : next.getTime();
}

/**
 * The first tick of a schedule registered at `now`: an `every` or `cron` schedule's first tick
 * after `now`; a one-off's instant, even past (it fires once, at once, and counts as missed when
 * more than a minute late, so `catchUp: false` skips it).
 */
export function firstTick(timing: ScheduleTiming, now: Millis): Millis | null {
  return 'at' in timing ? timing.at : nextTick(timing, now, now);
}

/**
 * What firing a due schedule at `now` means (D4): the due tick is fired once, even when several
 * were missed while no kernel ran (`catchUp`), or skipped when it was missed and `catchUp` is
 * false; either way the schedule moves to its first tick after `now`. A tick is missed when a
 * later one is also due, or when it is more than a minute late.
 */
export function decideFire(
  schedule: ScheduleRecord,
  now: Millis,
): { readonly fireAt: Millis; readonly nextAt: Millis | null; readonly skip: boolean } {
  const fireAt = schedule.nextFireAt!;
  const following = nextTick(schedule.timing, fireAt, schedule.createdAt);
  const missed = (following !== null && following <= now) || now - fireAt > MISSED_AFTER_MS;
  return { fireAt, nextAt: nextTick(schedule.timing, now, schedule.createdAt), skip: missed && !schedule.catchUp };
}

/** Checks a schedule's timing (exactly one of every, cron, at); the error names the field. */
export function checkTiming(value: { every?: unknown; cron?: unknown; timezone?: unknown; at?: unknown }, where: string): ScheduleTiming {
  const given = (['every', 'cron', 'at'] as const).filter((k) => value[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidInputError(
      `${where}: give exactly one of every, cron or at (got ${given.length ? given.join(', ') : 'none'})`,
      'invalid_schedule',
    );
  }
  if (value.every !== undefined) {
    if (typeof value.every !== 'number' || !Number.isFinite(value.every) || value.every < 1) {
      throw new InvalidInputError(
        `${where}: every must be a positive number of milliseconds, got ${shownValue(value.every)}`,
        'invalid_schedule',
      );
    }
    return { every: value.every };
  }
  if (value.at !== undefined) {
    const at = value.at instanceof Date ? value.at.getTime() : value.at;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidInputError(`${where}: at must be a Date or epoch milliseconds, got ${shownValue(value.at)}`, 'invalid_schedule');
    }
    return { at };
  }
  if (typeof value.cron !== 'string')
    throw new InvalidInputError(`${where}: cron must be a string such as "0 * * * *"`, 'invalid_schedule');
  if (value.timezone !== undefined && typeof value.timezone !== 'string') {
    throw new InvalidInputError(`${where}: timezone must be an IANA zone name such as "Europe/Paris"`, 'invalid_schedule');
  }
  const timing: ScheduleTiming = value.timezone === undefined ? { cron: value.cron } : { cron: value.cron, timezone: value.timezone };
  try {
    cronOf(timing);
  } catch (error) {
    throw new InvalidInputError(
      `${where}: cron ${JSON.stringify(value.cron)} is not valid (${(error as Error).message}); use five or six fields, e.g. "0 * * * *"`,
      'invalid_schedule',
    );
  }
  return timing;
}

function cronOf(timing: { readonly cron: string; readonly timezone?: string }): Cron {
  return new Cron(timing.cron, { paused: true, timezone: timing.timezone ?? 'UTC' });
}
