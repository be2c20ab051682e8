import { describe, expect, it } from 'vitest';
import { HoldfastError, StaleEpochError } from '../../src/errors.js';
import type { LaneStore } from '../../src/ports/lane-store.js';
import type { NewCommand } from '../../src/ports/store.js';
import { memoryStore } from '../../src/stores/memory/memory-store.js';
import { sqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { reorderingStore } from '../../src/testing/reordering-store.js';

const command = (id: string, now = 0): NewCommand => ({
  id,
  key: 'k',
  flow: 'f',
  input: { id },
  idempotencyKey: `idem-${id}`,
  priority: 'normal',
  preempt: null,
  now,
});

const owner = { key: 'k', ownerId: 'o1', now: 0, ttlMs: 10_000, channel: null } as const;

/** Replaces `names` on `target` (an instance) by versions that log `name:label` when applied. */
function logApplied<T extends object>(target: T, names: readonly (keyof T & string)[], log: string[]): T {
  for (const name of names) {
    const original = target[name] as (...args: unknown[]) => unknown;
    const label = (arg: unknown): string => (typeof arg === 'string' ? arg : String((arg as { id?: unknown } | undefined)?.id));
    Object.defineProperty(target, name, {
      value: (...args: unknown[]) => {
        log.push(`${name}:${label(args[0])}`);
        return Reflect.apply(original, target, args);
      },
    });
  }
  return target;
}

/** Issues getRun for a..e in one tick through a reordering store; returns application and completion orders. */
async function sameTickOrders(seed: number): Promise<{ applied: string[]; completed: string[] }> {
  const applied: string[] = [];
  const completed: string[] = [];
  const store = reorderingStore(logApplied(memoryStore(), ['getRun'], applied), { seed });
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => store.getRun(id).then(() => completed.push(`getRun:${id}`))));
  return { applied, completed };
}

const isInverted = (order: readonly string[]): boolean => order.some((entry, i) => i > 0 && entry < order[i - 1]!);

describe('reorderingStore', () => {
  it('passes results through unchanged: the same records as the plain memory store', async () => {
    const plain = memoryStore();
    const wrapped = reorderingStore(memoryStore(), { seed: 3 });
    for (const store of [plain, wrapped]) {
      await store.enqueue(command('r1', 5));
      await store.enqueue(command('r2', 6));
    }
    expect(await wrapped.enqueue(command('r1'))).toEqual(await plain.enqueue(command('r1')));
    expect(await wrapped.getRun('r1')).toEqual(await plain.getRun('r1'));
    expect(await wrapped.getRun('missing')).toBeUndefined();
    expect(await wrapped.listRuns({ key: 'k' })).toEqual(await plain.listRuns({ key: 'k' }));
    const [lease, plainLease] = [await wrapped.acquireOwner(owner), await plain.acquireOwner(owner)];
    expect(lease).toEqual(plainLease);
    expect(await wrapped.getOwner('k')).toEqual(await plain.getOwner('k'));
    expect(await wrapped.getSteps('r1')).toEqual(await plain.getSteps('r1'));
  });

  it('passes errors through unchanged: a stale fence rejects with StaleEpochError, code stale_epoch', async () => {
    const plain = memoryStore();
    const wrapped = reorderingStore(memoryStore(), { seed: 11 });
    const errors: unknown[] = [];
    for (const store of [plain, wrapped]) {
      await store.enqueue(command('r1'));
      const lease = await store.acquireOwner(owner);
      const stale = { key: 'k', ownerId: 'o1', epoch: lease!.epoch + 1 };
      errors.push(await store.requeueRun({ ...stale, runId: 'r1' }).catch((error: unknown) => error));
    }
    const [plainError, wrappedError] = errors;
    expect(wrappedError).toBeInstanceOf(StaleEpochError);
    expect(wrappedError).toMatchObject({ code: 'stale_epoch', key: 'k' });
    expect((wrappedError as StaleEpochError).message).toBe((plainError as StaleEpochError).message);
  });

  it('passes the very error object through, from a rejection and from a synchronous throw', async () => {
    const rejected = new StaleEpochError('k', 1, 2);
    const thrown = new HoldfastError('boom', 'thrown synchronously');
    const inner = Object.assign(memoryStore(), {
      getRun: () => Promise.reject(rejected),
      listRuns: () => {
        throw thrown;
      },
    });
    const wrapped = reorderingStore(inner, { seed: 1 });
    await expect(wrapped.getRun('x')).rejects.toBe(rejected);
    let pending: Promise<unknown> | undefined;
    expect(() => (pending = wrapped.listRuns({}))).not.toThrow();
    await expect(pending).rejects.toBe(thrown);
  });

  it('applies same-tick calls out of issue order for some seeds, and not in one fixed order', async () => {
    const applied: string[] = [];
    for (let seed = 0; seed <= 50; seed++) applied.push((await sameTickOrders(seed)).applied.join(','));
    const issueOrder = 'getRun:a,getRun:b,getRun:c,getRun:d,getRun:e';
    expect(applied.slice(1).some((order) => isInverted(order.split(',')))).toBe(true);
    expect(applied.every((order) => [...order.split(',')].sort().join(',') === issueOrder)).toBe(true);
    expect(new Set(applied).size).toBeGreaterThan(1);
  });

  it('reorders completions too: for some seed callers settle in another order than the calls were applied', async () => {
    const differs: boolean[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const { applied, completed } = await sameTickOrders(seed);
      differs.push(applied.join() !== completed.join());
    }
    expect(differs).toContain(true);
  });

  it('shows up in the durable order: same-tick enqueues get seqs in the seeded application order', async () => {
    const seqsBySeed = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const store = reorderingStore(memoryStore(), { seed });
      const results = await Promise.all(['r1', 'r2', 'r3'].map((id) => store.enqueue(command(id))));
      expect(results.map((r) => r.run.seq).sort()).toEqual([1, 2, 3]);
      seqsBySeed.add(results.map((r) => r.run.seq).join());
    }
    expect(seqsBySeed.size).toBeGreaterThan(1);
  });

  it('is deterministic: the same seed and call sequence give the same application and completion orders', async () => {
    const run = async (seed: number) => {
      const applied: string[] = [];
      const completed: string[] = [];
      const inner = logApplied(memoryStore(), ['enqueue', 'getRun', 'listRuns'], applied);
      const store = reorderingStore(inner, { seed, maxDelayTurns: 5 });
      const done = (what: string) => () => completed.push(what);
      await Promise.all(['r1', 'r2', 'r3'].map((id) => store.enqueue(command(id)).then(done(id))));
      await store.getRun('r2');
      await Promise.all([store.getRun('r3').then(done('g3')), store.listRuns({}).then(done('l')), store.getRun('r1').then(done('g1'))]);
      return { applied, completed };
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(first.applied).toHaveLength(7);
  });

  it('applies calls in issue order when maxDelayTurns is 0, and rejects a bad maxDelayTurns', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const applied: string[] = [];
      const store = reorderingStore(logApplied(memoryStore(), ['getRun'], applied), { seed, maxDelayTurns: 0 });
      await Promise.all(['a', 'b', 'c'].map((id) => store.getRun(id)));
      expect(applied).toEqual(['getRun:a', 'getRun:b', 'getRun:c']);
    }
    expect(() => reorderingStore(memoryStore(), { seed: 1, maxDelayTurns: -1 })).toThrow(RangeError);
    expect(() => reorderingStore(memoryStore(), { seed: 1, maxDelayTurns: 1.5 })).toThrow(RangeError);
  });

  it('keeps optional members as they are: absent localDirectory stays absent, present stays present', async () => {
    const without = reorderingStore(memoryStore(), { seed: 1 });
    expect('localDirectory' in without).toBe(false);
    expect(without.description).toBe('memory');

    const withDirectory = reorderingStore(Object.assign(memoryStore(), { localDirectory: '/tmp/holdfast-x' }), { seed: 1 });
    expect('localDirectory' in withDirectory).toBe(true);
    expect(withDirectory.localDirectory).toBe('/tmp/holdfast-x');

    const sqlite = sqliteStore({ path: ':memory:' });
    const wrappedSqlite = reorderingStore(sqlite, { seed: 1 });
    expect('localDirectory' in wrappedSqlite).toBe('localDirectory' in sqlite);
    expect(wrappedSqlite.localDirectory).toBe(sqlite.localDirectory);
    expect(wrappedSqlite.description).toBe(sqlite.description);
    await wrappedSqlite.enqueue(command('r1'));
    expect((await wrappedSqlite.getRun('r1'))?.id).toBe('r1');
    await wrappedSqlite.close();
  });

  it('wraps lanes methods too: lanes.state() and lanes.transact() go through and return the inner values', async () => {
    const applied: string[] = [];
    const inner = memoryStore();
    logApplied<LaneStore>(inner.lanes, ['state', 'transact'], applied);
    const wrapped = reorderingStore(inner, { seed: 9 });
    expect(wrapped.lanes).not.toBe(inner.lanes);
    expect(Object.isFrozen(wrapped.lanes)).toBe(true);
    expect(await wrapped.lanes.state()).toEqual(await inner.lanes.state());
    expect(await wrapped.lanes.transact(() => ({ append: [], value: 42 }))).toEqual({ value: 42, appended: [] });
    expect(applied.filter((entry) => entry.startsWith('state:'))).toHaveLength(2);
    expect(applied.filter((entry) => entry.startsWith('transact:'))).toHaveLength(1);
  });

  it('forwards methods the port does not list yet, and close() like any other, into a frozen plain object', async () => {
    const inner = Object.assign(memoryStore(), { futureMethod: async (n: number) => n * 2 });
    const wrapped = reorderingStore(inner, { seed: 5 });
    expect(Object.isFrozen(wrapped)).toBe(true);
    expect(Object.getPrototypeOf(wrapped)).toBe(Object.prototype);
    expect('constructor' in wrapped && Object.hasOwn(wrapped, 'constructor')).toBe(false);
    expect(await (wrapped as unknown as { futureMethod(n: number): Promise<number> }).futureMethod(21)).toBe(42);

    await wrapped.close();
    await expect(wrapped.enqueue(command('late'))).rejects.toMatchObject({ code: 'store_closed' });
    await expect(inner.enqueue(command('late'))).rejects.toMatchObject({ code: 'store_closed' });
  });
});
