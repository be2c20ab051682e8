import { DEFAULT_ARBITER_POLICY, type ArbiterPolicy, type RefuseReason } from '../core/lane-lease/arbiter.js';
import { encodeLaneRecordLine, readJournalLines } from '../core/lane-lease/codec.js';
import {
  decideAcquire,
  decideAdopt,
  decideHalt,
  decideHeartbeat,
  decideRelease,
  decideScavenge,
  decideSpawn,
} from '../core/lane-lease/decide.js';
import {
  DEFAULT_EXPIRY_POLICY,
  withoutExpired,
  type ExpiryContext,
  type ExpiryPolicy,
  type ProcessProbe,
} from '../core/lane-lease/expiry.js';
import { checkGeneration, type GenerationVerdict } from '../core/lane-lease/generations.js';
import { DEFAULT_BEAT_WINDOW_MS, livenessVerdict, type LivenessVerdict } from '../core/lane-lease/liveness-verdict.js';
import { LaneJournalCorruptError } from '../lane-errors.js';
import type { LaneJournalRead, LaneMode, LiveLease } from '../model/lane.js';
import type { Clock } from '../ports/clock.js';
import type { LaneCompacted, LaneStore } from '../ports/lane-store.js';
import type { RunStore } from '../ports/run-store.js';
import { holdingRun, type HoldingRun } from './holding-run.js';
import { checkLane, checkLeaseId, checkMode, checkNonNegative, checkOwner, checkPositive, checkTree, optionalText } from './validate.js';

export type { HoldingRun } from './holding-run.js';

export interface LanesOptions {
  /** The lane journal; with the run reads too (a whole Store), `status` shows the runs holding leases. */
  readonly store: { readonly lanes: LaneStore } & Partial<Pick<RunStore, 'getRun' | 'getSteps'>>;
  readonly clock: Clock;
  /** This host's name, recorded on every record and used to probe holder pids (L6). */
  readonly host: string;
  readonly pid: number;
  readonly isProcessAlive: ProcessProbe;
  readonly expiry?: ExpiryPolicy;
  readonly arbiter?: ArbiterPolicy;
}

export interface AcquireRequest {
  readonly lane: string;
  readonly kind?: string;
  readonly tree: readonly string[];
  readonly mode?: LaneMode;
  readonly owner: string;
  /** Default 50 minutes (L6). */
  readonly ttlMinutes?: number;
  readonly runId?: string;
}

export type AcquireResult =
  | { readonly outcome: 'acquire'; readonly lease: LiveLease; readonly generation: number; readonly scavenged: readonly number[] }
  | {
      readonly outcome: 'refuse';
      readonly seq: number;
      readonly reason: RefuseReason;
      readonly message: string;
      readonly colliding: LiveLease;
      readonly paths: readonly [string, string] | null;
    };

export interface LeaseRequest {
  readonly lane: string;
  readonly owner: string;
  /** A lease id; without it, the newest live lease on the lane. */
  readonly lease?: number;
}

export interface LaneStatus {
  readonly lease: LiveLease;
  readonly ageMs: number;
  readonly sinceBeatMs: number;
  readonly expired: boolean;
  readonly verdict: LivenessVerdict;
  /** The run holding the lease (taken with `ctx.lane`), when the store can tell. */
  readonly run?: HoldingRun;
}

export type Lanes = ReturnType<typeof createLanes>;

/**
 * The lane-lease service (L1–L9) over a store's lane journal. Every durable method is one store
 * transaction (read -> decide -> append): if the process dies before it, nothing was recorded;
 * during it, the transaction commits whole or not at all; after it returns, the record is as
 * durable as the store promises, and a lease stays held after this process exits, until it is
 * released, adopted away or expires (TTL + grace).
 */
export function createLanes(options: LanesOptions) {
  const { store, clock, host, pid } = options;
  const lanes = store.lanes;
  const expiryPolicy = options.expiry ?? DEFAULT_EXPIRY_POLICY;
  const arbiterPolicy = options.arbiter ?? DEFAULT_ARBITER_POLICY;
  const expiryAt = (now: number): ExpiryContext => ({ now, host, isProcessAlive: options.isProcessAlive, policy: expiryPolicy });

  return {
    /**
     * Arbitrates and, if admitted, journals the grant; a refusal is journaled too, with its
     * reason and the colliding lease. Died before: nothing recorded, nothing held. Died after:
     * the lease is held for its TTL (+ grace) even though this process is gone.
     */
    async acquire(request: AcquireRequest): Promise<AcquireResult> {
      const input = {
        lane: checkLane(request.lane),
        kind: request.kind === undefined ? 'work' : checkLane(request.kind, 'kind'),
        tree: checkTree(request.tree),
        mode: checkMode(request.mode),
        owner: checkOwner(request.owner),
        ttlMinutes: checkPositive(request.ttlMinutes, 'ttlMinutes', expiryPolicy.defaultTtlMinutes),
        runId: optionalText(request.runId, 'runId'),
      };
      const now = clock.now();
      const { value, appended } = await lanes.transact((view) =>
        decideAcquire(view, { ...input, now, host, pid }, expiryAt(now), arbiterPolicy),
      );
      const last = appended.at(-1)!;
      if (value.outcome === 'refuse') return { ...value, seq: last.seq };
      const lease: LiveLease = {
        id: last.seq,
        lane: input.lane,
        kind: input.kind,
        tree: input.tree,
        mode: last.mode ?? 'exclusive',
        holder: input.owner,
        host,
        pid,
        runId: input.runId,
        ttlMinutes: input.ttlMinutes,
        generation: value.generation,
        acquiredAt: now,
        beatAt: now,
      };
      return { outcome: 'acquire', lease, generation: value.generation, scavenged: value.scavenged };
    },

    /** Releases the caller's lease. Died before it committed: the lease is still held (release again). */
    async release(request: LeaseRequest): Promise<{ released: LiveLease | null }> {
      const input = { lane: checkLane(request.lane), owner: checkOwner(request.owner), lease: checkLeaseId(request.lease) };
      const now = clock.now();
      const { value } = await lanes.transact((view) => decideRelease(view, { ...input, now, host, pid }));
      return { released: value };
    },

    /**
     * Beats the caller's lease (L5): only its exact holder may. A beat younger than
     * `coalesceWithinMs` writes nothing and reports `coalesced`. A beat lost to a crash only lets
     * the lease age; beat again.
     */
    async heartbeat(request: LeaseRequest & { readonly coalesceWithinMs?: number }) {
      const owner = typeof request.owner === 'string' ? request.owner.trim() : '';
      const input = {
        lane: checkLane(request.lane),
        owner,
        lease: checkLeaseId(request.lease),
        coalesceWithinMs: checkNonNegative(request.coalesceWithinMs, 'coalesceWithinMs'),
      };
      const now = clock.now();
      const { value } = await lanes.transact((view) => decideHeartbeat(view, { ...input, now, host, pid }));
      return value;
    },

    /** Moves the newest live lease on a lane (expired ones too) to `owner` on this process (L7). */
    async adopt(request: LeaseRequest): Promise<{ adopted: LiveLease | null }> {
      const input = { lane: checkLane(request.lane), owner: checkOwner(request.owner), lease: checkLeaseId(request.lease) };
      const now = clock.now();
      const { value } = await lanes.transact((view) => decideAdopt(view, { ...input, now, host, pid }));
      return { adopted: value };
    },

    /** Records a stop decision and the proposed command (L7). Kills nothing, releases nothing. */
    async halt(request: { handle: string; lane?: string; owner?: string; reason?: string; command?: string; runId?: string }) {
      const input = {
        handle: checkLane(request.handle, 'handle'),
        lane: request.lane === undefined ? null : checkLane(request.lane),
        owner: optionalText(request.owner, 'owner'),
        reason: optionalText(request.reason, 'reason'),
        command: optionalText(request.command, 'command'),
        runId: optionalText(request.runId, 'runId'),
      };
      const now = clock.now();
      const { value, appended } = await lanes.transact((view) => decideHalt(view, { ...input, now, host, pid }));
      return { recorded: true as const, seq: appended[0]!.seq, ...value };
    },

    /** Records an intent to take a lane (L7). Grants nothing. */
    async spawn(request: { lane: string; owner?: string; runId?: string; reason?: string }) {
      const input = {
        lane: checkLane(request.lane),
        owner: optionalText(request.owner, 'owner'),
        runId: optionalText(request.runId, 'runId'),
        reason: optionalText(request.reason, 'reason'),
      };
      const now = clock.now();
      const { appended } = await lanes.transact(() => decideSpawn({ ...input, now, host, pid }));
      return { recorded: true as const, seq: appended[0]!.seq };
    },

    /**
     * The live leases. With `expireDead`, the admission view: expired leases (L6) left out.
     * Without it, every lease not released or scavenged (what adopt and the janitor see).
     */
    async live(options: { expireDead?: boolean } = {}): Promise<LiveLease[]> {
      const { leases } = await lanes.state();
      return options.expireDead ? withoutExpired(leases, expiryAt(clock.now())) : [...leases];
    },

    /** The janitor: journals a scavenge for every expired lease, in one transaction. */
    async scavenge(): Promise<LiveLease[]> {
      const now = clock.now();
      const { value } = await lanes.transact((view) => decideScavenge(view, expiryAt(now), { now, host, pid }));
      return value;
    },

    /** Replaces the journal by one checkpoint in one transaction (L9); see LaneStore.compact. */
    async compact(): Promise<LaneCompacted> {
      return lanes.compact();
    },

    /** The lane's current generation (L8), undefined if it was never acquired. */
    async generation(lane: string): Promise<number | undefined> {
      const { generations } = await lanes.state();
      const name = checkLane(lane);
      return Object.hasOwn(generations, name) ? generations[name] : undefined;
    },

    /**
     * The gate for work stamped with a generation (L8): ok only for the lane's current generation
     * while a live lease holds it. Anything else, including a failure to read the store, refuses.
     */
    async fence(lane: string, generation: number): Promise<GenerationVerdict> {
      try {
        const name = checkLane(lane);
        const { leases, generations } = await lanes.state();
        const current = Object.hasOwn(generations, name) ? generations[name] : undefined;
        return checkGeneration(name, generation, current, leases.filter((l) => l.lane === name).at(-1));
      } catch (error) {
        return {
          ok: false,
          reason: 'unresolved',
          current: null,
          message: `generation of lane "${lane}" could not be resolved (${(error as Error).message}); refuse the work`,
        };
      }
    },

    /** Each live lease with its age, last beat and liveness verdict over a beat window. */
    async status(options: { windowMs?: number } = {}): Promise<LaneStatus[]> {
      const windowMs = checkPositive(options.windowMs, 'windowMs', DEFAULT_BEAT_WINDOW_MS);
      const now = clock.now();
      const [{ leases }, { records }] = await Promise.all([lanes.state(), lanes.journal({ sinceAt: now - windowMs })]);
      const ctx = expiryAt(now);
      return Promise.all(
        leases.map(async (lease) => {
          const held = await holdingRun(store, lease);
          return {
            lease,
            ageMs: now - lease.acquiredAt,
            sinceBeatMs: now - lease.beatAt,
            expired: withoutExpired([lease], ctx).length === 0,
            verdict: livenessVerdict(lease, records, now, windowMs, held?.commits),
            ...(held && { run: held.run }),
          };
        }),
      );
    },

    /** The journal in append order (throws LaneJournalCorruptError on a corrupt record). */
    async journal(): Promise<LaneJournalRead> {
      return lanes.journal();
    },

    /** The journal as sorted-key JSON lines, one record per line, each ending in a newline. */
    async exportJsonl(): Promise<string> {
      const { records } = await lanes.journal();
      return records.map((r) => `${encodeLaneRecordLine(r)}\n`).join('');
    },

    /**
     * Loads an export into an empty journal in one transaction. A torn last line reads as not
     * written (reported in `torn`); a bad line before it refuses the whole import.
     */
    async importJsonl(text: string, where = 'import'): Promise<{ imported: number; torn: LaneJournalRead['torn'] }> {
      const read = readJournalLines(text);
      if (!read.ok) throw new LaneJournalCorruptError(`${where} line ${read.position}`, read.position, read.seq, read.problem);
      const { imported } = await lanes.importJournal(read.records);
      return { imported, torn: read.torn };
    },
  };
}
