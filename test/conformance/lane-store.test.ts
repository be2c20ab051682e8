import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decideAcquire, decideAdopt, decideHeartbeat, decideRelease, decideScavenge } from '../../src/core/lane-lease/decide.js';
import { newRecord } from '../../src/core/lane-lease/records.js';
import { replay } from '../../src/core/lane-lease/replay.js';
import type { LaneStore } from '../../src/ports/lane-store.js';
import type { Store } from '../../src/ports/store.js';
import { memoryStore } from '../../src/stores/memory/memory-store.js';
import { sqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { tempDir } from '../fixtures/lane-harness.js';
import { postgresForTests } from '../support/postgres.js';
import { command, type Command } from '../unit/lanes/journal-model.js';

/** Postgres joins when a server answers at HOLDFAST_TEST_PG_URL (each store in a schema of its own). */
const pg = await postgresForTests('lanes');
afterAll(() => pg.dropSchemas());

const makers: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(tempDir('holdfast-lane-conf-'), 'state.db'), synchronous: 'NORMAL' })],
  ...(pg.available ? [['postgres', pg.stores()] as [string, () => Store]] : []),
];

const spawnRecord = (lane: string, at = 1) => newRecord({ op: 'spawn', at, lane, holder: 'w', host: 'h', pid: 1 });

async function drive(lanes: LaneStore, cmds: readonly { cmd: Command; dt: number }[]): Promise<void> {
  let now = 1_700_000_000_000;
  for (const { cmd, dt } of cmds) {
    now += dt;
    const caller = { now, host: 'h', pid: 1 };
    const expiry = { now, host: 'h', isProcessAlive: () => true };
    switch (cmd.op) {
      case 'acquire':
        await lanes.transact((v) =>
          decideAcquire(
            v,
            {
              ...caller,
              lane: cmd.lane,
              kind: 'work',
              tree: cmd.tree.map((p) => p.toLowerCase()),
              mode: cmd.mode,
              owner: cmd.owner,
              ttlMinutes: cmd.ttl,
              runId: null,
            },
            expiry,
          ),
        );
        break;
      case 'release':
        await lanes.transact((v) => decideRelease(v, { ...caller, lane: cmd.lane, owner: cmd.owner }));
        break;
      case 'heartbeat':
        await lanes.transact((v) => decideHeartbeat(v, { ...caller, lane: cmd.lane, owner: cmd.owner, coalesceWithinMs: 0 }));
        break;
      case 'adopt':
        await lanes.transact((v) => decideAdopt(v, { ...caller, lane: cmd.lane, owner: cmd.owner }));
        break;
      case 'scavenge':
        await lanes.transact((v) => decideScavenge(v, expiry, caller));
        break;
      case 'compact':
        await lanes.compact();
        break;
      default:
        await lanes.transact(() => ({ append: [spawnRecord(cmd.lane, now)], value: null }));
    }
  }
}

describe.each(makers)('LaneStore conformance: %s', (_name, make) => {
  it('numbers appended records from 1, returns them, and keeps the decide value', async () => {
    const store = make();
    const first = await store.lanes.transact((view) => {
      expect(view.lastSeq).toBe(0);
      expect(view.leases).toEqual([]);
      expect(view.generation('x')).toBeUndefined();
      return { append: [spawnRecord('a'), spawnRecord('b')], value: 'v' };
    });
    expect(first.value).toBe('v');
    expect(first.appended.map((r) => r.seq)).toEqual([1, 2]);
    const second = await store.lanes.transact((view) => ({ append: [spawnRecord('c')], value: view.lastSeq }));
    expect(second).toMatchObject({ value: 2, appended: [{ seq: 3, lane: 'c' }] });
    await store.close();
  });

  it('writes nothing when decide throws or returns a malformed record', async () => {
    const store = make();
    await expect(
      store.lanes.transact(() => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const bad = { ...spawnRecord('a'), op: 'acquire' as const };
    await expect(store.lanes.transact(() => ({ append: [spawnRecord('ok'), bad], value: null }))).rejects.toThrow(/refusing to append/);
    expect((await store.lanes.journal()).records).toEqual([]);
    expect(await store.lanes.state()).toEqual({ leases: [], generations: {}, lastSeq: 0 });
    await store.close();
  });

  it('keeps the materialized state equal to replay(journal) through random operations and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), async (cmds) => {
        const store = make();
        try {
          await drive(store.lanes, cmds);
          const { records, torn } = await store.lanes.journal();
          expect(torn).toBeNull();
          expect(await store.lanes.state()).toEqual(replay(records));
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('compaction keeps the state and the watermark; the next seq continues after it', async () => {
    const store = make();
    await drive(store.lanes, [
      { dt: 0, cmd: { op: 'acquire', lane: 'a', owner: 'w1', tree: ['src'], mode: undefined, ttl: 50 } },
      { dt: 1, cmd: { op: 'acquire', lane: 'b', owner: 'w2', tree: ['src/x'], mode: undefined, ttl: 50 } },
      { dt: 1, cmd: { op: 'acquire', lane: 'c', owner: 'w2', tree: ['docs'], mode: 'shared', ttl: 50 } },
      { dt: 1, cmd: { op: 'release', lane: 'a', owner: 'w1' } },
    ]);
    const before = await store.lanes.state();
    expect(await store.lanes.compact()).toEqual({ recordsBefore: 4, recordsAfter: 1, watermark: 4 });
    expect(await store.lanes.state()).toEqual(before);
    const { records } = await store.lanes.journal();
    expect(records.map((r) => [r.seq, r.op])).toEqual([[4, 'checkpoint']]);
    expect(replay(records)).toEqual(before);
    const next = await store.lanes.transact(() => ({ append: [spawnRecord('z')], value: null }));
    expect(next.appended[0]!.seq).toBe(5);
    expect(await store.lanes.compact()).toMatchObject({ recordsBefore: 2, recordsAfter: 1, watermark: 5 });
    const empty = make();
    expect(await empty.lanes.compact()).toEqual({ recordsBefore: 0, recordsAfter: 0, watermark: 0 });
    await store.close();
    await empty.close();
  });

  it('imports into an empty journal only, rebuilding the same state', async () => {
    const source = make();
    await drive(source.lanes, [
      { dt: 0, cmd: { op: 'acquire', lane: 'a', owner: 'w1', tree: ['src'], mode: undefined, ttl: 50 } },
      { dt: 5, cmd: { op: 'heartbeat', lane: 'a', owner: 'w1' } },
      { dt: 5, cmd: { op: 'adopt', lane: 'a', owner: 'w9' } },
    ]);
    const { records } = await source.lanes.journal();
    const target = make();
    expect(await target.lanes.importJournal(records)).toEqual({ imported: 3 });
    expect(await target.lanes.state()).toEqual(await source.lanes.state());
    await expect(target.lanes.importJournal(records)).rejects.toMatchObject({ code: 'lane_journal_not_empty' });
    await source.close();
    await target.close();
  });
});
