import type { LaneMode, LiveLease } from '../../model/lane.js';
import { firstOverlap } from './paths.js';

/**
 * The pure lane arbiter (L1, L2): given a request and the live leases, acquire or refuse with a
 * machine-readable reason and the colliding lease. Same inputs, same decision, forever; the order
 * of `live` never changes the decision (the colliding lease reported is the one with the lowest
 * id among those hit by the strongest reason).
 */

export interface LaneRequest {
  readonly lane: string;
  /** Normalised tree (see normalizeTree). */
  readonly tree: readonly string[];
  /** Missing means `policy.defaultMode`. */
  readonly mode?: LaneMode;
}

export interface ArbiterPolicy {
  /** The mode of a request that names none (L1: exclusive). */
  readonly defaultMode: LaneMode;
}

export const DEFAULT_ARBITER_POLICY: ArbiterPolicy = { defaultMode: 'exclusive' };

/**
 * Why a request was refused, strongest first:
 * - `lane_held`: the lane name already has a live lease (one lease per lane, so its generation
 *   names one holder);
 * - `tree_overlap`: a prefix collides with a live lease's and one of the two is exclusive;
 * - `unscoped_request`: the request's tree is empty and a live lease's is not, so nothing proves
 *   the request stays clear of it.
 */
export type RefuseReason = 'lane_held' | 'tree_overlap' | 'unscoped_request';

export type LaneDecision =
  | { readonly outcome: 'acquire'; readonly lane: string; readonly tree: readonly string[]; readonly mode: LaneMode }
  | {
      readonly outcome: 'refuse';
      readonly lane: string;
      readonly reason: RefuseReason;
      readonly colliding: LiveLease;
      /** The colliding prefixes `[requested, held]` for `tree_overlap`. */
      readonly paths: readonly [string, string] | null;
      /** One line for people: what collided and with whom. */
      readonly message: string;
    };

const REASON_RANK: Record<RefuseReason, number> = { lane_held: 0, tree_overlap: 1, unscoped_request: 2 };

export function arbitrate(request: LaneRequest, live: readonly LiveLease[], policy: ArbiterPolicy = DEFAULT_ARBITER_POLICY): LaneDecision {
  const mode = request.mode ?? policy.defaultMode;
  let best: { reason: RefuseReason; lease: LiveLease; paths: readonly [string, string] | null } | undefined;
  for (const lease of live) {
    const hit = collision({ ...request, mode }, lease);
    if (hit === undefined) continue;
    if (
      best === undefined ||
      REASON_RANK[hit.reason] < REASON_RANK[best.reason] ||
      (hit.reason === best.reason && lease.id < best.lease.id)
    ) {
      best = { ...hit, lease };
    }
  }
  if (best === undefined) return { outcome: 'acquire', lane: request.lane, tree: request.tree, mode };
  return {
    outcome: 'refuse',
    lane: request.lane,
    reason: best.reason,
    colliding: best.lease,
    paths: best.paths,
    message: refusalMessage(request.lane, best.reason, best.lease, best.paths),
  };
}

/** Every live lease the request collides with, in id order (used to scavenge expired blockers). */
export function collidingLeases(
  request: LaneRequest,
  leases: readonly LiveLease[],
  policy: ArbiterPolicy = DEFAULT_ARBITER_POLICY,
): LiveLease[] {
  const mode = request.mode ?? policy.defaultMode;
  return leases.filter((l) => collision({ ...request, mode }, l) !== undefined).sort((a, b) => a.id - b.id);
}

function collision(
  request: LaneRequest & { mode: LaneMode },
  lease: LiveLease,
): { reason: RefuseReason; paths: readonly [string, string] | null } | undefined {
  if (lease.lane === request.lane) return { reason: 'lane_held', paths: null };
  if (lease.tree.length === 0) return undefined;
  if (request.tree.length === 0) return { reason: 'unscoped_request', paths: null };
  if (request.mode === 'shared' && lease.mode === 'shared') return undefined;
  const paths = firstOverlap(request.tree, lease.tree);
  return paths === undefined ? undefined : { reason: 'tree_overlap', paths };
}

function refusalMessage(lane: string, reason: RefuseReason, lease: LiveLease, paths: readonly [string, string] | null): string {
  const held = `lease #${lease.id} of lane "${lease.lane}" held by ${lease.holder} (${lease.mode}, tree [${lease.tree.map(showPath).join(', ')}])`;
  switch (reason) {
    case 'lane_held':
      return `lane "${lane}" is already held: ${held}; wait for its release or adopt it`;
    case 'tree_overlap':
      return `lane "${lane}" overlaps ${held} at ${showPath(paths?.[0] ?? '')} / ${showPath(paths?.[1] ?? '')}; narrow the tree, use shared mode on both, or wait`;
    case 'unscoped_request':
      return `lane "${lane}" names no tree, so it cannot be proven clear of ${held}; pass the paths it will touch`;
  }
}

function showPath(p: string): string {
  return p === '' ? '* (everything)' : p;
}
