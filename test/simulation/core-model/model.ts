import { decideClaim, type ClaimableEntry } from '../../../src/core/mailbox.js';
import { checkFence, decideAcquire } from '../../../src/core/owner-lease.js';
import { decidePreemption } from '../../../src/core/preemption.js';
import { interruptEffect, type InterruptReason } from '../../../src/core/interrupt.js';
import type { CancelMode, OwnerLease, PreemptKind, Priority } from '../../../src/model/index.js';

/*
 * A small model of the kernel built from the pure core's decisions (mailbox claim, preemption,
 * owner lease and fence, interrupt effects), for exhaustive exploration: every interleaving of
 * submits, lease acquisitions and renewals, claims, turn starts, notices, suspensions, completions,
 * cancels, crashes and clock ticks of a small configuration. The shell around the decisions is as
 * thin as the runtime's: a write goes through the fence or the runtime is lost; a runtime acts only
 * while its lease is proven (its renewal plus the TTL, less a margin).
 */

export const KEYS = ['a', 'b'] as const;
export const OWNERS = ['A', 'B'] as const;
export type ModelKey = (typeof KEYS)[number];
export type ModelOwner = (typeof OWNERS)[number];

export interface Command {
  readonly key: ModelKey;
  readonly priority: Priority;
  readonly preempt: PreemptKind | null;
}

export interface RunState {
  status: 'new' | 'queued' | 'running' | 'waiting' | 'completed' | 'cancelled';
  seq: number;
  cancel: CancelMode | null;
  parked: boolean;
  wakeAt: number | null;
  /** Journal progress: the run slept once, its turn committed. */
  slept: boolean;
  turned: boolean;
  /** Why it ended cancelled: an operator's request or an abort-drop preemption. */
  cancelledBy: 'operator' | 'preempt' | null;
}

export interface Runtime {
  epoch: number;
  active: number | null;
  inTurn: boolean;
  provenUntil: number;
}

export interface ModelState {
  now: number;
  nextSeq: number;
  runs: RunState[];
  leases: Partial<Record<ModelKey, OwnerLease>>;
  owners: Record<ModelOwner, { incarnation: number; runtimes: Partial<Record<ModelKey, Runtime>> }>;
  crashes: number;
  cancels: number;
  /** An owner stopped (a paused process): it renews nothing and does nothing until it resumes. */
  stalled: ModelOwner | null;
  stalls: number;
}

export interface Limits {
  readonly ttl: number;
  readonly maxTime: number;
  readonly maxCrashes: number;
  readonly maxCancels: number;
  readonly maxStalls: number;
  /** Crashes, stalls and cancels together, at most (each kind also within its own bound). */
  readonly maxFaults: number;
}

export const faults = (s: ModelState) => s.crashes + s.stalls + s.cancels;

export function initialState(commands: readonly Command[]): ModelState {
  return {
    now: 0,
    nextSeq: 1,
    runs: commands.map(() => ({
      status: 'new',
      seq: 0,
      cancel: null,
      parked: false,
      wakeAt: null,
      slept: false,
      turned: false,
      cancelledBy: null,
    })),
    leases: {},
    owners: { A: { incarnation: 1, runtimes: {} }, B: { incarnation: 1, runtimes: {} } },
    crashes: 0,
    cancels: 0,
    stalled: null,
    stalls: 0,
  };
}

export const ownerId = (s: ModelState, o: ModelOwner) => `${o}${s.owners[o].incarnation}`;
export const pending = (r: RunState) => r.status === 'queued' || r.status === 'running' || r.status === 'waiting';

/** How the claim decision sees the runs of `key`. */
export function entriesOf(s: ModelState, commands: readonly Command[], key: ModelKey): (ClaimableEntry & { index: number })[] {
  const entries: (ClaimableEntry & { index: number })[] = [];
  s.runs.forEach((r, index) => {
    if (commands[index]!.key !== key || r.status === 'new') return;
    const status = r.status;
    entries.push({
      index,
      status,
      priority: commands[index]!.priority,
      seq: r.seq,
      parked: r.parked,
      cancelRequested: r.cancel,
      wakeAt: status === 'waiting' ? r.wakeAt : null,
      waitKind: status === 'waiting' ? (r.parked ? 'preempted' : 'timer') : null,
      deadlineAt: null,
    });
  });
  return entries;
}

/** A fenced write of `o`'s runtime for `key`: true when the fence passes; else the runtime is lost. */
export function fenced(s: ModelState, o: ModelOwner, key: ModelKey): boolean {
  const rt = s.owners[o].runtimes[key];
  if (!rt) return false;
  if (checkFence(s.leases[key], ownerId(s, o), rt.epoch).ok) return true;
  delete s.owners[o].runtimes[key];
  return false;
}

/** Whether `id` names an incarnation that crashed (its owner runs a later one): provably dead. */
export function deadHolder(s: ModelState, id: string | null | undefined): boolean {
  return id != null && OWNERS.some((o) => id[0] === o && id !== ownerId(s, o));
}

/** `o`'s request for `key`: it takes the key over at once from a crashed holder (same host), else waits for expiry. */
export function acquireRequest(s: ModelState, o: ModelOwner, key: ModelKey, ttl: number) {
  const holder = s.leases[key]?.ownerId;
  return {
    key,
    ownerId: ownerId(s, o),
    now: s.now,
    ttlMs: ttl,
    channel: null,
    takeOverFrom: deadHolder(s, holder) ? holder! : undefined,
  };
}

export function acquire(s: ModelState, o: ModelOwner, key: ModelKey, ttl: number): boolean {
  const lease = decideAcquire(s.leases[key], acquireRequest(s, o, key, ttl));
  if (!lease) return false;
  s.leases[key] = lease;
  s.owners[o].runtimes[key] = { epoch: lease.epoch, active: null, inTurn: false, provenUntil: s.now + ttl - 1 };
  return true;
}

/** The urgent demand the runtime reads before a turn (the store's peekUrgent). */
export function urgentDemand(
  s: ModelState,
  commands: readonly Command[],
  key: ModelKey,
): { index: number; preempt: PreemptKind | null } | undefined {
  let best: { index: number; seq: number } | undefined;
  s.runs.forEach((r, index) => {
    const c = commands[index]!;
    if (c.key !== key || r.status !== 'queued' || c.priority !== 'urgent' || r.cancel === 'abort-drop') return;
    if (!best || r.seq < best.seq) best = { index, seq: r.seq };
  });
  return best && { index: best.index, preempt: commands[best.index]!.preempt };
}

/** Interrupts the active run of `o`'s runtime for `key` and records the interrupt's effect (fenced). */
export function interrupt(s: ModelState, o: ModelOwner, key: ModelKey, reason: InterruptReason): string | undefined {
  const rt = s.owners[o].runtimes[key]!;
  const index = rt.active!;
  rt.active = null;
  rt.inTurn = false;
  const effect = interruptEffect(reason);
  if (effect === 'nothing' || !fenced(s, o, key)) return undefined;
  const run = s.runs[index]!;
  if (effect === 'park') Object.assign(run, { status: 'waiting', parked: true, wakeAt: s.now });
  else if (effect === 'requeue') Object.assign(run, { status: 'queued', cancel: run.cancel === 'abort-keep' ? null : run.cancel });
  else if (effect === 'cancel') Object.assign(run, { status: 'cancelled', cancelledBy: reason.kind === 'cancel' ? 'operator' : 'preempt' });
  return effect;
}

/** What the runtime decides from durable demand for its active run (a notice, or before a turn). */
export function demandDecision(s: ModelState, commands: readonly Command[], o: ModelOwner, key: ModelKey): InterruptReason | undefined {
  const rt = s.owners[o].runtimes[key]!;
  const index = rt.active!;
  const run = s.runs[index]!;
  if (run.cancel !== null) return { kind: 'cancel', mode: run.cancel };
  const demand = urgentDemand(s, commands, key);
  const decision = decidePreemption(
    { runId: String(index), priority: commands[index]!.priority },
    demand && { runId: String(demand.index), preempt: demand.preempt },
  );
  return decision.kind === 'none' ? undefined : { kind: 'preempt', mode: decision.kind, by: decision.by };
}

/** The claim of `o`'s idle runtime for `key`: drops, the claimed run (index), or the key released. */
export function claim(s: ModelState, commands: readonly Command[], o: ModelOwner, key: ModelKey) {
  const entries = entriesOf(s, commands, key);
  const decision = decideClaim(entries, s.now);
  return decision;
}

/** A copy of `s` (the exploration keeps every state it visits). */
export function cloneState(s: ModelState): ModelState {
  const runtimes = (o: ModelOwner) => {
    const copy: Partial<Record<ModelKey, Runtime>> = {};
    for (const key of KEYS) {
      const rt = s.owners[o].runtimes[key];
      if (rt) copy[key] = { ...rt };
    }
    return copy;
  };
  const leases: Partial<Record<ModelKey, OwnerLease>> = {};
  for (const key of KEYS) if (s.leases[key]) leases[key] = { ...s.leases[key] };
  return {
    ...s,
    runs: s.runs.map((r) => ({ ...r })),
    leases,
    owners: {
      A: { incarnation: s.owners.A.incarnation, runtimes: runtimes('A') },
      B: { incarnation: s.owners.B.incarnation, runtimes: runtimes('B') },
    },
  };
}

/** A compact identity of `s`, with the owners' names swapped when `mirror` is set. */
export function encode(s: ModelState, mirror: boolean): string {
  const name = (o: string | null | undefined) => (o == null ? '-' : mirror ? (o[0] === 'A' ? 'B' : 'A') + o.slice(1) : o);
  const order: readonly ModelOwner[] = mirror ? ['B', 'A'] : ['A', 'B'];
  let text = `${s.now}/${s.crashes}${s.stalls}${s.cancels}${name(s.stalled)}`;
  for (const r of s.runs) {
    text += `|${r.status}${r.seq}${r.cancel ?? ''}${r.parked ? 'p' : ''}${r.wakeAt ?? ''}${r.slept ? 's' : ''}${r.turned ? 't' : ''}${r.cancelledBy ?? ''}`;
  }
  for (const key of KEYS) {
    const l = s.leases[key];
    text += l ? `|${name(l.ownerId)}${l.epoch}@${l.expiresAt}` : '|none';
  }
  for (const o of order) {
    text += `|${s.owners[o].incarnation}`;
    for (const key of KEYS) {
      const rt = s.owners[o].runtimes[key];
      text += rt ? `:${rt.epoch},${rt.active ?? ''},${rt.inTurn ? 1 : 0},${rt.provenUntil}` : ':';
    }
  }
  return text;
}

/** Whether `o` has a runtime for any key. */
export const busy = (s: ModelState, o: ModelOwner) => KEYS.some((key) => s.owners[o].runtimes[key] !== undefined);
