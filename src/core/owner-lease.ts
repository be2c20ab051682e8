import type { Epoch, Millis, OwnerLease } from '../model/index.js';

/**
 * Pure decisions over owner leases (K1). Both stores apply these inside their write transaction,
 * so the memory store and the SQL stores agree by construction.
 */

export interface AcquireInput {
  readonly key: string;
  readonly ownerId: string;
  readonly now: Millis;
  readonly ttlMs: number;
  readonly channel: string | null;
  /**
   * The caller asserts this owner is dead (its process is gone from this host): take the key over
   * even if that owner's lease has not expired yet. Has no effect on any other holder.
   */
  readonly takeOverFrom?: string | undefined;
}

/**
 * The lease after `ownerId` asks for the key, or undefined if another owner's lease is live.
 * Every acquisition bumps the epoch, even of a lease `ownerId` already holds: a kernel acquires a
 * key again only after its runtime for the key exited (released, lost, or lapsed), and anything
 * that runtime still had in flight must be fenced out by the new epoch.
 */
export function decideAcquire(existing: OwnerLease | undefined, input: AcquireInput): OwnerLease | undefined {
  const expiresAt = input.now + input.ttlMs;
  if (existing === undefined) {
    return { key: input.key, ownerId: input.ownerId, epoch: 1, expiresAt, channel: input.channel };
  }
  const deadHolder = input.takeOverFrom !== undefined && existing.ownerId === input.takeOverFrom && existing.ownerId !== input.ownerId;
  const live = existing.ownerId !== null && existing.expiresAt > input.now && !deadHolder;
  if (live && existing.ownerId !== input.ownerId) return undefined;
  return { key: input.key, ownerId: input.ownerId, epoch: existing.epoch + 1, expiresAt, channel: input.channel };
}

/**
 * Whom an acquisition decided by `decideAcquire` took the key from: the previous holder, when it
 * is another owner that still held the lease (expired, or proven dead) rather than having
 * released it; undefined otherwise.
 */
export function takenOverFrom(existing: OwnerLease | undefined, input: Pick<AcquireInput, 'ownerId'>): string | undefined {
  const holder = existing?.ownerId;
  return holder !== null && holder !== undefined && holder !== input.ownerId ? holder : undefined;
}

export type FenceVerdict = { readonly ok: true } | { readonly ok: false; readonly current: Epoch | null };

/**
 * A fenced write is allowed only for the key's current holder at the current epoch. Expiry alone
 * does not fence: a lapsed lease nobody took over is still exclusively this owner's, and a
 * take-over always bumps the epoch.
 */
export function checkFence(lease: OwnerLease | undefined, ownerId: string, epoch: Epoch): FenceVerdict {
  if (lease === undefined) return { ok: false, current: null };
  if (lease.epoch !== epoch || lease.ownerId !== ownerId) return { ok: false, current: lease.ownerId === null ? null : lease.epoch };
  return { ok: true };
}

/** Whether a lease is held by someone at `now` (for deciding who may try to own a key). */
export function isLeaseLive(lease: OwnerLease | undefined, now: Millis): boolean {
  return lease !== undefined && lease.ownerId !== null && lease.expiresAt > now;
}
