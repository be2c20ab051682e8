// D8 with a real provider child: a run past its deadline while an execProvider turn is running
// ends through the interrupt path (failed, code `deadline`), and the provider's whole process
// group, a grandchild that ignores SIGTERM included, is gone within 2 s of the deadline.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProcessGroup } from '../../../src/platform/proc-table.js';
import { isAlive, query, startFixture, until } from '../../support/processes.js';
import { diagnosis, eventsOf, freshFiles, linesOf, pause, terminate } from './support.js';

const FIXTURE = 'durable-deadline-kernel.ts';
const DEADLINE_MS = 1_500;
const KILLED_WITHIN_MS = 2_000;

/** The pids the provider child wrote: `child <pid>` and `grandchild <pid>`. */
function providerPids(file: string): Map<string, number> {
  if (!existsSync(file)) return new Map();
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return new Map(lines.map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
}

describe('deadlines with a real provider child (D8)', () => {
  it('a run inside an execProvider turn past its 1.5 s deadline fails with code deadline and its whole process group is gone within 2 s', async () => {
    const { dir, db, log } = freshFiles('deadline');
    const pidsFile = join(dir, 'pids');
    const kernel = startFixture(FIXTURE, [db, log, pidsFile], { DEADLINE_MS: String(DEADLINE_MS) });
    const diagnose = diagnosis(db, log, [kernel]);
    await until(
      'the provider child and its grandchild to be up',
      () => providerPids(pidsFile).size === 2 && linesOf(log, 'turn:process').length === 1,
      diagnose,
    );
    const pgid = eventsOf<{ pgid: number }>(log, 'turn:process')[0]!.pgid;
    const pids = [...providerPids(pidsFile).values()];
    const { deadline_at: deadlineAt, created_at: createdAt } = query<{ deadline_at: number; created_at: number }>(
      db,
      'SELECT deadline_at, created_at FROM runs',
    )[0]!;
    expect(deadlineAt - createdAt).toBe(DEADLINE_MS);
    const members = listProcessGroup(pgid);
    expect(members, `group ${pgid} holds the watchdog, the child and the grandchild`).toEqual(expect.arrayContaining(pids));
    expect(members.length).toBeGreaterThanOrEqual(3);

    // Watch the group from now on and note the first instant nothing of it is alive.
    const left = () => [...new Set([...listProcessGroup(pgid), ...pids, ...members])].filter(isAlive);
    let goneAt: number | undefined;
    while (goneAt === undefined && Date.now() < deadlineAt + 10_000) {
      if (left().length === 0) goneAt = Date.now();
      else await pause(10);
    }
    expect(goneAt, `still alive 10 s after the deadline: ${JSON.stringify(left())}${diagnose()}`).toBeDefined();
    const afterDeadline = goneAt! - deadlineAt;
    expect(afterDeadline, 'the group lived until the deadline (the child sleeps 60 s)').toBeGreaterThanOrEqual(0);
    expect(afterDeadline, `the group was gone ${afterDeadline} ms after the deadline`).toBeLessThanOrEqual(KILLED_WITHIN_MS);

    await until('the run to fail', () => linesOf(log, 'run:failed').length === 1, diagnose);
    const failed = eventsOf<{ error: { code: string } }>(log, 'run:failed')[0]!;
    expect(failed.error.code).toBe('deadline');
    expect(query(db, 'SELECT status, error_code FROM runs'), diagnose()).toEqual([{ status: 'failed', error_code: 'deadline' }]);
    expect(linesOf(log, 'turn:preempted'), 'the turn was interrupted, not left to finish').toHaveLength(1);
    expect(linesOf(log, 'run:completed')).toEqual([]);
    expect(
      query<{ name: string }>(db, 'SELECT name FROM steps').map((s) => s.name),
      'nothing committed past the turn',
    ).toEqual(['plan']);
    expect(await terminate(kernel), diagnose()).toBe(0);
  });
});
