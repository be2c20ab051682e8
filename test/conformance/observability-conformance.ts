import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { claimed, command, own } from './store-fixtures.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const CHILD_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01';

/**
 * What observability (I4) asks of every store: a run keeps the trace context it was recorded with
 * (its spans continue that trace in any process), and an acquisition says whom it took a key
 * over from (`holdfast_lease_takeovers_total`).
 */
export function runObservabilityConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Store conformance (observability): ${name}`, () => {
    it('a run keeps the traceparent it was enqueued or spawned with; null without one; a redelivery keeps the first', async () => {
      const store = await makeStore();
      const traced = await store.enqueue(command({ id: 'traced', idempotencyKey: 'd-1', traceparent: PARENT }));
      expect(traced.run.traceparent).toBe(PARENT);
      expect((await store.enqueue(command({ id: 'plain' }))).run.traceparent).toBeNull();
      const again = await store.enqueue(command({ id: 'again', idempotencyKey: 'd-1', traceparent: CHILD_PARENT }));
      expect([again.created, again.run.id, again.run.traceparent]).toEqual([false, 'traced', PARENT]);
      expect((await store.getRun('traced'))?.traceparent).toBe(PARENT);
      expect((await store.listRuns({ status: ['queued'] })).map((r) => [r.id, r.traceparent])).toEqual([
        ['traced', PARENT],
        ['plain', null],
      ]);
      const fence = await own(store);
      const parent = await claimed(store, fence, 1001, 'traced');
      expect(parent.run.traceparent).toBe(PARENT);
      const child = await store.spawnChild({
        ...fence,
        runId: 'traced',
        seq: 0,
        name: 'spawn:f',
        child: { ...command({ id: 'child', parentId: 'traced', traceparent: CHILD_PARENT }), now: 1002 },
      });
      expect(child.traceparent).toBe(CHILD_PARENT);
      expect((await store.getRun('child'))?.traceparent).toBe(CHILD_PARENT);
      await store.close();
    });

    it('acquireOwner names the owner it took the key over from, and only then', async () => {
      const store = await makeStore();
      const free = await store.acquireOwner({ key: 'k', ownerId: 'a', now: 0, ttlMs: 100, channel: null });
      expect(free?.takenOverFrom).toBeUndefined();
      const own = await store.acquireOwner({ key: 'k', ownerId: 'a', now: 10, ttlMs: 100, channel: null });
      expect(own?.takenOverFrom).toBeUndefined();
      const expired = await store.acquireOwner({ key: 'k', ownerId: 'b', now: 500, ttlMs: 100, channel: null });
      expect(expired).toMatchObject({ epoch: 3, ownerId: 'b', takenOverFrom: 'a' });
      const dead = await store.acquireOwner({ key: 'k', ownerId: 'c', now: 510, ttlMs: 100, channel: null, takeOverFrom: 'b' });
      expect(dead).toMatchObject({ epoch: 4, ownerId: 'c', takenOverFrom: 'b' });
      expect(await store.releaseOwner({ key: 'k', ownerId: 'c', epoch: 4 })).toBe(true);
      const released = await store.acquireOwner({ key: 'k', ownerId: 'd', now: 520, ttlMs: 100, channel: null });
      expect(released?.epoch).toBe(5);
      expect(released?.takenOverFrom).toBeUndefined();
      expect(await store.getOwner('k')).not.toHaveProperty('takenOverFrom');
      await store.close();
    });
  });
}
