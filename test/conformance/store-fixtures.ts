import { expect } from 'vitest';
import type { ScheduleRecord } from '../../src/model/index.js';
import type { ClaimedRun, ClaimNext, Fence, NewCommand, Store } from '../../src/ports/store.js';

/*
 * Small helpers the store conformance suites share: a command factory with unique ids and
 * idempotence keys, taking a key's owner lease, and claiming.
 */

let counter = 0;

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/** A new command for key `repo:a` at 1000, with a unique id and idempotence key unless given. */
export function command(over: Partial<NewCommand> = {}): NewCommand {
  return {
    id: `run-${Math.abs(hash(JSON.stringify(over)))}-${counter++}`,
    key: 'repo:a',
    flow: 'f',
    input: { n: 1 },
    idempotencyKey: `idem-${counter++}`,
    priority: 'normal',
    preempt: null,
    now: 1000,
    ...over,
  };
}

/** Takes the owner lease of `key` (throws if someone else holds it) and returns its fence. */
export async function own(store: Store, key = 'repo:a', ownerId = 'o1', now = 1000): Promise<Fence> {
  const lease = await store.acquireOwner({ key, ownerId, now, ttlMs: 10_000, channel: null });
  if (!lease) throw new Error('could not own');
  return { key, ownerId, epoch: lease.epoch };
}

/** The run a claim returned, if any. */
export async function claim(store: Store, request: ClaimNext): Promise<ClaimedRun | undefined> {
  return (await store.claimNext(request)).claimed;
}

/** Claims the next run of the fence's key at `now`, and checks it is `id`. */
export async function claimed(store: Store, fence: Fence, now: number, id: string): Promise<ClaimedRun> {
  const next = await claim(store, { ...fence, now });
  expect(next?.run.id).toBe(id);
  return next!;
}

/** A schedule on key `repo:s`, every minute, first tick at 61 000, unless given. */
export function schedule(over: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: 'tick',
    key: 'repo:s',
    flow: 'tick',
    input: { n: 1 },
    priority: 'background',
    timing: { every: 60_000 },
    catchUp: false,
    nextFireAt: 61_000,
    lastFireAt: null,
    createdAt: 1000,
    ...over,
  };
}
