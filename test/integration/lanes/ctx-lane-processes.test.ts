/**
 * ctx.lane across real kernel processes on one SQLite file: a run whose tree overlaps another
 * run's lane waits and proceeds after the release (or fails with lane_refused); after a SIGKILL
 * of the holder's process the waiter proceeds only once the lease's TTL + grace has passed; a run
 * recovered after a SIGKILL in the middle of its lane block keeps the same lease.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isAlive, logLines, query, startFixture, until, type Fixture } from '../../support/processes.js';

const KERNEL = join('..', 'integration', 'lanes', 'fixtures', 'lane-flow-kernel.ts');

interface JournalRow {
  seq: number;
  op: string;
  at: number;
  lane: string | null;
  lease: number | null;
  holder: string | null;
  run_id: string | null;
  ttl_minutes: number | null;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hf-ctx-lane-'));
  const db = join(dir, 'state.db');
  const log = join(dir, 'events.log');
  new Database(db).close();
  const start = (mode: 'hold' | 'edit' | 'serve', env: Record<string, string> = {}): Fixture =>
    startFixture(KERNEL, [db, log, dir, mode], env);
  const journal = () =>
    query<JournalRow>(db, 'SELECT seq, op, at, lane, lease, holder, run_id, ttl_minutes FROM lane_journal ORDER BY seq');
  const lines = (kind: string) => logLines(log).filter((l) => l[0] === kind);
  const run = (key: string) =>
    query<{ id: string; status: string; error_code: string | null; error_message: string | null }>(
      db,
      'SELECT id, status, error_code, error_message FROM runs WHERE key = ?',
      key,
    )[0];
  const diagnose = () =>
    `journal: ${JSON.stringify(journal())}\nlog:\n${logLines(log)
      .map((l) => l.join(' '))
      .join('\n')}`;
  return { dir, db, start, journal, lines, run, diagnose, release: () => writeFileSync(join(dir, 'release'), '') };
}

/** The `fn-start`/`fn-end` lines of a flow: [kind, flow, runId, lease, generation, pid, ms]. */
const of = (lines: string[][], flow: string) => lines.filter((l) => l[1] === flow);

describe('ctx.lane across processes', () => {
  it('the second run waits while the first holds an overlapping tree, and starts its function only after the release', async () => {
    const t = setup();
    const holder = t.start('hold');
    await holder.line('ready');
    await until('the holder inside its lane', () => of(t.lines('fn-start'), 'hold').length === 1, t.diagnose);
    const editor = t.start('edit');
    await editor.line('ready');
    await until('the editor waiting for the lane', () => t.lines('run:waiting').some((l) => l[1]!.includes('"kind":"lane"')), t.diagnose);
    expect(of(t.lines('fn-start'), 'edit')).toEqual([]);
    t.release();
    await until(
      'both runs completed',
      () => t.run('repo:a')?.status === 'completed' && t.run('repo:b')?.status === 'completed',
      t.diagnose,
    );

    const journal = t.journal();
    const holdLease = journal.find((r) => r.op === 'acquire' && r.lane === 'api')!;
    const released = journal.find((r) => r.op === 'release' && r.lease === holdLease.seq)!;
    const editAcquire = journal.find((r) => r.op === 'acquire' && r.lane === 'web')!;
    expect(journal.filter((r) => r.op === 'refuse').every((r) => r.seq < released.seq)).toBe(true);
    expect(editAcquire.seq).toBeGreaterThan(released.seq);
    expect(editAcquire.at).toBeGreaterThanOrEqual(released.at);
    const holdEnd = Number(of(t.lines('fn-end'), 'hold')[0]![6]);
    const editStart = Number(of(t.lines('fn-start'), 'edit')[0]![6]);
    expect(editStart).toBeGreaterThanOrEqual(holdEnd);
    expect(holdLease.holder).toMatch(new RegExp(`^run:${t.run('repo:a')!.id}/0@\\d+$`));
  });

  it("with onRefuse 'fail' the second run fails with lane_refused naming the holding run", async () => {
    const t = setup();
    const holder = t.start('hold');
    await until('the holder inside its lane', () => of(t.lines('fn-start'), 'hold').length === 1, t.diagnose);
    t.start('edit', { ON_REFUSE: 'fail' });
    await until('the editor failed', () => t.run('repo:b')?.status === 'failed', t.diagnose);
    const failed = t.run('repo:b')!;
    expect(failed.error_code).toBe('lane_refused');
    expect(failed.error_message).toContain(`held by run ${t.run('repo:a')!.id}`);
    expect(of(t.lines('fn-start'), 'edit')).toEqual([]);
    t.release();
    await until('the holder completed', () => t.run('repo:a')?.status === 'completed', t.diagnose);
    expect(holder.stderr()).not.toMatch(/Error/);
  });

  it("after a SIGKILL of the holder's process the waiter proceeds once the lease's TTL + grace has passed, never before", async () => {
    const t = setup();
    const env = { SEPARATE_HOSTS: '1', TTL_MS: '2000', LANE_GRACE_MS: '500' };
    const holder = t.start('hold', env);
    await until('the holder inside its lane', () => of(t.lines('fn-start'), 'hold').length === 1, t.diagnose);
    const editor = t.start('edit', env);
    await editor.line('ready');
    await until('the editor waiting', () => t.lines('run:waiting').length > 0, t.diagnose);
    holder.child.kill('SIGKILL');
    await holder.exited();
    expect(isAlive(holder.pid)).toBe(false);
    await until('the editor completed', () => t.run('repo:b')?.status === 'completed', t.diagnose);

    const journal = t.journal();
    const lease = journal.find((r) => r.op === 'acquire' && r.lane === 'api')!;
    expect(lease.ttl_minutes! * 60_000).toBeCloseTo(2_000);
    const lastBeat = Math.max(
      ...journal.filter((r) => r.seq === lease.seq || (r.lease === lease.seq && r.op !== 'scavenge')).map((r) => r.at),
    );
    const expiry = lastBeat + 2_000 + 500;
    const editAcquire = journal.find((r) => r.op === 'acquire' && r.lane === 'web')!;
    // The dead holder's lease was scavenged by the acquire that replaced it, after its expiry.
    const scavenge = journal.find((r) => r.op === 'scavenge' && r.lease === lease.seq)!;
    expect(scavenge.seq).toBe(editAcquire.seq - 1);
    expect(editAcquire.at).toBeGreaterThan(expiry);
    expect(journal.filter((r) => r.op === 'acquire' && r.lane === 'web')).toHaveLength(1);
    expect(journal.filter((r) => r.op === 'refuse').every((r) => r.at <= expiry)).toBe(true);
    expect(Number(of(t.lines('fn-start'), 'edit')[0]![6])).toBeGreaterThan(expiry);
    expect(t.run('repo:a')?.status).toBe('running'); // its key still belongs to the dead process
  });

  it('a run recovered after a SIGKILL in the middle of its lane block resumes the same lease: no second acquire', async () => {
    const t = setup();
    const first = t.start('hold');
    await until('the holder committed its step inside the lane', () => of(t.lines('fn-start'), 'hold').length === 1, t.diagnose);
    await until('the step inside committed', () => query(t.db, "SELECT 1 FROM steps WHERE name = 'inside'").length === 1, t.diagnose);
    first.child.kill('SIGKILL');
    await first.exited();
    const second = t.start('serve');
    await second.line('ready');
    await until('the recovered run inside its lane', () => of(t.lines('fn-start'), 'hold').length === 2, t.diagnose);
    t.release();
    await until('the run completed', () => t.run('repo:a')?.status === 'completed', t.diagnose);

    const starts = of(t.lines('fn-start'), 'hold');
    expect(starts.map((l) => [l[3], l[4]])).toEqual([
      ['1', '1'],
      ['1', '1'],
    ]);
    expect(starts.map((l) => l[5])).toEqual([String(first.pid), String(second.pid)]);
    const journal = t.journal();
    expect(journal.filter((r) => r.op !== 'heartbeat').map((r) => [r.op, r.lease ?? r.seq])).toEqual([
      ['acquire', 1],
      ['adopt', 1],
      ['release', 1],
    ]);
    const adopt = journal.find((r) => r.op === 'adopt')!;
    expect(adopt.holder).not.toBe(journal[0]!.holder); // the new owner's epoch
    expect(query<{ name: string }>(t.db, 'SELECT name FROM steps ORDER BY seq').map((s) => s.name)).toEqual([
      'lane:api',
      'inside',
      'lane-end:api',
    ]);
  });
});
