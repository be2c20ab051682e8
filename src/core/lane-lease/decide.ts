import type { Json } from '../../model/json.js';
import type { LaneMode, LiveLease, NewLaneRecord } from '../../model/lane.js';
import type { Millis } from '../../model/run.js';
import { arbitrate, collidingLeases, DEFAULT_ARBITER_POLICY, type ArbiterPolicy, type RefuseReason } from './arbiter.js';
import { isLeaseExpired, type ExpiryContext } from './expiry.js';
import { newRecord } from './records.js';

/**
 * The pure decisions of the lane service: each takes the store's view and a validated request and
 * returns the records to append and the answer. The store runs them inside its write transaction
 * (read -> decide -> append), so no decision is ever made on a stale view.
 */

export interface LaneViewLike {
  readonly leases: readonly LiveLease[];
  generation(lane: string): number | undefined;
}

export interface Decision<T> {
  readonly append: readonly NewLaneRecord[];
  readonly value: T;
}

/** Who is asking, and when. */
export interface Caller {
  readonly now: Millis;
  readonly host: string;
  readonly pid: number;
}

export interface AcquireInput extends Caller {
  readonly lane: string;
  readonly kind: string;
  readonly tree: readonly string[];
  readonly mode: LaneMode | undefined;
  readonly owner: string;
  readonly ttlMinutes: number;
  readonly runId: string | null;
}

export type AcquireDecision =
  | { readonly outcome: 'acquire'; readonly generation: number; readonly scavenged: readonly number[] }
  | {
      readonly outcome: 'refuse';
      readonly reason: RefuseReason;
      readonly message: string;
      readonly colliding: LiveLease;
      readonly paths: readonly [string, string] | null;
    };

/**
 * Acquire (L2, L4, L6, L8): arbitrate against the leases that are not expired; on admission,
 * scavenge the expired leases the request collides with, then append the acquire with the lane's
 * next generation. On refusal, append a refuse record naming the reason and the colliding lease.
 */
export function decideAcquire(
  view: LaneViewLike,
  input: AcquireInput,
  expiry: ExpiryContext,
  policy: ArbiterPolicy = DEFAULT_ARBITER_POLICY,
): Decision<AcquireDecision> {
  const expired = view.leases.filter((l) => isLeaseExpired(l, expiry));
  const admission = expired.length === 0 ? view.leases : view.leases.filter((l) => !expired.includes(l));
  const request = { lane: input.lane, tree: input.tree, mode: input.mode };
  const decision = arbitrate(request, admission, policy);
  const who = { holder: input.owner, host: input.host, pid: input.pid, runId: input.runId, at: input.now };
  if (decision.outcome === 'refuse') {
    const detail: Json = {
      colliding: { ...decision.colliding, tree: [...decision.colliding.tree] },
      paths: decision.paths ? [...decision.paths] : null,
      message: decision.message,
    };
    return {
      append: [
        newRecord({
          op: 'refuse',
          lane: input.lane,
          kind: input.kind,
          tree: input.tree,
          mode: input.mode ?? policy.defaultMode,
          reason: decision.reason,
          detail,
          ...who,
        }),
      ],
      value: {
        outcome: 'refuse',
        reason: decision.reason,
        message: decision.message,
        colliding: decision.colliding,
        paths: decision.paths,
      },
    };
  }
  const blockers = expired.length === 0 ? [] : collidingLeases(request, expired, policy);
  const generation = (view.generation(input.lane) ?? 0) + 1;
  return {
    append: [
      ...blockers.map((l) =>
        newRecord({
          op: 'scavenge',
          at: input.now,
          lane: l.lane,
          lease: l.id,
          holder: l.holder,
          host: input.host,
          pid: input.pid,
          reason: 'expired',
        }),
      ),
      newRecord({
        op: 'acquire',
        lane: input.lane,
        kind: input.kind,
        tree: input.tree,
        mode: decision.mode,
        ttlMinutes: input.ttlMinutes,
        generation,
        ...who,
      }),
    ],
    value: { outcome: 'acquire', generation, scavenged: blockers.map((l) => l.id) },
  };
}

export interface LeaseTarget {
  readonly lane: string;
  /** A lease id to match exactly; otherwise the newest live lease on the lane. */
  readonly lease?: number;
}

function onLane(view: LaneViewLike, target: LeaseTarget, also: (l: LiveLease) => boolean = () => true): LiveLease | undefined {
  let match: LiveLease | undefined;
  for (const l of view.leases) {
    if (l.lane !== target.lane || (target.lease !== undefined && l.id !== target.lease) || !also(l)) continue;
    if (match === undefined || l.id > match.id) match = l;
  }
  return match;
}

/** Release: the newest live lease on the lane held by exactly `owner`; nothing if none. */
export function decideRelease(view: LaneViewLike, input: LeaseTarget & Caller & { readonly owner: string }): Decision<LiveLease | null> {
  const lease = input.owner === '' ? undefined : onLane(view, input, (l) => l.holder === input.owner);
  if (lease === undefined) return { append: [], value: null };
  return {
    append: [
      newRecord({
        op: 'release',
        at: input.now,
        lane: lease.lane,
        lease: lease.id,
        holder: input.owner,
        host: input.host,
        pid: input.pid,
        runId: lease.runId,
      }),
    ],
    value: lease,
  };
}

export type HeartbeatDecision =
  { readonly beaten: false } | { readonly beaten: true; readonly coalesced: boolean; readonly lease: LiveLease };

/**
 * Heartbeat (L5): only a non-empty owner equal to the lease's recorded holder may beat it; a
 * beat younger than `coalesceWithinMs` writes nothing and still succeeds.
 */
export function decideHeartbeat(
  view: LaneViewLike,
  input: LeaseTarget & Caller & { readonly owner: string; readonly coalesceWithinMs: number },
): Decision<HeartbeatDecision> {
  const lease = input.owner === '' ? undefined : onLane(view, input, (l) => l.holder !== '' && l.holder === input.owner);
  if (lease === undefined) return { append: [], value: { beaten: false } };
  if (input.coalesceWithinMs > 0 && input.now - lease.beatAt < input.coalesceWithinMs) {
    return { append: [], value: { beaten: true, coalesced: true, lease } };
  }
  return {
    append: [
      newRecord({
        op: 'heartbeat',
        at: input.now,
        lane: lease.lane,
        lease: lease.id,
        holder: input.owner,
        host: input.host,
        pid: input.pid,
        runId: lease.runId,
      }),
    ],
    value: { beaten: true, coalesced: false, lease: { ...lease, beatAt: input.now } },
  };
}

/**
 * Adopt (L7): the newest live lease on the lane, expired or not, moves to `owner` on this host
 * and process; its id, tree, TTL and generation are kept and it counts as beaten now.
 */
export function decideAdopt(view: LaneViewLike, input: LeaseTarget & Caller & { readonly owner: string }): Decision<LiveLease | null> {
  const lease = input.owner === '' ? undefined : onLane(view, input);
  if (lease === undefined) return { append: [], value: null };
  return {
    append: [
      newRecord({
        op: 'adopt',
        at: input.now,
        lane: lease.lane,
        lease: lease.id,
        holder: input.owner,
        host: input.host,
        pid: input.pid,
        runId: lease.runId,
        detail: { from: lease.holder },
      }),
    ],
    value: { ...lease, holder: input.owner, host: input.host, pid: input.pid, beatAt: input.now },
  };
}

export interface HaltInput extends Caller {
  readonly handle: string;
  readonly lane: string | null;
  readonly owner: string | null;
  readonly reason: string | null;
  readonly command: string | null;
  readonly runId: string | null;
}

/** Halt (L7): records a stop decision and the proposed command; kills nothing, changes no lease. */
export function decideHalt(view: LaneViewLike, input: HaltInput): Decision<{ lease: LiveLease | null; command: string | null }> {
  const lease = input.lane === null ? view.leases.find((l) => String(l.pid) === input.handle) : onLane(view, { lane: input.lane });
  return {
    append: [
      newRecord({
        op: 'halt',
        at: input.now,
        lane: input.lane ?? lease?.lane ?? null,
        lease: lease?.id ?? null,
        holder: input.owner,
        host: input.host,
        pid: input.pid,
        runId: input.runId,
        reason: input.reason ?? 'halt',
        detail: { handle: input.handle, command: input.command },
      }),
    ],
    value: { lease: lease ?? null, command: input.command },
  };
}

/** Spawn (L7): records an intent to take a lane; grants nothing. */
export function decideSpawn(
  input: Caller & { readonly lane: string; readonly owner: string | null; readonly runId: string | null; readonly reason: string | null },
): Decision<null> {
  return {
    append: [
      newRecord({
        op: 'spawn',
        at: input.now,
        lane: input.lane,
        holder: input.owner,
        host: input.host,
        pid: input.pid,
        runId: input.runId,
        reason: input.reason ?? 'spawn',
      }),
    ],
    value: null,
  };
}

/** The janitor: scavenge every expired lease (L6). */
export function decideScavenge(view: LaneViewLike, expiry: ExpiryContext, caller: Caller): Decision<LiveLease[]> {
  const expired = view.leases.filter((l) => isLeaseExpired(l, expiry));
  return {
    append: expired.map((l) =>
      newRecord({
        op: 'scavenge',
        at: caller.now,
        lane: l.lane,
        lease: l.id,
        holder: l.holder,
        host: caller.host,
        pid: caller.pid,
        reason: 'expired',
      }),
    ),
    value: expired,
  };
}
