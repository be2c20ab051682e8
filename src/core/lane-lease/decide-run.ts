import type { LaneMode, LiveLease } from '../../model/lane.js';
import type { ArbiterPolicy } from './arbiter.js';
import {
  decideAcquire,
  decideAdopt,
  decideHeartbeat,
  type AcquireDecision,
  type Caller,
  type Decision,
  type HeartbeatDecision,
  type LaneViewLike,
} from './decide.js';
import type { ExpiryContext } from './expiry.js';
import { newRecord } from './records.js';
import { parseRunHolder, runHolder, type RunHolder } from './run-holder.js';

/**
 * The lane decisions of runs (`ctx.lane`), over the same journal as the lane service. A run's
 * lease is held by `run:<runId>/<seq>@<epoch>` (run-holder.ts), so each decision can tell the
 * lease a run took at a position from any other. Pure, like decide.ts: the store runs them in
 * its write transaction.
 */

export interface RunAcquireInput extends Caller, RunHolder {
  readonly lane: string;
  readonly kind: string;
  readonly tree: readonly string[];
  readonly mode: LaneMode | undefined;
  readonly ttlMinutes: number;
}

export type RunAcquireDecision =
  | AcquireDecision
  /** The run already holds a lease for this position: resumed as it is, or adopted under this epoch. */
  | { readonly outcome: 'resume'; readonly lease: LiveLease; readonly adopted: boolean }
  /** A newer execution of the run (a later epoch) holds the lease: this one is stale. */
  | { readonly outcome: 'stale'; readonly lease: LiveLease };

/** The live lease a run took at `seq` on `lane`, whatever the epoch, if any. */
export function leaseOfRunAt(view: LaneViewLike, runId: string, seq: number, lane: string): LiveLease | undefined {
  return view.leases.find((l) => {
    if (l.lane !== lane) return false;
    const holder = parseRunHolder(l.holder);
    return holder !== undefined && holder.runId === runId && holder.seq === seq;
  });
}

/**
 * Acquire for a run, idempotent on (run, position): a live lease the run took at this position
 * (expired or not: nothing collided with it since, or it would have been scavenged) is resumed,
 * adopted under this execution's epoch when an earlier one (or another process) held it; only
 * when there is none is the lane arbitrated as a new acquire (decideAcquire).
 */
export function decideRunAcquire(
  view: LaneViewLike,
  input: RunAcquireInput,
  expiry: ExpiryContext,
  policy?: ArbiterPolicy,
): Decision<RunAcquireDecision> {
  const holder = runHolder(input);
  const mine = leaseOfRunAt(view, input.runId, input.seq, input.lane);
  if (mine !== undefined) {
    const held = parseRunHolder(mine.holder)!;
    if (held.epoch > input.epoch) return { append: [], value: { outcome: 'stale', lease: mine } };
    if (mine.holder === holder && mine.host === input.host && mine.pid === input.pid) {
      return { append: [], value: { outcome: 'resume', lease: mine, adopted: false } };
    }
    const adopt = decideAdopt(view, { lane: input.lane, lease: mine.id, owner: holder, now: input.now, host: input.host, pid: input.pid });
    return { append: adopt.append, value: { outcome: 'resume', lease: adopt.value!, adopted: true } };
  }
  const acquire = decideAcquire(view, { ...input, owner: holder, runId: input.runId, ttlMinutes: input.ttlMinutes }, expiry, policy);
  return acquire;
}

/**
 * Releases every live lease held by `runId` through `ctx.lane` (whatever the position and epoch):
 * what the run-ending path does, so a run that ends holds no lane. Leases taken for a run by
 * other holders (the CLI's `--run-id`) are not touched.
 */
export function decideReleaseRun(view: LaneViewLike, input: Caller & { readonly runId: string }): Decision<LiveLease[]> {
  const held = view.leases.filter((l) => parseRunHolder(l.holder)?.runId === input.runId);
  return {
    append: held.map((l) =>
      newRecord({
        op: 'release',
        at: input.now,
        lane: l.lane,
        lease: l.id,
        holder: l.holder,
        host: input.host,
        pid: input.pid,
        runId: input.runId,
        reason: 'run-ended',
      }),
    ),
    value: held,
  };
}

export interface Beat {
  readonly lane: string;
  readonly lease: number;
  readonly owner: string;
}

/**
 * Beats many leases in one transaction (L5, each by its exact holder): a beat younger than
 * `coalesceWithinMs` writes nothing and still succeeds. One answer per beat, in order.
 */
export function decideHeartbeats(
  view: LaneViewLike,
  beats: readonly Beat[],
  caller: Caller & { readonly coalesceWithinMs: number },
): Decision<HeartbeatDecision[]> {
  const decisions = beats.map((beat) => decideHeartbeat(view, { ...caller, ...beat }));
  return { append: decisions.flatMap((d) => d.append), value: decisions.map((d) => d.value) };
}
