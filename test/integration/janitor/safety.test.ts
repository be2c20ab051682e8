// What a janitor must never do (S4): kill a group whose id a dead kernel recorded but which now
// belongs to another process, or touch a group or socket of a live process; and how it runs
// (claims that expire, periodic sweeps on the injected clock, a sweep in progress joined).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { virtualClock } from 'holdfast/testing';
import { createJanitor } from '../../../src/daemon/janitor.js';
import { processStartTime } from '../../../src/platform/orphan-process-group.js';
import { listProcessGroup } from '../../../src/platform/proc-table.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { unixSocketWake } from '../../../src/platform/unix-socket-wake.js';
import { listWakeSockets } from '../../../src/platform/wake-socket-files.js';
import type { Store } from '../../../src/ports/store.js';
import { sqliteStore } from '../../../src/stores/sqlite/sqlite-store.js';
import { memoryStore } from '../../../src/stores/memory/memory-store.js';

/** A live detached process group (a sleeper), killed when the test ends. */
function liveGroup(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pgid = child.pid!;
  onTestFinished(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  return pgid;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const record = (store: Store, pgid: number, pid: number, leaderStart: number | null, host = hostname()) =>
  store.recordProcessGroup({ pgid, ownerId: `${host}/${pid}/k`, host, pid, runId: 'r', key: 'k', startedAt: 1, leaderStart });

describe('janitor safety (real processes)', () => {
  it('finds the wake sockets unixSocketWake makes, and leaves those of live processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-janitor-sockets-'));
    const listener = await unixSocketWake({ dir }).listen(() => {});
    expect(listWakeSockets(dir)).toEqual([{ path: listener.address, pid: process.pid }]);
    const store = memoryStore();
    const report = await createJanitor({ store, clock: systemClock, intervalMs: 60_000, socketDir: dir, scratchRoot: dir }).sweep();
    expect(report.wakeSockets).toBe(0);
    expect(listWakeSockets(dir)).toHaveLength(1);
    await listener.close();
    expect(listWakeSockets(dir)).toEqual([]);
  });

  it('a recorded group id now naming another process (another start time) is claimed and left alive', async () => {
    const store = sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-janitor-safety-')), 'state.db') });
    const pgid = liveGroup();
    await record(store, pgid, await deadPid(), processStartTime(pgid)! + 1);
    const report = await createJanitor({ store, clock: systemClock, intervalMs: 60_000 }).sweep();
    expect(report).toMatchObject({ processGroupsKilled: 0, processGroupsGone: 1 });
    expect(listProcessGroup(pgid)).toEqual([pgid]);
    expect(await store.listProcessGroups({ open: true })).toEqual([]);
    await store.close();
  });

  it('groups of a live kernel process, of this process and of another host are never touched', async () => {
    const store = memoryStore();
    const [a, b, c] = [liveGroup(), liveGroup(), liveGroup()];
    const livePid = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    onTestFinished(() => void livePid.kill('SIGKILL'));
    await record(store, a, livePid.pid!, processStartTime(a)!);
    await record(store, b, process.pid, processStartTime(b)!);
    await record(store, c, await deadPid(), processStartTime(c)!, 'another-host');
    const report = await createJanitor({ store, clock: systemClock, intervalMs: 60_000, scratchRoot: tmpdir() + '/none' }).sweep();
    expect(report).toMatchObject({ processGroupsKilled: 0, processGroupsGone: 0, failures: 0 });
    for (const pgid of [a, b, c]) expect(listProcessGroup(pgid)).toEqual([pgid]);
    expect((await store.listProcessGroups({ open: true })).map((r) => r.reapClaimedBy)).toEqual([null, null, null]);
  });

  it('a janitor that died after its claim: the claim expires and another janitor reaps the group', async () => {
    const store = memoryStore();
    const clock = virtualClock(1_000_000);
    const pgid = liveGroup();
    const { id } = await record(store, pgid, await deadPid(), processStartTime(pgid)!);
    expect(await store.claimOrphanReap(id, 'died-before-the-kill', clock.now())).toBe(true);
    const janitor = createJanitor({ store, clock, intervalMs: 60_000, janitorId: 'heir', scratchRoot: tmpdir() + '/none' });
    expect(await janitor.sweep()).toMatchObject({ processGroupsKilled: 0 });
    expect(listProcessGroup(pgid)).toEqual([pgid]);
    await clock.advance(60_000);
    expect(await janitor.sweep()).toMatchObject({ processGroupsKilled: 1 });
    const deadline = Date.now() + 5_000;
    while (listProcessGroup(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(listProcessGroup(pgid)).toEqual([]);
  });

  it('start() sweeps at once and then every intervalMs on the injected clock; stop() ends it; a sweep in progress is joined', async () => {
    const store = memoryStore();
    const clock = virtualClock(0);
    const janitor = createJanitor({ store, clock, intervalMs: 1_000, scratchRoot: tmpdir() + '/none' });
    const pgids: number[] = [];
    await janitor.start();
    const [first, second] = [janitor.sweep(), janitor.sweep()];
    expect(first).toBe(second);
    await first;
    for (let i = 0; i < 2; i++) {
      const pgid = liveGroup();
      pgids.push(pgid);
      await record(store, pgid, await deadPid(), processStartTime(pgid)!);
      await clock.advance(1_000);
      expect((await store.listProcessGroups({ open: true })).length, `sweep ${i + 1}`).toBe(0);
    }
    await janitor.stop();
    const pgid = liveGroup();
    await record(store, pgid, await deadPid(), processStartTime(pgid)!);
    await clock.advance(5_000);
    expect(await store.listProcessGroups({ open: true })).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });
});
