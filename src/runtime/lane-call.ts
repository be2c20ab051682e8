import { findNonJson } from '../core/json-value.js';
import { leaseExpiresAt } from '../core/lane-lease/expiry.js';
import { parseRunHolder } from '../core/lane-lease/run-holder.js';
import { checkLane, checkMode, checkTree } from '../core/lane-lease/validate.js';
import { HoldfastError, InvalidInputError } from '../errors.js';
import { LaneRefusedError, type CollidingLease } from '../lane-errors.js';
import type { Json, LiveLease, StepRecord } from '../model/index.js';
import { checkDuration, type LaneHandle, type LaneOptions, type LaneSpec } from './flow.js';
import { LANE_END_STEP, LANE_STEP, type RunAcquire, type RunAcquired, type RunLanes } from './lane-runs.js';
import type { DurableCursor, WaitRequest } from './run-environment.js';
import { callNow } from './step-function.js';

/** Default TTL of a `ctx.lane` lease (L6: 50 minutes). */
const DEFAULT_TTL_MS = 50 * 60_000;
/** A run refused by a lease no run holds, or on a store that cannot wake it, asks again at least this often. */
const RECHECK_MS = 30_000;

/** The journal cursor as `ctx.lane` uses it: a durable cursor that can skip a finished lane block. */
export interface LaneCursor extends DurableCursor {
  readonly lanes: RunLanes;
  /** The first journaled entry after `seq` that `match` accepts, if any. */
  journaledAfter(seq: number, match: (step: StepRecord) => boolean): StepRecord | undefined;
  /** Moves the cursor past `seq` (the positions of a lane block journaled as a whole). */
  skipPast(seq: number): void;
}

/** What position `lane:<lane>` journals: the lease taken, or the refusal with `onRefuse: 'fail'`. */
type Opened = { readonly lease: number; readonly generation: number } | { readonly refused: RefusalRecord };
interface RefusalRecord {
  readonly reason: string;
  /** The colliding prefixes `[requested, held]` of a tree overlap. */
  readonly paths: readonly [string, string] | null;
  readonly colliding: CollidingLease;
}

/**
 * `ctx.lane` (see FlowContext.lane for what happens on crashes, refusals and interruptions).
 * Positions: `lane:<lane>` journals the acquire (or the refusal), `fn`'s own durable calls follow,
 * and `lane-end:<lane>` journals `{ opened, result }` before the lease is released, so a re-run
 * that finds it returns the result and skips the block.
 */
export async function runLane(
  cursor: LaneCursor,
  spec: LaneSpec,
  fn: (lane: LaneHandle) => unknown,
  options: LaneOptions = {},
): Promise<Json> {
  const request = checkSpec(spec, fn, options);
  const name = `${LANE_STEP}${request.lane}`;
  const { seq, recorded } = cursor.next(name, 'ctx.lane');
  const opened = recorded as Opened | undefined;
  if (opened !== undefined && 'refused' in opened) throw refusedError(request.lane, opened.refused);
  const ended = endOf(cursor, seq);
  if (ended !== undefined) {
    cursor.skipPast(ended.seq);
    return (ended.result as { result: Json }).result;
  }
  cursor.live();
  cursor.at(seq, name);
  const acquire: RunAcquire = { ...request, runId: cursor.runId, seq, epoch: cursor.fencingToken.epoch };
  const lease = await acquireOrWait(cursor, acquire, request.onRefuse, opened === undefined);
  if (opened === undefined) await cursor.commit(seq, name, { lease: lease.id, generation: lease.generation });
  return runHolding(cursor, seq, lease, fn);
}

async function acquireOrWait(
  cursor: LaneCursor,
  acquire: RunAcquire,
  onRefuse: 'wait' | 'fail',
  journalRefusal: boolean,
): Promise<LiveLease> {
  const { env } = cursor;
  for (let attempt = 0; ; attempt++) {
    const got: RunAcquired = await env.durable('acquire lane', () => cursor.lanes.acquire(acquire));
    switch (got.outcome) {
      case 'acquire':
      case 'resume':
        return got.lease;
      case 'stale':
        cursor.live();
        throw new HoldfastError(
          'lane_stale_execution',
          `run ${cursor.runId}: lease #${got.lease.id} of lane "${acquire.lane}" is held by a newer execution of this run (${got.lease.holder}); this one stops`,
        );
      case 'refuse':
        break;
    }
    const colliding = got.colliding;
    const own = parseRunHolder(colliding.holder);
    const refusal: RefusalRecord = { reason: got.reason, paths: got.paths, colliding: collidingOf(colliding) };
    if (own?.runId === cursor.runId) {
      // A lease this run left behind at a lane block that ended (a crash between its end and its
      // release) is released and the acquire asked again; an enclosing open block cannot be waited for.
      if (attempt === 0 && endOf(cursor, own.seq) !== undefined) {
        await env.durable('release a finished lane', () => cursor.lanes.releaseLease(cursor.runId, colliding));
        continue;
      }
      throw refusedError(
        acquire.lane,
        refusal,
        'this run holds it itself (an enclosing ctx.lane): take the nested lane on a tree disjoint from it',
      );
    }
    if (onRefuse === 'fail') {
      if (journalRefusal) await cursor.commit(acquire.seq, `${LANE_STEP}${acquire.lane}`, { refused: refusal });
      throw refusedError(acquire.lane, refusal);
    }
    return enterWait(cursor, acquire, colliding, got.reason);
  }
}

/** The run waits (kind `lane`) until the colliding lease's expiry, or until its holder run wakes it. */
async function enterWait(cursor: LaneCursor, acquire: RunAcquire, colliding: LiveLease, reason: string): Promise<never> {
  const { env } = cursor;
  const now = env.clock.now();
  const holderRun = parseRunHolder(colliding.holder)?.runId;
  const expiresAt = leaseExpiresAt(colliding, cursor.lanes.policy);
  const woken = holderRun !== undefined && cursor.lanes.wakesWaiters;
  const wait: WaitRequest['wait'] = {
    kind: 'lane',
    wakeAt: woken ? expiresAt : Math.min(expiresAt, now + RECHECK_MS),
    ...(holderRun === undefined ? {} : { onRun: holderRun }),
    detail: { seq: acquire.seq, lane: acquire.lane, reason, lease: colliding.id, holder: colliding.holder, expiresAt },
  };
  await env.durable('suspend run', () => env.store.suspendRun({ ...env.fence, runId: cursor.runId, now, wait }));
  await cursor.lanes.afterWaitEntered(colliding);
  return cursor.endInWait(wait);
}

/** Runs `fn` under the lease: beaten meanwhile, its result journaled at `lane-end:<lane>`, then released. */
async function runHolding(cursor: LaneCursor, openSeq: number, lease: LiveLease, fn: (lane: LaneHandle) => unknown): Promise<Json> {
  const { env } = cursor;
  const scope = cursor.lanes.beat(cursor.runId, lease, lease.ttlMinutes * 60_000);
  const handle: LaneHandle = Object.freeze({
    lane: lease.lane,
    lease: lease.id,
    generation: lease.generation,
    tree: Object.freeze([...lease.tree]),
    mode: lease.mode,
    fencingToken: cursor.fencingToken,
    signal: AbortSignal.any([cursor.signal, scope.signal]),
  });
  let result: unknown;
  try {
    result = await callNow(fn, handle);
  } catch (error) {
    const release = scope.open && !cursor.signal.aborted;
    scope.close();
    if (release) {
      await env.durable('release lane', () => cursor.lanes.release(scope));
      await cursor.lanes.wake(cursor.runId);
    }
    throw scope.lost ? (scope.signal.reason as Error) : error;
  }
  if (scope.lost) throw scope.signal.reason as Error;
  if (!scope.open) cursor.live(); // the execution ended while fn ran (it waits, or was abandoned)
  const value = result === undefined ? null : result;
  const bad = findNonJson(value, 'result');
  if (bad !== undefined) {
    await env.durable('release lane', () => cursor.lanes.release(scope));
    await cursor.lanes.wake(cursor.runId);
    throw new HoldfastError(
      'invalid_lane_result',
      `the ctx.lane("${lease.lane}") function of run ${cursor.runId} returned a value that is not plain JSON at ${bad}; return only JSON data`,
    );
  }
  const endName = `${LANE_END_STEP}${lease.lane}`;
  const end = cursor.next(endName, 'ctx.lane');
  cursor.at(end.seq, endName);
  // The end is journaled and the lease released in one commit where the store batches writes; in
  // either order a crash between them is safe (a re-run acquires again, or finds the lease left
  // behind and releases it: see acquireOrWait).
  await Promise.all([
    cursor.commit(end.seq, endName, { opened: openSeq, result: value as Json }),
    env.durable('release lane', () => cursor.lanes.release(scope)),
  ]);
  await cursor.lanes.wake(cursor.runId);
  return value as Json;
}

function endOf(cursor: LaneCursor, openSeq: number): StepRecord | undefined {
  return cursor.journaledAfter(openSeq, (s) => s.name.startsWith(LANE_END_STEP) && (s.result as { opened?: number })?.opened === openSeq);
}

function checkSpec(spec: LaneSpec, fn: unknown, options: LaneOptions) {
  if (spec === null || typeof spec !== 'object') {
    throw new InvalidInputError('ctx.lane needs a spec { lane, tree, mode?, ttlMs? } as its first argument', 'invalid_lane_spec');
  }
  const lane = checkLane(spec.lane);
  if (typeof fn !== 'function')
    throw new InvalidInputError(`ctx.lane("${lane}") needs a function to run holding the lane`, 'invalid_lane_spec');
  const onRefuse = options?.onRefuse ?? 'wait';
  if (onRefuse !== 'wait' && onRefuse !== 'fail') {
    throw new InvalidInputError(
      `ctx.lane("${lane}"): onRefuse must be "wait" or "fail", got ${JSON.stringify(onRefuse)}`,
      'invalid_lane_spec',
    );
  }
  return {
    lane,
    tree: checkTree(spec.tree),
    mode: checkMode(spec.mode),
    ttlMs: checkDuration(spec.ttlMs, `ctx.lane("${lane}") ttlMs`, 'invalid_lane_spec') ?? DEFAULT_TTL_MS,
    onRefuse,
  };
}

function collidingOf(l: LiveLease): CollidingLease {
  return { id: l.id, lane: l.lane, holder: l.holder, runId: l.runId, tree: [...l.tree], mode: l.mode };
}

function refusedError(lane: string, r: RefusalRecord, hint?: string): LaneRefusedError {
  const shown = (p: string) => (p === '' ? '* (everything)' : p);
  const detail =
    r.reason === 'lane_held'
      ? 'one lane name has one live lease'
      : r.reason === 'tree_overlap' && r.paths !== null
        ? `the trees collide at ${shown(r.paths[0])} / ${shown(r.paths[1])}`
        : 'a request without a tree cannot be proven clear of it';
  const what = hint ?? "wait for it (onRefuse: 'wait', the default), narrow the tree, or take it shared on both sides";
  return new LaneRefusedError(lane, r.reason, r.colliding, detail, what);
}
