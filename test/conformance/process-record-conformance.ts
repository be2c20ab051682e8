import { describe, expect, it } from 'vitest';
import { REAP_CLAIM_TTL_MS, type NewProcessGroup, type Store } from '../../src/ports/store.js';

function group(over: Partial<NewProcessGroup> = {}): NewProcessGroup {
  return { pgid: 4242, ownerId: 'host/100/a', host: 'host', pid: 100, runId: 'r1', key: 'repo:a', startedAt: 1_000, ...over };
}

/**
 * Conformance of the provider process group records (ProcessRecordStore): record, end, list open,
 * the janitor's claim (one winner, expiring), and pruning of ended records.
 */
export function runProcessRecordConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Process group record conformance: ${name}`, () => {
    it('records an open group, ends it by (pgid, owner), and lists open ones only when asked', async () => {
      const store = await makeStore();
      const a = await store.recordProcessGroup(group({ leaderStart: 777 }));
      expect(a).toEqual({
        ...group(),
        id: a.id,
        leaderStart: 777,
        endedAt: null,
        reapClaimedBy: null,
        reapClaimedAt: null,
      });
      const b = await store.recordProcessGroup(group({ pgid: 4343, runId: 'r2' }));
      expect(b.id).toBeGreaterThan(a.id);
      expect(b.leaderStart).toBeNull();
      expect((await store.listProcessGroups({ open: true })).map((r) => r.pgid)).toEqual([4242, 4343]);
      expect(await store.endProcessGroup(4242, 'someone else', 2_000)).toBe(0);
      expect(await store.endProcessGroup(4242, 'host/100/a', 2_000)).toBe(1);
      expect(await store.endProcessGroup(4242, 'host/100/a', 2_500)).toBe(0);
      expect((await store.listProcessGroups({ open: true })).map((r) => r.pgid)).toEqual([4343]);
      const all = await store.listProcessGroups({});
      expect(all.map((r) => [r.pgid, r.endedAt])).toEqual([
        [4242, 2_000],
        [4343, null],
      ]);
      expect(await store.listProcessGroups({ limit: 1 })).toHaveLength(1);
      await store.close();
    });

    it('recording an open (pgid, owner) again updates it; after it ended, a new record is added', async () => {
      const store = await makeStore();
      const first = await store.recordProcessGroup(group());
      const again = await store.recordProcessGroup(group({ runId: 'r9', startedAt: 1_500 }));
      expect(again).toMatchObject({ id: first.id, runId: 'r9', startedAt: 1_500, endedAt: null });
      expect(await store.listProcessGroups({ open: true })).toHaveLength(1);
      await store.endProcessGroup(4242, 'host/100/a', 2_000);
      const later = await store.recordProcessGroup(group({ startedAt: 3_000 }));
      expect(later.id).not.toBe(first.id);
      expect((await store.listProcessGroups({})).map((r) => [r.id, r.endedAt])).toEqual([
        [first.id, 2_000],
        [later.id, null],
      ]);
      await store.close();
    });

    it('a reap claim succeeds once; another janitor may claim again only after the claim expired', async () => {
      const store = await makeStore();
      const { id } = await store.recordProcessGroup(group());
      expect(await store.claimOrphanReap(id, 'j1', 10_000)).toBe(true);
      expect(await store.claimOrphanReap(id, 'j2', 10_001)).toBe(false);
      expect(await store.claimOrphanReap(id, 'j1', 10_002)).toBe(false);
      expect((await store.listProcessGroups({ open: true }))[0]).toMatchObject({ reapClaimedBy: 'j1', reapClaimedAt: 10_000 });
      expect(await store.claimOrphanReap(id, 'j2', 10_000 + REAP_CLAIM_TTL_MS - 1)).toBe(false);
      expect(await store.claimOrphanReap(id, 'j2', 10_000 + REAP_CLAIM_TTL_MS)).toBe(true);
      expect((await store.listProcessGroups({ open: true }))[0]).toMatchObject({ reapClaimedBy: 'j2' });
      await store.endProcessGroup(4242, 'host/100/a', 80_000);
      expect(await store.claimOrphanReap(id, 'j3', 10_000_000)).toBe(false);
      expect(await store.claimOrphanReap(id + 1000, 'j3', 10_000_000)).toBe(false);
      await store.close();
    });

    it('claims issued together: exactly one janitor wins each record', async () => {
      const store = await makeStore();
      const records = await Promise.all([1, 2, 3].map((n) => store.recordProcessGroup(group({ pgid: 5000 + n }))));
      const claims = await Promise.all(
        records.flatMap((r) => ['j1', 'j2', 'j3'].map(async (j) => ({ id: r.id, won: await store.claimOrphanReap(r.id, j, 9_000) }))),
      );
      for (const r of records) expect(claims.filter((c) => c.id === r.id && c.won)).toHaveLength(1);
      await store.close();
    });

    it('prunes records that ended before the instant given, never open ones', async () => {
      const store = await makeStore();
      await store.recordProcessGroup(group({ pgid: 11 }));
      await store.recordProcessGroup(group({ pgid: 12 }));
      await store.recordProcessGroup(group({ pgid: 13 }));
      await store.endProcessGroup(11, 'host/100/a', 100);
      await store.endProcessGroup(12, 'host/100/a', 300);
      expect(await store.pruneProcessGroups(200)).toBe(1);
      expect((await store.listProcessGroups({})).map((r) => r.pgid)).toEqual([12, 13]);
      expect(await store.pruneProcessGroups(1_000_000)).toBe(1);
      expect((await store.listProcessGroups({})).map((r) => r.pgid)).toEqual([13]);
      await store.close();
    });
  });
}
