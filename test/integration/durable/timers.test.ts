// D4 and D8 with real processes and the real clock: a durable sleep survives a SIGKILL and a
// restart and wakes at the instant first computed; a schedule registered by two kernel processes
// on one file fires each tick once; a run that sleeps does not hold its key.
import { describe, expect, it } from 'vitest';
import { query, startFixture, until } from '../../support/processes.js';
import { diagnosis, freshFiles, kill, linesOf, pause, payload, terminate } from './support.js';

const FIXTURE = 'durable-timers-kernel.ts';

interface Fired {
  readonly scheduleId: string;
  readonly fireAt: number;
  readonly runId: string | null;
}

describe('durable timers with real processes (D4)', () => {
  it('a 6 s sleep, kernel SIGKILLed at second 2, a new kernel at second 4: the post-sleep step runs once, at second 6', async () => {
    const { db, log } = freshFiles('timers-sleep');
    const first = startFixture(FIXTURE, [db, log, 'nap'], { SUBMIT: '1', NAP_MS: '6000' });
    const diagnose = diagnosis(db, log, [first]);
    await until('the run to enter its sleep', () => linesOf(log, 'run:waiting').length > 0, diagnose);
    const start = linesOf(log, 'sleep-start')[0]!.at;
    await pause(start + 2_000 - Date.now());
    await kill(first);
    expect(query(db, 'SELECT r.status, w.kind FROM runs r JOIN waits w ON w.run_id = r.id'), diagnose()).toEqual([
      { status: 'waiting', kind: 'timer' },
    ]);

    await pause(start + 4_000 - Date.now());
    const second = startFixture(FIXTURE, [db, log, 'nap']);
    const again = diagnosis(db, log, [first, second]);
    await until('the run to complete', () => linesOf(log, 'run:completed').length > 0, again);
    const after = linesOf(log, 'after');
    expect(after, again()).toHaveLength(1);
    expect(after[0]!.pid, 'woken by the new kernel').toBe(second.pid);
    const elapsed = after[0]!.at - start;
    expect(elapsed, `post-sleep step ran ${elapsed} ms after the sleep started`).toBeGreaterThanOrEqual(5_500);
    expect(elapsed, `post-sleep step ran ${elapsed} ms after the sleep started`).toBeLessThanOrEqual(6_500);
    expect(linesOf(log, 'sleep-start'), 'the step before the sleep is not run again').toHaveLength(1);
    expect(query(db, 'SELECT status, result FROM runs'), again()).toEqual([{ status: 'completed', result: '"rested"' }]);
    expect(query(db, 'SELECT * FROM waits')).toEqual([]);
    expect(await terminate(second), again()).toBe(0);
  });

  it('a schedule every 1000 ms registered by two kernel processes on one file fires each tick exactly once', async () => {
    const { db, log } = freshFiles('timers-schedule');
    // A 5 s safety-net poll: under heavy load both kernels' wake timers have been seen to stop
    // re-arming after a few ticks (not yet explained); the poll must then catch up exactly once.
    const poll = { POLL_MS: '5000' };
    const first = startFixture(FIXTURE, [db, log, 'schedule'], poll);
    await first.line('ready'); // the schema exists before the second process opens the file
    const second = startFixture(FIXTURE, [db, log, 'schedule'], poll);
    await second.line('ready');
    const diagnose = diagnosis(db, log, [first, second]);
    const began = Date.now();
    await until('five seconds of ticks', () => Date.now() - began >= 5_000 && linesOf(log, 'tick-ran').length >= 5, diagnose);
    // Stop both right after a tick ran, far from the next one.
    const ran = linesOf(log, 'tick-ran').length;
    await until('the next tick to run', () => linesOf(log, 'tick-ran').length > ran, diagnose);
    expect(await Promise.all([terminate(first), terminate(second)]), diagnose()).toEqual([0, 0]);

    const events = linesOf(log, 'schedule:fired').map((line) => ({ ...payload<Fired>(line), by: line.pid === first.pid ? 1 : 2 }));
    const fireAts = events.map((e) => e.fireAt).sort((a, b) => a - b);
    const summary = `fired (fireAt, kernel): ${JSON.stringify(events.map((e) => [e.fireAt, e.by]))}`;
    expect(events.length, summary).toBeGreaterThanOrEqual(6);
    expect(
      events.every((e) => e.scheduleId === 'tick' && e.runId !== null),
      summary,
    ).toBe(true);
    expect(new Set(fireAts).size, `no tick fired twice: ${summary}`).toBe(fireAts.length);
    const gaps = fireAts.slice(1).map((at, i) => at - fireAts[i]!);
    expect(gaps, `no tick skipped: ${summary}`).toEqual(gaps.map(() => 1_000));
    const [schedule] = query<{ created_at: number; last_fire_at: number }>(db, 'SELECT created_at, last_fire_at FROM schedules');
    expect(fireAts[0], `the first tick is one period after the first registration: ${summary}`).toBe(schedule!.created_at + 1_000);
    expect(schedule!.last_fire_at).toBe(fireAts.at(-1));

    // The commands: one per tick, under `schedule:<id>:<fireAt>`, each run executed at most once.
    const rows = query<{ id: string; idempotency_key: string; status: string }>(
      db,
      "SELECT id, idempotency_key, status FROM runs WHERE flow = 'tick' ORDER BY seq",
    );
    expect(rows.map((r) => r.idempotency_key).sort(), diagnose()).toEqual(fireAts.map((at) => `schedule:tick:${at}`).sort());
    expect(rows.map((r) => r.id).sort()).toEqual(events.map((e) => e.runId).sort());
    const executed = linesOf(log, 'tick-ran').map((l) => l.fields[0]!);
    expect(new Set(executed).size, 'no scheduled run executed twice').toBe(executed.length);
    expect(events.length - executed.length, `every fired run ran but maybe the last: ${summary}`).toBeLessThanOrEqual(1);
    expect(query(db, 'SELECT id FROM schedules'), 'registered twice, stored once').toEqual([{ id: 'tick' }]);
  });

  it('other runs of a key execute while one run of it sleeps', async () => {
    const { db, log } = freshFiles('timers-siblings');
    const kernel = startFixture(FIXTURE, [db, log, 'siblings'], { NAP_MS: '5000' });
    const diagnose = diagnosis(db, log, [kernel]);
    await until('both quick runs to complete', () => linesOf(log, 'run:completed').length >= 2, diagnose);
    const sleeper = linesOf(log, 'sleep-start')[0]!.fields[0]!;
    expect(linesOf(log, 'after'), 'the sleeper has not woken yet').toEqual([]);
    expect(query(db, 'SELECT r.status, w.kind FROM runs r JOIN waits w ON w.run_id = r.id WHERE r.id = ?', sleeper)).toEqual([
      { status: 'waiting', kind: 'timer' },
    ]);
    expect(query(db, "SELECT status FROM runs WHERE flow = 'quick'")).toEqual([{ status: 'completed' }, { status: 'completed' }]);

    await until('the sleeper to complete', () => linesOf(log, 'run:completed').length >= 3, diagnose);
    const order = linesOf(log, 'sleep-start')
      .concat(linesOf(log, 'quick'), linesOf(log, 'after'))
      .sort((a, b) => a.index - b.index)
      .map((l) => (l.kind === 'quick' ? `quick ${l.fields[1]}` : l.kind));
    expect(order).toEqual(['sleep-start', 'quick 1', 'quick 2', 'after']);
    expect(query(db, 'SELECT flow, status FROM runs ORDER BY seq')).toEqual([
      { flow: 'nap', status: 'completed' },
      { flow: 'quick', status: 'completed' },
      { flow: 'quick', status: 'completed' },
    ]);
    expect(await terminate(kernel), diagnose()).toBe(0);
  });
});
