// What happens to a provider group when its kernel is SIGKILLed mid-turn (S2, S4): the group
// watchdog kills it, so the record the kernel wrote at turn start is all that is left; a janitor
// finds its kernel dead, claims it, finds the group gone and ends the record, killing nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJanitor } from '../../../src/daemon/janitor.js';
import { listProcessGroup } from '../../../src/platform/proc-table.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { sqliteStore } from '../../../src/stores/sqlite/sqlite-store.js';
import { startFixture, until } from '../../support/processes.js';

describe('a SIGKILLed kernel mid-turn (real processes)', () => {
  it('its provider group is killed by the watchdog; the janitor ends the open record as gone', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'hf-janitor-watchdog-')), 'state.db');
    const kernel = startFixture('janitor-exec-kernel.ts', [db]);
    await kernel.line('pgid ');
    const pgid = Number(/pgid (\d+)/.exec(kernel.stdout())![1]);
    await until('the provider and its child to run', () => listProcessGroup(pgid).length >= 3); // watchdog, child, grandchild

    kernel.child.kill('SIGKILL');
    await kernel.exited();
    await until('the watchdog to kill the group', () => listProcessGroup(pgid).length === 0);

    const store = sqliteStore({ path: db });
    try {
      const [open] = await store.listProcessGroups({ open: true });
      expect(open).toMatchObject({ pgid, pid: kernel.pid, key: 'repo:exec', endedAt: null });
      expect(open!.leaderStart).toEqual(expect.any(Number));
      const janitor = createJanitor({ store, clock: systemClock, intervalMs: 60_000, janitorId: 'j' });
      const report = await janitor.sweep();
      expect(report).toMatchObject({ processGroupsKilled: 0, processGroupsGone: 1, wakeSockets: 1, failures: 0 });
      expect(await store.listProcessGroups({ open: true })).toEqual([]);
      expect(await janitor.sweep()).toMatchObject({ processGroupsKilled: 0, processGroupsGone: 0, wakeSockets: 0 });
    } finally {
      await store.close();
    }
  });
});
