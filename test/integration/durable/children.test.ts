// D7 with real processes: the tangle seed's resume scenario. A parent spawns children a, b and c;
// the kernel is SIGKILLed once a and b have settled while c is still blocked; after a restart only
// c runs, no child is spawned twice, and the parent completes with all three outputs. The kill
// lands either from outside (the parent may or may not have released its key by then) or exactly
// as the parent enters its wait for c, while the dead kernel still holds the parent key's lease:
// c's end must still wake the parent at once (a dead local owner's key is taken over at once, K8).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query, startFixture, until } from '../../support/processes.js';
import { diagnosis, eventsOf, freshFiles, kill, linesOf, terminate } from './support.js';

const FIXTURE = 'durable-children-kernel.ts';
const KEY = 'repo:tangle';

interface RunEvent {
  readonly runId: string;
  readonly key: string;
  readonly flow?: string;
  readonly parentId?: string;
}
interface ChildRow {
  readonly id: string;
  readonly key: string;
  readonly flow: string;
  readonly status: string;
  readonly result: string | null;
  readonly idempotency_key: string;
}

/**
 * The first kernel dies with a and b settled and c blocked: SIGKILLed from outside once their
 * run:completed events are logged (`external`), or by itself on the parent's run:waiting event
 * for c (`parent-waits`: before its key runtime releases the idle key, so the dead process still
 * holds the parent key's owner lease when the next kernel starts).
 */
async function killedWithTwoSettled(how: 'external' | 'parent-waits') {
  const { dir, db, log } = freshFiles('children');
  const gate = join(dir, 'gate');
  const first = startFixture(FIXTURE, [db, log, gate], { SUBMIT: '1', KILL_AT: how === 'external' ? '' : how });
  const diagnose = diagnosis(db, log, [first]);
  const settled = () => {
    const children = new Set(eventsOf<RunEvent>(log, 'run:spawned').map((e) => e.runId));
    return eventsOf<RunEvent>(log, 'run:completed').filter((e) => children.has(e.runId));
  };
  await until('a and b to complete while c is blocked', () => settled().length === 2 && linesOf(log, 'blocked').length === 1, diagnose);
  if (how === 'external') await kill(first);
  else await until('the kernel to kill itself', () => first.child.signalCode !== null, diagnose);
  expect((await first.exited()).signal).toBe('SIGKILL');
  return { db, log, gate, first };
}

describe('child runs with real SIGKILL (D7)', () => {
  for (const how of ['external', 'parent-waits'] as const) {
    const when =
      how === 'external' ? 'killed after two children settled' : 'killed as the parent starts waiting for c, its key lease still held';
    it(`${when}: on restart exactly c runs, nothing is spawned twice, the parent completes with all outputs`, async () => {
      const { db, log, gate, first } = await killedWithTwoSettled(how);
      const diagnose = diagnosis(db, log, [first]);
      const spawned = () => eventsOf<RunEvent>(log, 'run:spawned');
      const parentId = query<{ id: string }>(db, "SELECT id FROM runs WHERE flow = 'tangle'")[0]!.id;
      const children = () =>
        query<ChildRow>(db, 'SELECT id, key, flow, status, result, idempotency_key FROM runs WHERE parent_id = ? ORDER BY seq', parentId);
      expect(
        children().map((c) => [c.key, c.status]),
        diagnose(),
      ).toEqual([
        [KEY, 'completed'],
        [`${KEY}/b`, 'completed'],
        [`${KEY}/c`, 'running'],
      ]);
      expect(
        linesOf(log, 'exec')
          .map((l) => l.fields[0])
          .sort(),
      ).toEqual(['a', 'b']);

      if (how === 'parent-waits') {
        expect(query(db, 'SELECT status FROM runs WHERE id = ?', parentId)).toEqual([{ status: 'waiting' }]);
        const owner = query<{ owner_id: string | null }>(db, 'SELECT owner_id FROM owners WHERE key = ?', KEY)[0];
        expect(owner?.owner_id, 'the dead kernel still holds the parent key').toContain(`/${first.pid}/`);
      }

      const second = startFixture(FIXTURE, [db, log, gate]);
      const again = diagnosis(db, log, [first, second]);
      await until('c to be recovered and block again', () => linesOf(log, 'blocked', second.pid).length === 1, again);
      writeFileSync(gate, '');
      const parentDone = () => eventsOf<RunEvent>(log, 'run:completed', second.pid).some((e) => e.runId === parentId);
      await until("c's end to wake the parent and the parent to complete", parentDone, again);

      // Exactly c ran after the restart; a and b executed once in all.
      const execs = linesOf(log, 'exec').map((l) => [l.fields[0], l.pid === first.pid ? 'first' : 'second']);
      expect(execs.sort()).toEqual([
        ['a', 'first'],
        ['b', 'first'],
        ['c', 'second'],
      ]);
      const cId = children()[2]!.id;
      expect(
        eventsOf<RunEvent>(log, 'run:started', second.pid)
          .map((e) => e.runId)
          .filter((id) => id !== parentId),
        'the restarted kernel started no child but c',
      ).toEqual([cId]);
      // No child spawned twice: three spawn events, all before the kill, and three child rows.
      expect(spawned().map((e) => e.parentId)).toEqual([parentId, parentId, parentId]);
      expect(eventsOf<RunEvent>(log, 'run:spawned', second.pid)).toEqual([]);
      expect(
        children().map((c) => [c.key, c.flow, c.status, c.result, c.idempotency_key]),
        again(),
      ).toEqual([
        [KEY, 'child', 'completed', '"out-a"', `${parentId}/spawn/0`],
        [`${KEY}/b`, 'child', 'completed', '"out-b"', `${parentId}/spawn/1`],
        [`${KEY}/c`, 'child', 'completed', '"out-c"', `${parentId}/spawn/2`],
      ]);
      expect(spawned().map((e) => e.runId)).toEqual(children().map((c) => c.id));
      expect(query(db, 'SELECT status, result FROM runs WHERE id = ?', parentId)).toEqual([
        { status: 'completed', result: JSON.stringify(['out-a', 'out-b', 'out-c']) },
      ]);
      expect(query(db, 'SELECT count(*) AS n FROM runs')).toEqual([{ n: 4 }]);
      const journal = query<{ name: string }>(
        db,
        'SELECT s.name FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? ORDER BY s.seq',
        parentId,
      );
      expect(journal.map((s) => s.name)).toEqual(['spawn:child', 'spawn:child', 'spawn:child', 'join', 'join', 'join']);
      expect(await terminate(second), again()).toBe(0);
    });
  }
});
