// S4 with real processes: a kernel process that dies leaves a wake socket, live process groups it
// recorded, a half-claimed effect and its run's scratch directory; two janitor processes sweep the
// same SQLite file at once. Each orphan group is claimed and killed exactly once, the dead kernel's
// socket is removed once, a finished run's scratch directory once, and nothing a live kernel holds
// (its socket, its process group, its claimed effect, its running run's scratch) is touched. The
// half-claimed effect is only reported: the next owner re-emits it under the same idempotence key.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKernel, sqliteStore } from 'holdfast';
import type { JanitorReport } from '../../../src/daemon/janitor.js';
import { listProcessGroup } from '../../../src/platform/proc-table.js';
import { listWakeSockets } from '../../../src/platform/wake-socket-files.js';
import { holdFlow } from '../../fixtures/janitor-hold-flow.js';
import { query, startFixture, until, type Fixture } from '../../support/processes.js';

interface Ready {
  readonly pid: number;
  readonly ownerId: string;
  readonly runId: string;
  readonly effectKey: string;
  readonly pgids: number[];
}
interface GroupRow {
  readonly pgid: number;
  readonly owner_id: string;
  readonly ended_at: number | null;
  readonly reap_claimed_by: string | null;
}

async function ready(fixture: Fixture): Promise<Ready> {
  await fixture.line('ready');
  const line = fixture
    .stdout()
    .split('\n')
    .find((l) => l.startsWith('ready '))!;
  return JSON.parse(line.slice('ready '.length)) as Ready;
}

async function report(fixture: Fixture): Promise<JanitorReport> {
  await fixture.line('report');
  const line = fixture
    .stdout()
    .split('\n')
    .find((l) => l.startsWith('report '))!;
  return JSON.parse(line.slice('report '.length)) as JanitorReport;
}

/** SIGKILLs the groups when the test ends, whatever happened. */
function reapAfterTest(pgids: readonly number[]): void {
  onTestFinished(() => {
    for (const pgid of pgids) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

const groupAlive = (pgid: number) => listProcessGroup(pgid).length > 0; // zombies count as gone

describe('janitor (S4): two janitors, one dead kernel, one live kernel, real processes', () => {
  it('reaps each orphan exactly once and never touches what the live kernel holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-janitor-'));
    const db = join(dir, 'state.db');
    const scratch = join(dir, 'holdfast-scratch');

    const live = startFixture('janitor-owner.ts', [db, 'live', '1']);
    const liveReady = await ready(live);
    reapAfterTest(liveReady.pgids);
    const dead = startFixture('janitor-owner.ts', [db, 'dead', '3']);
    const deadReady = await ready(dead);
    reapAfterTest(deadReady.pgids);
    const sockets = () => listWakeSockets(dir).map((s) => s.pid);
    expect(sockets().sort()).toEqual([liveReady.pid, deadReady.pid].sort());
    expect(existsSync(join(scratch, liveReady.runId)) && existsSync(join(scratch, deadReady.runId))).toBe(true);

    dead.child.kill('SIGKILL');
    expect((await dead.exited()).signal).toBe('SIGKILL');
    // Its groups are outside any watchdog: they outlive it, as a provider group would if the
    // watchdog itself had been killed.
    for (const pgid of deadReady.pgids) expect(groupAlive(pgid), `group ${pgid}`).toBe(true);

    // A run that ended with its scratch directory left behind (a crash between its end and the
    // removal), and a directory no run of this store owns.
    const store = sqliteStore({ path: db });
    await store.enqueue({
      id: 'done-run',
      key: 'repo:done',
      flow: 'hold',
      input: null,
      idempotencyKey: 'done',
      priority: 'normal',
      preempt: null,
      now: 1,
    });
    const lease = await store.acquireOwner({ key: 'repo:done', ownerId: 'finisher', now: Date.now(), ttlMs: 1_000, channel: null });
    const fence = { key: 'repo:done', ownerId: 'finisher', epoch: lease!.epoch };
    await store.claimNext({ ...fence, now: Date.now() });
    await store.finishRun({ ...fence, runId: 'done-run', status: 'completed', result: null, now: Date.now() });
    await store.releaseOwner(fence);
    mkdirSync(join(scratch, 'done-run'));
    mkdirSync(join(scratch, 'not-a-known-run'));

    const janitors = [startFixture('janitor-sweeper.ts', [db, 'janitor-1']), startFixture('janitor-sweeper.ts', [db, 'janitor-2'])];
    await Promise.all(janitors.map((j) => j.line('ready')));
    for (const j of janitors) j.child.kill('SIGUSR1');
    const reports = await Promise.all(janitors.map(report));
    const sum = (field: keyof JanitorReport) => reports.reduce((n, r) => n + r[field], 0);

    // Process groups: three orphans, three claims in all, each group killed, each record ended.
    expect(sum('processGroupsKilled') + sum('processGroupsGone'), JSON.stringify(reports)).toBe(3);
    expect(sum('processGroupsKilled')).toBe(3);
    await until('the orphan groups to die', () => deadReady.pgids.every((pgid) => !groupAlive(pgid)));
    const rows = query<GroupRow>(db, 'SELECT pgid, owner_id, ended_at, reap_claimed_by FROM process_groups ORDER BY id');
    const orphanRows = rows.filter((r) => r.owner_id === deadReady.ownerId);
    expect(orphanRows.map((r) => r.pgid)).toEqual(deadReady.pgids);
    for (const r of orphanRows) {
      expect(r.ended_at).not.toBeNull();
      expect(['janitor-1', 'janitor-2']).toContain(r.reap_claimed_by);
    }
    // The live kernel's group: alive, its record open and unclaimed.
    expect(groupAlive(liveReady.pgids[0]!)).toBe(true);
    expect(rows.filter((r) => r.owner_id === liveReady.ownerId)).toEqual([
      { pgid: liveReady.pgids[0], owner_id: liveReady.ownerId, ended_at: null, reap_claimed_by: null },
    ]);

    // Wake sockets: the dead kernel's removed once, the live kernel's kept.
    expect(sum('wakeSockets')).toBe(1);
    expect(sockets()).toEqual([liveReady.pid]);

    // Scratch: the ended run's directory removed once; the running runs' and the unknown one kept.
    expect(sum('scratchDirs')).toBe(1);
    expect(existsSync(join(scratch, 'done-run'))).toBe(false);
    for (const kept of [liveReady.runId, deadReady.runId, 'not-a-known-run']) expect(existsSync(join(scratch, kept)), kept).toBe(true);

    // Effects: each janitor reports the dead kernel's half-claimed effect and changes nothing.
    expect(reports.map((r) => [r.effectsAwaitingRecovery, r.effectsStranded, r.failures])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
    ]);
    const effects = await store.listEffects();
    expect(effects.map((e) => [e.key, e.status, e.attempts]).sort()).toEqual(
      [
        [liveReady.effectKey, 'claimed', 1],
        [deadReady.effectKey, 'claimed', 1],
      ].sort(),
    );

    // The next owner of the dead kernel's key re-emits its effect under the same key (attempt 2);
    // the live kernel keeps its key, its run and its claim.
    const heir = createKernel({ store, flows: [holdFlow(() => {})], ownerTtlMs: 60_000 });
    await heir.start();
    const recovered = await heir.handle(deadReady.runId).result();
    expect(recovered).toEqual({ key: deadReady.effectKey, attempt: 2 });
    await heir.stop();
    expect((await store.getRun(liveReady.runId))?.status).toBe('running');
    expect((await store.listEffects({ status: ['claimed'] })).map((e) => e.key)).toEqual([liveReady.effectKey]);
    expect(live.child.exitCode).toBeNull();
    await store.close();
  });
});
