import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decideAcquire, decideRelease, decideScavenge } from '../../src/core/lane-lease/decide.js';
import { newRecord } from '../../src/core/lane-lease/records.js';
import { replay } from '../../src/core/lane-lease/replay.js';
import { StaleEpochError } from '../../src/errors.js';
import type { LaneStore } from '../../src/ports/lane-store.js';
import type { NewCommand, Store } from '../../src/ports/store.js';
import { memoryStore } from '../../src/stores/memory/memory-store.js';
import { sqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { reorderingStore } from '../../src/testing/reordering-store.js';
import { postgresForTests } from '../support/postgres.js';
import { command as laneCommand, type Command as LaneCommand } from '../unit/lanes/journal-model.js';
import { runDurableConformance } from './durable-conformance.js';
import { runEventFeedConformance } from './event-feed-conformance.js';
import { runProcessRecordConformance } from './process-record-conformance.js';
import { runStoreConformance } from './store-conformance.js';

/*
 * The store conformance suite through `reorderingStore`: seeds 1..100 over the memory store and
 * 1..5 over SQLite (each case opens a database file); the durable-execution suite, which is
 * longer, on seeds 1..20 and 1..3. The suites await every call before the next, so there they
 * prove the decorator transparent (same values, same errors, same members);
 * the races below issue calls in one tick, so the decorator applies them in a seeded order, and
 * check that every order ends in a state the port allows ("correctness never depends on the order
 * in which two calls issued together are applied").
 */
const seeds = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);
const MEMORY_SEEDS = seeds(100);
const SQLITE_SEEDS = seeds(5);
/** The durable-execution suite (waits, children, outbox, schedules, retention) on fewer seeds, to keep this file quick. */
const DURABLE_MEMORY_SEEDS = seeds(20);
const DURABLE_SQLITE_SEEDS = seeds(3);

const sqlite = () => sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-conf-reordered-')), 'state.db'), synchronous: 'NORMAL' });

/** The races below also run on Postgres (seeds 1..5) when a server answers at HOLDFAST_TEST_PG_URL. */
const pg = await postgresForTests('races');
const POSTGRES_SEEDS = pg.available ? seeds(5) : [];
const postgres = pg.stores({ clock: 'caller' });
afterAll(() => pg.dropSchemas());

for (const seed of MEMORY_SEEDS) {
  runStoreConformance(`memory, reordered (seed ${seed})`, () => reorderingStore(memoryStore(), { seed }));
}
for (const seed of SQLITE_SEEDS) {
  runStoreConformance(`sqlite (NORMAL), reordered (seed ${seed})`, () => reorderingStore(sqlite(), { seed }));
}
for (const seed of DURABLE_MEMORY_SEEDS) {
  runDurableConformance(`memory, reordered (seed ${seed})`, () => reorderingStore(memoryStore(), { seed }));
}
for (const seed of DURABLE_SQLITE_SEEDS) {
  runDurableConformance(`sqlite (NORMAL), reordered (seed ${seed})`, () => reorderingStore(sqlite(), { seed }));
}
/** The event feed and process group record suites, on the durable suite's seeds. */
for (const seed of DURABLE_MEMORY_SEEDS) {
  runEventFeedConformance(`memory, reordered (seed ${seed})`, () => reorderingStore(memoryStore(), { seed }));
  runProcessRecordConformance(`memory, reordered (seed ${seed})`, () => reorderingStore(memoryStore(), { seed }));
}
for (const seed of DURABLE_SQLITE_SEEDS) {
  runEventFeedConformance(`sqlite (NORMAL), reordered (seed ${seed})`, () => reorderingStore(sqlite(), { seed }));
  runProcessRecordConformance(`sqlite (NORMAL), reordered (seed ${seed})`, () => reorderingStore(sqlite(), { seed }));
}

const targets: [string, number, () => Store][] = [
  ...MEMORY_SEEDS.map((seed): [string, number, () => Store] => ['memory', seed, () => memoryStore()]),
  ...SQLITE_SEEDS.map((seed): [string, number, () => Store] => ['sqlite', seed, sqlite]),
  ...POSTGRES_SEEDS.map((seed): [string, number, () => Store] => ['postgres', seed, postgres]),
];

let counter = 0;
const newCommand = (over: Partial<NewCommand> = {}): NewCommand => {
  const id = `r${++counter}`;
  return { id, key: 'k', flow: 'f', input: null, idempotencyKey: `idem-${id}`, priority: 'normal', preempt: null, now: 1_000, ...over };
};

/** Settles like `promise`, as a value: what it resolved with, or the error it rejected with. */
async function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

describe.each(targets)('Store races through reorderingStore: %s (seed %i)', (_name, seed, makeInner) => {
  const open = (): Store => reorderingStore(makeInner(), { seed });
  const own = async (store: Store, key = 'k', ownerId = 'o1', now = 1_000) => {
    const lease = await store.acquireOwner({ key, ownerId, now, ttlMs: 10_000, channel: null });
    if (!lease) throw new Error(`${ownerId} could not own ${key}`);
    return { key, ownerId, epoch: lease.epoch };
  };

  it('two enqueues with one idempotence key: exactly one run, both callers get it', async () => {
    const store = open();
    const [a, b] = await Promise.all([
      store.enqueue(newCommand({ id: 'ra', idempotencyKey: 'delivery' })),
      store.enqueue(newCommand({ id: 'rb', idempotencyKey: 'delivery' })),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(b.run.id).toBe(a.run.id);
    expect((await store.listRuns({ key: 'k' })).map((r) => r.id)).toEqual([a.run.id]);
    await store.close();
  });

  it('two owners acquire a free key together: exactly one holds it, at epoch 1', async () => {
    const store = open();
    const leases = await Promise.all(
      ['a', 'b'].map((ownerId) => store.acquireOwner({ key: 'k', ownerId, now: 0, ttlMs: 1_000, channel: null })),
    );
    const held = leases.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    expect(await store.getOwner('k')).toMatchObject({ ownerId: held[0]!.ownerId, epoch: 1 });
    await store.close();
  });

  it('a claim racing an abort-drop request: the run is either dropped by the claim or claimed with the request on it', async () => {
    const store = open();
    await store.enqueue(newCommand({ id: 'r' }));
    const fence = await own(store);
    const [claim, requested] = await Promise.all([
      store.claimNext({ ...fence, now: 2_000 }),
      store.requestCancel({ runId: 'r', mode: 'abort-drop', now: 2_000 }),
    ]);
    const run = await store.getRun('r');
    if (claim.claimed) {
      expect(claim.dropped).toEqual([]);
      expect(requested?.status).toBe('running');
      expect(run).toMatchObject({ status: 'running', cancelRequested: 'abort-drop' });
    } else {
      expect(claim.dropped.map((r) => r.id)).toEqual(['r']);
      expect(requested?.status).toBe('queued');
      expect(run).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    }
    await store.close();
  });

  it('an idle release racing a submit: either the owner keeps the key, or the key is free with the command listed as work', async () => {
    const store = open();
    const fence = await own(store);
    const [released] = await Promise.all([store.releaseOwner({ ...fence, ifIdle: true }), store.enqueue(newCommand({ id: 'late' }))]);
    const owner = await store.getOwner('k');
    const work = await store.keysWithWork({ limit: 10, now: 1_000_000 });
    expect(work.map((w) => w.key)).toEqual(['k']);
    if (released) {
      expect(owner).toMatchObject({ ownerId: null, epoch: fence.epoch });
      expect(work[0]?.owner?.ownerId ?? null).toBeNull();
    } else {
      expect(owner).toMatchObject({ ownerId: 'o1', epoch: fence.epoch });
    }
    expect((await store.getRun('late'))?.status).toBe('queued');
    await store.close();
  });

  it('a commit racing a take-over: committed under the old epoch before it, or rejected as stale with nothing written', async () => {
    const store = open();
    await store.enqueue(newCommand({ id: 'r' }));
    const old = await own(store, 'k', 'o1', 0);
    await store.claimNext({ ...old, now: 0 });
    const [commit, lease] = await Promise.all([
      outcome(store.commitStep({ ...old, runId: 'r', seq: 0, name: 's', result: 1, now: 1 })),
      store.acquireOwner({ key: 'k', ownerId: 'o2', now: 60_000, ttlMs: 10_000, channel: null }),
    ]);
    expect(lease?.epoch).toBe(old.epoch + 1);
    const steps = await store.getSteps('r');
    if (commit.ok) expect(steps.map((s) => [s.name, s.epoch])).toEqual([['s', old.epoch]]);
    else {
      expect(commit.error).toBeInstanceOf(StaleEpochError);
      expect(steps).toEqual([]);
    }
    await store.close();
  });

  it('a renewal racing a take-over from a dead holder: renewed before it or reported lost, and the new owner holds the key', async () => {
    const store = open();
    const a = await own(store, 'k', 'a', 0);
    const [renewal, taken] = await Promise.all([
      store.renewOwners({ ownerId: 'a', leases: [{ key: 'k', epoch: a.epoch }], now: 10, ttlMs: 10_000 }),
      store.acquireOwner({ key: 'k', ownerId: 'b', now: 10, ttlMs: 10_000, channel: null, takeOverFrom: 'a' }),
    ]);
    expect([
      { renewed: ['k'], lost: [] },
      { renewed: [], lost: ['k'] },
    ]).toContainEqual(renewal);
    expect(taken?.epoch).toBe(a.epoch + 1);
    expect(await store.getOwner('k')).toMatchObject({ ownerId: 'b', epoch: a.epoch + 1 });
    await store.close();
  });

  it('an abort-drop request racing a requeue (stop, abort-keep): the next claim drops the run, whichever landed first', async () => {
    const store = open();
    await store.enqueue(newCommand({ id: 'r' }));
    const fence = await own(store);
    await store.claimNext({ ...fence, now: 1 });
    await Promise.all([store.requestCancel({ runId: 'r', mode: 'abort-drop', now: 2 }), store.requeueRun({ ...fence, runId: 'r' })]);
    expect(await store.getRun('r')).toMatchObject({ status: 'queued', cancelRequested: 'abort-drop' });
    const next = await store.claimNext({ ...fence, now: 3 });
    expect(next.claimed).toBeUndefined();
    expect(next.dropped.map((r) => [r.id, r.status])).toEqual([['r', 'cancelled']]);
    await store.close();
  });

  it('many submits for one key in one tick: all recorded, claimed FIFO within priority', async () => {
    const store = open();
    const priorities = ['normal', 'urgent', 'background', 'normal', 'urgent', 'normal'] as const;
    const enqueued = await Promise.all(priorities.map((priority) => store.enqueue(newCommand({ priority }))));
    const bySeq = (p: string) =>
      enqueued
        .map((e) => e.run)
        .filter((r) => r.priority === p)
        .sort((x, y) => x.seq - y.seq)
        .map((r) => r.id);
    const fence = await own(store);
    const order: string[] = [];
    for (
      let claimed = (await store.claimNext({ ...fence, now: 2 })).claimed;
      claimed;
      claimed = (await store.claimNext({ ...fence, now: 2 })).claimed
    ) {
      order.push(claimed.run.id);
      await store.finishRun({ ...fence, runId: claimed.run.id, status: 'completed', now: 3 });
    }
    expect(order).toEqual([...bySeq('urgent'), ...bySeq('normal'), ...bySeq('background')]);
    await store.close();
  });

  it('feed appends issued together: each batch contiguous and in order, seqs unique and increasing', async () => {
    const store = open();
    const batch = (name: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ at: 1, type: `${name}${i}`, runId: null, key: null, data: null }));
    await Promise.all([store.appendEvents(batch('a', 3)), store.appendEvents(batch('b', 2)), store.appendEvents(batch('c', 4))]);
    const read = await store.readEvents({ after: 0, limit: 100 });
    expect(read).toHaveLength(9);
    for (let i = 1; i < read.length; i++) expect(read[i]!.seq).toBeGreaterThan(read[i - 1]!.seq);
    for (const name of ['a', 'b', 'c']) {
      const at = read.map((e, i) => (e.type.startsWith(name) ? i : -1)).filter((i) => i >= 0);
      expect(read.filter((e) => e.type.startsWith(name)).map((e) => e.type)).toEqual(at.map((_, i) => `${name}${i}`));
      expect(at.at(-1)! - at[0]!).toBe(at.length - 1); // contiguous: one transaction
    }
    await store.close();
  });

  it('reap claims of one record issued together: exactly one wins', async () => {
    const store = open();
    const { id } = await store.recordProcessGroup({ pgid: 99, ownerId: 'o', host: 'h', pid: 1, runId: 'r', key: 'k', startedAt: 1 });
    const won = await Promise.all(['j1', 'j2', 'j3', 'j4'].map((j) => store.claimOrphanReap(id, j, 10)));
    expect(won.filter(Boolean)).toHaveLength(1);
    await store.close();
  });

  it('lane transactions issued together are serialized: seqs contiguous, the state is the replay of the journal', async () => {
    const store = open();
    const spawn = (lane: string) => newRecord({ op: 'spawn', at: 1, lane, holder: 'w', host: 'h', pid: 1 });
    const committed = await Promise.all(
      ['a', 'b', 'c', 'd'].map((lane) => store.lanes.transact((view) => ({ append: [spawn(lane)], value: view.lastSeq }))),
    );
    expect(committed.map((c) => c.appended[0]!.seq).sort()).toEqual([1, 2, 3, 4]);
    for (const c of committed) expect(c.appended[0]!.seq).toBe(c.value + 1); // each decided on the view it appended to
    const { records } = await store.lanes.journal();
    expect(await store.lanes.state()).toEqual(replay(records));
    await store.close();
  });
});

/** Issues every lane command in one tick; each is decided inside its own transaction. */
async function driveTogether(lanes: LaneStore, cmds: readonly { cmd: LaneCommand; dt: number }[]): Promise<void> {
  let now = 1_700_000_000_000;
  await Promise.all(
    cmds.map(({ cmd, dt }) => {
      now += dt;
      const caller = { now, host: 'h', pid: 1 };
      const expiry = { now, host: 'h', isProcessAlive: () => true };
      switch (cmd.op) {
        case 'acquire':
          return outcome(
            lanes.transact((v) =>
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
            ),
          );
        case 'release':
          return outcome(lanes.transact((v) => decideRelease(v, { ...caller, lane: cmd.lane, owner: cmd.owner })));
        case 'scavenge':
          return outcome(lanes.transact((v) => decideScavenge(v, expiry, caller)));
        case 'compact':
          return outcome(lanes.compact());
        default:
          return outcome(
            lanes.transact(() => ({
              append: [newRecord({ op: 'spawn', at: now, lane: cmd.lane, holder: 'w', host: 'h', pid: 1 })],
              value: null,
            })),
          );
      }
    }),
  );
}

/** The stores the lane property below runs on: Postgres too when a server answers. */
const laneStores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', sqlite],
  ...(pg.available ? [['postgres', postgres] as [string, () => Store]] : []),
];

describe.each([1, 2, 3, 4, 5])('LaneStore through reorderingStore (seed %i)', (seed) => {
  it.each(laneStores)('%s: random lane commands issued together keep the state equal to replay(journal)', async (_name, makeInner) => {
    await fc.assert(
      fc.asyncProperty(fc.array(laneCommand, { maxLength: 20 }), async (cmds) => {
        const store = reorderingStore(makeInner(), { seed });
        try {
          await driveTogether(store.lanes, cmds);
          const { records, torn } = await store.lanes.journal();
          expect(torn).toBeNull();
          expect(records.map((r) => r.seq)).toEqual([...records.map((r) => r.seq)].sort((x, y) => x - y));
          expect(await store.lanes.state()).toEqual(replay(records));
        } finally {
          await store.close();
        }
      }),
      { numRuns: 10, seed },
    );
  });
});
