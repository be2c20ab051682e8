import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/postgres.js';
import type { Store } from '../../src/ports/store.js';
import { postgresForTests } from '../support/postgres.js';

/*
 * Owner leases on the database's clock (I6): with `clock: 'database'` (the default) the Postgres
 * store measures acquisition, renewal and expiry on the server's clock, so two hosts whose clocks
 * are an hour apart (here: two stores, each passing a `now` an hour off the server's) agree on
 * when a lease expires. The same steps with `clock: 'caller'` show what the skew would do.
 * Lease times are checked against the server's clock read just before and after each call.
 */
const HOUR = 3_600_000;
const TTL = 60_000;

const pg = await postgresForTests('lease_clock');

describe.skipIf(!pg.available)('Postgres store: owner leases on the database clock', () => {
  afterAll(() => pg.dropSchemas());

  const serverNow = async (): Promise<number> =>
    Number((await pg.query<{ ms: string }>('SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint AS ms'))[0]!.ms);
  /** Two stores on one schema: the hosts of two kernels. */
  const twoHosts = (clock?: 'database' | 'caller'): [Store, Store] => {
    const schema = pg.schema('hosts');
    const open = () => postgresStore({ connectionString: pg.url, schema, max: 2, ...(clock === undefined ? {} : { clock }) });
    return [open(), open()];
  };
  const acquire = (store: Store, ownerId: string, now: number, ttlMs = TTL, key = 'k') =>
    store.acquireOwner({ key, ownerId, now, ttlMs, channel: null });

  it('a host an hour behind gets a lease that lives its TTL on the server clock; a host an hour ahead cannot take it', async () => {
    const [behind, ahead] = twoHosts(); // the default clock is the database's
    const before = await serverNow();
    const lease = await acquire(behind, 'behind', before - HOUR);
    const after = await serverNow();
    expect(lease?.expiresAt).toBeGreaterThanOrEqual(before + TTL);
    expect(lease?.expiresAt).toBeLessThanOrEqual(after + TTL);
    expect(await acquire(ahead, 'ahead', after + HOUR)).toBeUndefined();
    expect(await ahead.getOwner('k')).toMatchObject({ ownerId: 'behind', epoch: 1 });

    const renewedFrom = await serverNow();
    const renewal = await behind.renewOwners({ ownerId: 'behind', leases: [{ key: 'k', epoch: 1 }], now: renewedFrom - HOUR, ttlMs: TTL });
    expect(renewal).toEqual({ renewed: ['k'], lost: [] });
    const renewed = await behind.getOwner('k');
    expect(renewed!.expiresAt).toBeGreaterThanOrEqual(renewedFrom + TTL);
    expect(renewed!.expiresAt).toBeLessThanOrEqual((await serverNow()) + TTL);
    expect(await acquire(ahead, 'ahead', (await serverNow()) + HOUR)).toBeUndefined();
    await behind.close();
    await ahead.close();
  });

  it('a host an hour ahead cannot keep a lease past its TTL: once the server clock passes it, a host an hour behind takes over', async () => {
    const [ahead, behind] = twoHosts('database');
    const before = await serverNow();
    const lease = await acquire(ahead, 'ahead', before + HOUR, 50);
    expect(lease!.expiresAt).toBeLessThanOrEqual((await serverNow()) + 50);
    const renewal = await ahead.renewOwners({ ownerId: 'ahead', leases: [{ key: 'k', epoch: 1 }], now: before + HOUR, ttlMs: 50 });
    expect(renewal.renewed).toEqual(['k']);
    const expiresAt = (await ahead.getOwner('k'))!.expiresAt;
    expect(expiresAt).toBeLessThan(before + HOUR);
    while ((await serverNow()) <= expiresAt) await pg.query('SELECT pg_sleep(0.02)');
    const taken = await acquire(behind, 'behind', (await serverNow()) - HOUR);
    expect(taken).toMatchObject({ ownerId: 'behind', epoch: 2, takenOverFrom: 'ahead' });
    await ahead.close();
    await behind.close();
  });

  it("with clock 'caller' the same skew steals a live lease and keeps an expired one (what the database clock prevents)", async () => {
    const [behind, ahead] = twoHosts('caller');
    const now = await serverNow();
    await acquire(behind, 'behind', now - HOUR);
    expect(await acquire(ahead, 'ahead', now + HOUR)).toMatchObject({ ownerId: 'ahead', takenOverFrom: 'behind' });
    expect((await ahead.getOwner('k'))!.expiresAt).toBe(now + HOUR + TTL);
    expect(await acquire(behind, 'behind', now + 10 * TTL)).toBeUndefined(); // long expired on the server's clock, still held
    await behind.close();
    await ahead.close();
  });

  it('a lease keeper thread renews over its own connection while the event loop is blocked, and reports a lease taken over', async () => {
    const [store, other] = twoHosts('database');
    const lost: [string, number][] = [];
    const keeper = await store.openLeaseKeeper!({
      ownerId: 'kept',
      ttlMs: 1_000,
      renewEveryMs: 50,
      marginMs: 200,
      hungAfterMs: 30_000,
      onLost: (key, epoch) => lost.push([key, epoch]),
    });
    const acquiredAt = keeper.now();
    const lease = await acquire(store, 'kept', 0, 1_000);
    const kept = keeper.keep({ key: 'k', epoch: lease!.epoch }, acquiredAt);
    const blockedFrom = await serverNow();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_500); // this thread does nothing for 1.5 s
    const renewed = await other.getOwner('k');
    expect(renewed).toMatchObject({ ownerId: 'kept', epoch: lease!.epoch });
    expect(renewed!.expiresAt).toBeGreaterThan(blockedFrom + 1_000); // renewed during the block, on the server's clock
    expect(kept.provenUntil()).toBeGreaterThan(keeper.now());
    expect(await acquire(other, 'other', 0)).toBeUndefined();
    const taken = await other.acquireOwner({ key: 'k', ownerId: 'other', now: 0, ttlMs: TTL, channel: null, takeOverFrom: 'kept' });
    while (lost.length === 0) await pg.query('SELECT pg_sleep(0.02)');
    expect(lost).toEqual([['k', lease!.epoch]]);
    expect(kept.provenUntil()).toBe(-Infinity);
    expect(await other.getOwner('k')).toMatchObject({ ownerId: 'other', epoch: taken!.epoch });
    await keeper.close();
    await store.close();
    await other.close();
  });
});
