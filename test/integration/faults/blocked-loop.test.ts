// A step that blocks its kernel's event loop (a synchronous build, an `execSync`) with a second
// kernel process on the same SQLite file, each process its own host, so the key can pass only by
// lease expiry (K1, K10). Before the lease keeper thread, a 2.5 s block under a 1 s lease let the
// other process take the key over mid-step, and the step ran 23 times, alternating between them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, logLines, query, startFixture, until, type Fixture } from '../../support/processes.js';
import { eventLines, payload, type EventLine } from '../../support/fixture-logs.js';

const KEY = 'repo:blocked';

interface OwnerEvent {
  readonly key: string;
  readonly epoch: number;
  readonly reason?: string;
}

/** `epoch=N` and `attempt=N` of a `start` line. */
function field(entry: EventLine, name: string): number {
  const found = entry.fields.find((f) => f.startsWith(`${name}=`));
  if (found === undefined) throw new Error(`no ${name}= in ${entry.kind} ${entry.fields.join(' ')}`);
  return Number(found.slice(name.length + 1));
}

interface StepRow {
  readonly seq: number;
  readonly name: string;
  readonly epoch: number;
}

interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly attempts: number;
  readonly epoch: number;
  readonly result: string;
}

function steps(db: string): StepRow[] {
  return query<StepRow>(
    db,
    'SELECT s.seq, s.name, s.epoch FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.key = ? ORDER BY s.seq',
    KEY,
  );
}

function runs(db: string): RunRow[] {
  return query<RunRow>(db, 'SELECT id, status, attempts, epoch, result FROM runs WHERE key = ?', KEY);
}

/**
 * Two kernels on one file: the first only serves; the second also submits the run. Either may
 * end up owning the key (the first's 50 ms scan races the second's own dispatch); the test finds
 * the owner from the log.
 */
async function twoKernels(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'hf-blocked-'));
  const db = join(dir, 'state.db');
  const log = join(dir, 'events.log');
  const first = startFixture('blocking-kernel.ts', [db, log], env);
  await first.line('ready'); // schema created before the second process opens the file
  const second = startFixture('blocking-kernel.ts', [db, log], { ...env, SUBMIT: '1' });
  await second.line('ready');
  const diagnose = () =>
    `pids ${first.pid}/${second.pid}; owners ${JSON.stringify(query(db, 'SELECT * FROM owners'))}; ` +
    `runs ${JSON.stringify(runs(db))}; log:\n${logLines(log)
      .map((l) => l.join(' '))
      .join('\n')}\nstderr:\n${first.stderr()}${second.stderr()}`;
  await until('the step to start', () => eventLines(log).some((e) => e.kind === 'start'), diagnose);
  const started = eventLines(log).find((e) => e.kind === 'start')!;
  const [owner, other] = started.pid === first.pid ? [first, second] : [second, first];
  expect(owner.pid, 'the step runs in one of the two kernels').toBe(started.pid);
  return { db, log, owner, other, started, diagnose };
}

/** SIGTERM: an orderly kernel stop; resolves once the process exited, so all its writes landed. */
async function stop(fixture: Fixture): Promise<number | null> {
  fixture.child.kill('SIGTERM');
  const { code } = await fixture.exited();
  return code;
}

describe('a step that blocks the event loop', () => {
  it('a 2.5 s block under a 1 s lease: the step executes once, in the owner only, and commits once', async () => {
    const { db, log, owner, other, started, diagnose } = await twoKernels({ OWNER_TTL_MS: '1000', BLOCK_MS: '2500' });
    await until('the run to complete', () => eventLines(log).some((e) => e.kind === 'run:completed'), diagnose);
    expect(isAlive(other.pid), 'the other kernel was serving all along').toBe(true);
    expect(await stop(owner)).toBe(0);
    expect(await stop(other)).toBe(0);

    const all = eventLines(log);
    const of = (kind: string) => all.filter((e) => e.kind === kind);
    expect(of('start'), diagnose()).toHaveLength(1);
    expect([field(started, 'epoch'), field(started, 'attempt')]).toEqual([1, 1]);
    const ended = of('end');
    expect(ended.map((e) => e.pid)).toEqual([owner.pid]);
    expect(ended[0]!.at - started.at, 'the premise: the loop was blocked past the lease').toBeGreaterThanOrEqual(2500);

    expect(of('step:committed').map((e) => e.pid)).toEqual([owner.pid]);
    expect(of('run:completed').map((e) => e.pid)).toEqual([owner.pid]);
    const acquired = of('owner:acquired').filter((e) => payload<OwnerEvent>(e).key === KEY);
    expect(
      acquired.filter((e) => e.pid === other.pid),
      'the other kernel never owned the key',
    ).toEqual([]);
    expect(acquired.map((e) => payload<OwnerEvent>(e).epoch)).toEqual([1]);
    expect(of('owner:lost'), 'the owner never lost the key').toEqual([]);
    expect(of('kernel:hung'), 'a 2.5 s block is slow, not hung').toEqual([]);

    expect(steps(db)).toEqual([{ seq: 0, name: 'block', epoch: 1 }]);
    const [run, ...more] = runs(db);
    expect(more).toEqual([]);
    expect(run).toMatchObject({ status: 'completed', attempts: 1, epoch: 1, result: '"done"' });
  });

  it('a loop blocked past hungAfterMs: the other kernel takes over after the lease, and the hung one commits nothing', async () => {
    const { db, log, owner, other, started, diagnose } = await twoKernels({
      OWNER_TTL_MS: '1000',
      HUNG_AFTER_MS: '1500',
      BLOCK_MS: '6000', // attempt 1 only: the survivor's attempt does not block
    });
    const hung = owner;
    const survivor = other;
    const hungEpoch = field(started, 'epoch');
    const done = (e: EventLine) => e.kind === 'run:completed';
    const hungEnded = (e: EventLine) => e.kind === 'end' && e.pid === hung.pid;
    const hungLost = (e: EventLine) => e.kind === 'owner:lost' && e.pid === hung.pid;
    await until(
      'the run to complete and the hung kernel to come back and give the key up',
      () => [done, hungEnded, hungLost].every((p) => eventLines(log).some(p)),
      diagnose,
    );
    expect(await stop(hung)).toBe(0);
    expect(await stop(survivor)).toBe(0);

    const all = eventLines(log);
    const by = (pid: number, kind: string) => all.filter((e) => e.pid === pid && e.kind === kind);

    // The survivor took the key over under a higher epoch, not before the hung threshold, and
    // while the hung kernel's loop was still blocked.
    const takeover = by(survivor.pid, 'owner:acquired').find((e) => payload<OwnerEvent>(e).key === KEY);
    expect(takeover, diagnose()).toBeDefined();
    const survivorEpoch = payload<OwnerEvent>(takeover!).epoch;
    expect(survivorEpoch).toBeGreaterThan(hungEpoch);
    expect(takeover!.at - started.at, 'no takeover before the loop counted as hung').toBeGreaterThanOrEqual(1000);
    const lateEnd = by(hung.pid, 'end')[0]!;
    expect(takeover!.index).toBeLessThan(lateEnd.index);

    // The survivor ran the step once, at its epoch, and completed the run; its commit came
    // before the hung kernel's step even returned.
    const survivorStarts = by(survivor.pid, 'start');
    expect(survivorStarts).toHaveLength(1);
    expect([field(survivorStarts[0]!, 'epoch'), field(survivorStarts[0]!, 'attempt')]).toEqual([survivorEpoch, 2]);
    expect(all.filter((e) => e.kind === 'start')).toHaveLength(2);
    const commits = all.filter((e) => e.kind === 'step:committed');
    expect(commits.map((e) => e.pid)).toEqual([survivor.pid]);
    expect(commits[0]!.index).toBeLessThan(lateEnd.index);
    expect(all.filter(done).map((e) => e.pid)).toEqual([survivor.pid]);

    // The hung kernel said it was hung, lost the key as lapsed, and committed nothing.
    expect(by(hung.pid, 'kernel:hung').map((e) => payload<{ hung: boolean }>(e).hung)).toContain(true);
    expect(by(hung.pid, 'owner:lost').map((e) => payload<OwnerEvent>(e))).toEqual([{ key: KEY, epoch: hungEpoch, reason: 'lapsed' }]);
    expect(by(hung.pid, 'step:committed')).toEqual([]);
    expect(by(hung.pid, 'run:completed')).toEqual([]);
    expect(all.filter((e) => e.kind === 'run:failed')).toEqual([]);

    expect(steps(db)).toEqual([{ seq: 0, name: 'block', epoch: survivorEpoch }]);
    const [run, ...more] = runs(db);
    expect(more).toEqual([]);
    expect(run).toMatchObject({ status: 'completed', attempts: 2, epoch: survivorEpoch, result: '"done"' });
  });
});
