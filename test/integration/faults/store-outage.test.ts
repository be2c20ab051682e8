// K11 with real processes: the SQLite store being locked by another process, full, or read-only
// delays a run's commits; it never fails the run and never holds the event loop.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query, startFixture, until, type Fixture } from '../../support/processes.js';
import { timedLines, type TimedLine } from '../../support/fixture-logs.js';
import { mountTinyFs } from '../../support/tiny-fs.js';

interface RunRow {
  readonly status: string;
  readonly result: string | null;
  readonly error_code: string | null;
  readonly error_message: string | null;
}

/** An outage-kernel.ts process on `db`, with its log and control directory outside `db`'s folder. */
async function startKernel(db: string) {
  const dir = mkdtempSync(join(tmpdir(), 'hf-outage-'));
  const log = join(dir, 'kernel.log');
  const fixture = startFixture('outage-kernel.ts', [db, log, dir]);
  await fixture.line('ready');
  const entries = (what?: string): TimedLine[] => timedLines(log).filter((e) => what === undefined || e.what === what);
  const diagnose = () =>
    `kernel log:\n${entries()
      .map((e) => `${e.at} ${e.what} ${JSON.stringify(e.data)}`)
      .join('\n')}\nstderr:\n${fixture.stderr()}`;
  return {
    fixture,
    entries,
    diagnose,
    gate: (name: string) => join(dir, `gate-${name}`),
    /** Has the process submit `options` (it picks the file up within ~50 ms); resolves with the run id. */
    async submit(name: string, options: object): Promise<string> {
      writeFileSync(join(dir, `${name}.tmp`), JSON.stringify(options));
      renameSync(join(dir, `${name}.tmp`), join(dir, `${name}.submit`)); // whole, or not at all
      let runId: string | undefined;
      await until(
        `submit of ${name}`,
        () => (runId = entries('submitted').find((e) => e.data.name === name)?.data.runId as string) !== undefined,
        diagnose,
      );
      return runId!;
    },
  };
}

type Kernel = Awaited<ReturnType<typeof startKernel>>;

function run(db: string, runId: string): RunRow | undefined {
  return query<RunRow>(db, 'SELECT status, result, error_code, error_message FROM runs WHERE id = ?', runId)[0];
}

function stepNames(db: string, runId: string): string[] {
  return query<{ name: string }>(
    db,
    'SELECT s.name FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? ORDER BY s.seq',
    runId,
  ).map((s) => s.name);
}

async function finished(db: string, runId: string, kernel: Kernel, timeoutMs = 30_000): Promise<RunRow> {
  await until(
    `run ${runId} to end`,
    () => ['completed', 'failed', 'cancelled'].includes(run(db, runId)?.status ?? ''),
    kernel.diagnose,
    timeoutMs,
  );
  return run(db, runId)!;
}

/** A "gated" run waiting inside its "gated" step (its step "before" committed). */
async function gatedRun(kernel: Kernel, name: string, key: string, size: number): Promise<{ runId: string; gate: string }> {
  const gate = kernel.gate(name);
  const runId = await kernel.submit(name, { key, flow: 'gated', input: { gate, size }, idempotencyKey: name });
  await until(`${name} inside its gated step`, () => kernel.entries('exec').some((e) => e.data.runId === runId), kernel.diagnose);
  return { runId, gate };
}

/** The run completed with every step committed once, and nothing failed or errored. */
function expectCompletedIntact(db: string, kernel: Kernel, runId: string, row: RunRow, size: number): void {
  expect(row, kernel.diagnose()).toMatchObject({ status: 'completed', error_code: null });
  expect(JSON.parse(row.result!)).toEqual({ before: 'a', gated: size, after: 'b' });
  expect(stepNames(db, runId)).toEqual(['before', 'gated', 'after']);
  // The step function ran once: its result waited in memory for the store to come back.
  expect(kernel.entries('exec').filter((e) => e.data.runId === runId)).toHaveLength(1);
  expect(kernel.entries('run:failed')).toEqual([]);
  expect(kernel.entries('kernel:error')).toEqual([]);
  expect(kernel.entries('owner:lost')).toEqual([]);
}

/** The wall-clock time hold-write-lock.ts printed after `word`. */
function stamp(fixture: Fixture, word: string): number {
  const printed = new RegExp(`^${word} (\\d+)$`, 'm').exec(fixture.stdout());
  if (!printed) throw new Error(`hold-write-lock.ts did not print "${word}"; stdout:\n${fixture.stdout()}`);
  return Number(printed[1]);
}

/**
 * One outage, reported once: a single `store:unavailable` (for the step's commit, after the fault
 * began) and a single `store:recovered`, not before the fault ended: a store that still refuses
 * writes has not recovered, even if reads succeed meanwhile.
 */
function expectOneOutage(kernel: Kernel, fault: { from: number; to: number; reasons: readonly string[] }): number {
  const down = kernel.entries('store:unavailable');
  const up = kernel.entries('store:recovered');
  const events = `store events: ${JSON.stringify([...down, ...up].sort((a, b) => a.at - b.at))}; the fault lasted ${fault.from}..${fault.to}`;
  expect(down, events).toHaveLength(1);
  expect(down[0]!.data.operation, events).toBe('commit step');
  expect(fault.reasons, events).toContain(down[0]!.data.reason);
  expect(down[0]!.at, events).toBeGreaterThanOrEqual(fault.from);
  expect(up, events).toHaveLength(1);
  expect(up[0]!.at, events).toBeGreaterThanOrEqual(fault.to);
  return up[0]!.data.downMs as number;
}

describe('store outages with real processes (K11)', () => {
  it('a step commit that meets another process holding the write lock for 7 s (past the 5 s busy timeout) waits: the run completes', async (ctx) => {
    const db = join(mkdtempSync(join(tmpdir(), 'hf-locked-')), 'state.db');
    const kernel = await startKernel(db);
    const { runId, gate } = await gatedRun(kernel, 'locked', 'repo:locked', 8);
    const holder = startFixture('hold-write-lock.ts', [db, '7000']);
    await holder.line('locked');
    writeFileSync(gate, ''); // the step returns now; its commit meets the lock
    await holder.line('released', 20_000);
    const row = await finished(db, runId, kernel);

    expectCompletedIntact(db, kernel, runId, row, 8);
    const downMs = expectOneOutage(kernel, { from: stamp(holder, 'locked'), to: stamp(holder, 'committing'), reasons: ['locked'] });
    await ctx.annotate(`store unavailable (locked) for ${Math.round(downMs)} ms`);
    const gatedCommit = kernel.entries('step:committed').find((e) => e.data.runId === runId && e.data.name === 'gated');
    expect(gatedCommit!.at).toBeGreaterThanOrEqual(stamp(holder, 'committing'));
  });

  it('while another process holds the write lock for 3 s, a submit and step commits wait for it without holding the event loop', async (ctx) => {
    const db = join(mkdtempSync(join(tmpdir(), 'hf-loop-')), 'state.db');
    const kernel = await startKernel(db);
    const gated = await gatedRun(kernel, 'loop-gated', 'repo:loop-a', 8);
    const holder = startFixture('hold-write-lock.ts', [db, '3000']);
    await holder.line('locked');
    const lockedAt = stamp(holder, 'locked');
    writeFileSync(gated.gate, '');
    const quick = await kernel.submit('loop-quick', { key: 'repo:loop-b', flow: 'quick', input: { n: 5 }, idempotencyKey: 'loop-quick' });
    await holder.line('released', 20_000);
    const gatedRow = await finished(db, gated.runId, kernel);
    const quickRow = await finished(db, quick, kernel);
    const windowEnd = Date.now();

    // The 10 ms ticker kept ticking meanwhile: no gap anywhere near the 3 s lock.
    const gaps = kernel.entries('gap').filter((e) => e.at >= lockedAt && e.at <= windowEnd);
    const longest = Math.max(0, ...gaps.map((e) => e.data.ms as number));
    await ctx.annotate(`longest event-loop gap during the 3 s lock: ${longest} ms (gaps over 100 ms: ${gaps.length})`);
    expect(longest, `ticker gaps during the lock: ${JSON.stringify(gaps.map((g) => g.data.ms))}`).toBeLessThan(1_000);
    expectCompletedIntact(db, kernel, gated.runId, gatedRow, 8);
    expect(quickRow.status).toBe('completed');
    expect(JSON.parse(quickRow.result!)).toBe(15);
    // Both really met the lock: the submit began while it was held and resolved only after it;
    // the step's commit landed only after it.
    const committingAt = stamp(holder, 'committing');
    const submitStart = kernel.entries('submit-start').find((e) => e.data.name === 'loop-quick')!;
    const submitted = kernel.entries('submitted').find((e) => e.data.name === 'loop-quick')!;
    expect(submitStart.at).toBeGreaterThanOrEqual(lockedAt);
    expect(submitStart.at).toBeLessThan(committingAt);
    expect(submitted.at).toBeGreaterThanOrEqual(committingAt);
    const gatedCommit = kernel.entries('step:committed').find((e) => e.data.runId === gated.runId && e.data.name === 'gated');
    expect(gatedCommit!.at).toBeGreaterThanOrEqual(committingAt);
  });

  it('a step commit on a full disk waits until space is freed: the run completes', async (ctx) => {
    const mounted = mountTinyFs(4);
    if ('skip' in mounted) return ctx.skip(mounted.skip);
    const { fs } = mounted;
    const db = join(fs.dir, 'state.db');
    const kernel = await startKernel(db);
    fs.track(kernel.fixture.pid);
    const size = 512 * 1024; // more than the WAL holds already: the commit must grow it
    const { runId, gate } = await gatedRun(kernel, 'full', 'repo:full', size);
    const fullFrom = Date.now();
    expect(fs.fill('filler')).toBeGreaterThan(0);
    writeFileSync(gate, '');
    await until('store:unavailable', () => kernel.entries('store:unavailable').length > 0, kernel.diagnose);
    expect(kernel.entries('store:unavailable')[0]!.data).toMatchObject({ operation: 'commit step', reason: 'full' });
    // The disk stays full a while: the commit is retried several times (50, 100, 200 ... ms) and the
    // kernel's reads (the scan for work) go on meanwhile.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(run(db, runId)?.status).toBe('running');
    const fullTo = Date.now();
    fs.free('filler');
    const row = await finished(db, runId, kernel);

    expectCompletedIntact(db, kernel, runId, row, size);
    expectOneOutage(kernel, { from: fullFrom, to: fullTo, reasons: ['full'] });
  });

  it('read-only: a remount read-only under a running kernel is refused by Linux (its database is open for writing), and the run is untouched', async (ctx) => {
    const mounted = mountTinyFs(4);
    if ('skip' in mounted) return ctx.skip(mounted.skip);
    const { fs } = mounted;
    const db = join(fs.dir, 'state.db');
    const kernel = await startKernel(db);
    fs.track(kernel.fixture.pid);
    const { runId, gate } = await gatedRun(kernel, 'read-only', 'repo:ro', 8);
    const roFrom = Date.now();
    const ro = fs.remount('ro');
    if (!ro.ok) {
      // Observed on Linux 6.x: `mount -o remount,ro` fails with EBUSY ("mount point is busy") while
      // any file on the filesystem is open for writing, and SQLite keeps the database and its WAL
      // open read-write for the connection's lifetime. A filesystem cannot become read-only under
      // a running kernel this way; only forced paths do that (ext4 errors=remount-ro after I/O
      // errors, sysrq emergency remount), and those are not undone by a remount read-write.
      expect(ro.error).toMatch(/busy/i);
      await ctx.annotate(`remount,ro refused while the kernel has the database open: ${ro.error}`);
      writeFileSync(gate, '');
      expectCompletedIntact(db, kernel, runId, await finished(db, runId, kernel), 8);
      expect(kernel.entries('store:unavailable')).toEqual([]);
      return;
    }
    // A system that allows it: the commit must wait for the remount back to read-write.
    writeFileSync(gate, '');
    await until('store:unavailable', () => kernel.entries('store:unavailable').length > 0, kernel.diagnose);
    await new Promise((r) => setTimeout(r, 2_000)); // the outage lasts a while, by design
    const roTo = Date.now();
    expect(fs.remount('rw')).toEqual({ ok: true, error: '' });
    expectCompletedIntact(db, kernel, runId, await finished(db, runId, kernel), 8);
    expectOneOutage(kernel, { from: roFrom, to: roTo, reasons: ['read_only', 'io'] });
  });
});
