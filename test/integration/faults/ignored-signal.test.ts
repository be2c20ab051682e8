// Nothing waits forever on user code, with real processes and real signals: a step that never
// returns and ignores its signal does not keep kernel.stop() from resolving, does not keep a
// cancel(abort-drop) from ending its run, and does not keep later runs of its key from starting.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, query, startFixture, until } from '../../support/processes.js';
import { timedLines, type TimedLine } from '../../support/fixture-logs.js';

interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly priority: string;
  readonly result: string | null;
  readonly error_code: string | null;
  readonly created_at: number;
  readonly finished_at: number | null;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hf-stuck-'));
  const db = join(dir, 'state.db');
  const log = join(dir, 'kernel.log');
  const entries = (what?: string): TimedLine[] => timedLines(log).filter((e) => what === undefined || e.what === what);
  const runs = (): RunRow[] =>
    query<RunRow>(db, 'SELECT id, status, priority, result, error_code, created_at, finished_at FROM runs ORDER BY seq');
  const diagnose = () =>
    `runs: ${JSON.stringify(runs())}\nlog:\n${entries()
      .map((e) => `${e.at} ${e.what} ${JSON.stringify(e.data)}`)
      .join('\n')}`;
  const execs = (step: string, runId: string) => entries('exec').filter((e) => e.data.step === step && e.data.runId === runId);
  return { db, log, entries, runs, diagnose, execs };
}

/** A stuck-kernel.ts process whose run "stuck" sits in its never-returning step "hang" (or flow). */
async function stuckOwner(t: ReturnType<typeof setup>, env: Record<string, string>, stuckIn = 'hang') {
  const owner = startFixture('stuck-kernel.ts', [t.db, t.log], { STUCK: '1', SUBMIT: '1', ...env });
  await owner.line('ready');
  const runId = /^submitted (\S+)$/m.exec(owner.stdout())![1]!;
  await until(`the run stuck in ${stuckIn}`, () => t.execs(stuckIn, runId).length === 1, t.diagnose);
  return { owner, runId };
}

/** Waits for the process to exit, at most `withinMs`: how it ended (undefined: not yet), after how long, alive. */
async function exitOf(pid: number, exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, withinMs: number) {
  const started = performance.now();
  const ended = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), withinMs))]);
  return { ended, ms: Math.round(performance.now() - started), alive: isAlive(pid) };
}

describe('user code that never returns and ignores its signal', () => {
  // `abandonAfterMs`: what gives up on the stuck code first, the grace or the stop deadline.
  const stops: { name: string; env: Record<string, string>; stuckIn: 'hang' | '(flow)'; abandonAfterMs: number }[] = [
    // The grace (1 s) abandons the step before the stop deadline (2 s); the stop deadline comes
    // before the grace (5 s); the flow itself hangs between two steps.
    { name: 'grace 1 s, stop timeout 2 s', env: { GRACE_MS: '1000', STOP_TIMEOUT_MS: '2000' }, stuckIn: 'hang', abandonAfterMs: 1000 },
    { name: 'default grace 5 s, stop timeout 2 s', env: { STOP_TIMEOUT_MS: '2000' }, stuckIn: 'hang', abandonAfterMs: 2000 },
    {
      name: 'a flow stuck between steps, grace 1 s',
      env: { GRACE_MS: '1000', STOP_TIMEOUT_MS: '2000', STUCK_AT: 'flow' },
      stuckIn: '(flow)',
      abandonAfterMs: 1000,
    },
  ];

  for (const { name, env, stuckIn, abandonAfterMs } of stops) {
    it(`SIGTERM (${name}): kernel.stop() resolves, the process exits 0, the run is requeued and a new process completes it`, async (ctx) => {
      const t = setup();
      const { owner, runId } = await stuckOwner(t, env, stuckIn);
      owner.child.kill('SIGTERM');
      const exit = await exitOf(owner.pid, owner.exited(), 10_000);
      expect(exit.ended, `still alive 10 s after SIGTERM\n${t.diagnose()}`).toEqual({ code: 0, signal: null });
      expect(exit.alive).toBe(false);
      expect(t.entries('stopped')).toHaveLength(1);
      await ctx.annotate(`kernel.stop() resolved after ${t.entries('stopped')[0]!.data.ms as number} ms; exit ${exit.ms} ms after SIGTERM`);
      expect(t.entries('closed')).toHaveLength(1);
      const at = stuckIn === 'hang' ? 'hang' : '(between steps)';
      expect(t.entries('step:abandoned')).toMatchObject([{ data: { runId, name: at, reason: 'interrupt-grace' } }]);
      expect(t.entries('step:abandoned')[0]!.at - t.entries('sigterm')[0]!.at).toBeGreaterThanOrEqual(abandonAfterMs - 100);
      expect(t.entries('run:requeued')).toMatchObject([{ data: { runId } }]);
      // Requeued with its committed step kept, its key released.
      expect(t.runs()).toMatchObject([{ id: runId, status: 'queued' }]);
      const steps = query<{ name: string }>(t.db, 'SELECT s.name FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ?', runId);
      expect(steps.map((s) => s.name)).toEqual(['first']);
      expect(query<{ owner_id: string | null }>(t.db, 'SELECT owner_id FROM owners WHERE key = ?', 'repo:stuck')).toEqual([
        { owner_id: null },
      ]);

      // A new process with a version of the flow that returns recovers the run and completes it.
      const next = startFixture('stuck-kernel.ts', [t.db, t.log], { STUCK: '0' });
      await until('the recovered run to complete', () => t.runs()[0]?.status === 'completed', t.diagnose);
      expect(JSON.parse(t.runs()[0]!.result!)).toEqual({ first: 'one', hang: 'freed' });
      expect(t.execs('first', runId)).toHaveLength(1); // committed before the stop: never run again
      const hangRuns = stuckIn === 'hang' ? [owner.pid, next.pid] : [next.pid];
      expect(t.execs('hang', runId).map((e) => e.data.pid)).toEqual(hangRuns);
      expect(t.entries('run:failed')).toEqual([]);
      expect(t.entries('kernel:error')).toEqual([]);
      next.child.kill('SIGTERM');
      expect((await exitOf(next.pid, next.exited(), 10_000)).ended).toEqual({ code: 0, signal: null });
    });
  }

  const laters = [
    { when: 'after-cancel', what: 'submitted once it is cancelled' },
    { when: 'during-grace', what: 'queued behind it during the grace' },
  ];
  for (const { when, what } of laters) {
    it(`cancel(abort-drop) from another process ends the stuck run after the grace; a normal and an urgent run of its key ${what} complete in the owner`, async () => {
      const t = setup();
      const { owner, runId } = await stuckOwner(t, { GRACE_MS: '1000' });
      const client = startFixture('stuck-client.ts', [t.db, runId, when]);
      await client.line('cancel-requested running');
      await client.line('cancelled', 20_000);
      await client.line('submitted urgent');
      expect(await client.exited()).toEqual({ code: 0, signal: null });

      const [stuck] = t.runs();
      expect(stuck).toMatchObject({ id: runId, status: 'cancelled', error_code: 'cancelled' });
      expect(t.entries('run:interrupted')).toMatchObject([{ data: { runId, kind: 'abort-drop', by: 'operator' } }]);
      expect(t.entries('step:abandoned')).toMatchObject([{ data: { runId, name: 'hang', reason: 'interrupt-grace', pid: owner.pid } }]);
      const abandonedAt = t.entries('step:abandoned')[0]!.at;
      const interruptedAt = t.entries('run:interrupted')[0]!.at;
      expect(abandonedAt - interruptedAt).toBeGreaterThanOrEqual(900); // the grace was given first

      await until('the later runs to complete', () => t.runs().filter((r) => r.status === 'completed').length === 2, t.diagnose);
      const later = t.runs().slice(1);
      expect(later.map((r) => [r.priority, r.status, JSON.parse(r.result!) as string])).toEqual(
        expect.arrayContaining([
          ['normal', 'completed', 'done:normal'],
          ['urgent', 'completed', 'done:urgent'],
        ]),
      );
      // They were submitted when this case says (before or after the stuck run ended) ...
      for (const r of later) {
        if (when === 'during-grace') expect(r.created_at).toBeLessThan(stuck!.finished_at!);
        else expect(r.created_at).toBeGreaterThanOrEqual(stuck!.finished_at!);
      }
      // ... and ran in the owning process, which is still serving.
      for (const r of later) expect(t.execs('only', r.id).map((e) => e.data.pid)).toEqual([owner.pid]);
      expect(isAlive(owner.pid)).toBe(true);
      expect(t.entries('run:failed')).toEqual([]);
      expect(t.entries('kernel:error')).toEqual([]);
    });
  }
});
