import { isClaimable } from '../../../src/core/mailbox.js';
import { checkFence, decideAcquire } from '../../../src/core/owner-lease.js';
import type { InterruptReason } from '../../../src/core/interrupt.js';
import {
  acquire,
  acquireRequest,
  busy,
  cloneState,
  encode,
  claim,
  deadHolder,
  demandDecision,
  entriesOf,
  fenced,
  interrupt,
  faults,
  KEYS,
  OWNERS,
  ownerId,
  pending,
  urgentDemand,
  type Command,
  type Limits,
  type ModelKey,
  type ModelOwner,
  type ModelState,
} from './model.js';
import { expectedClaim, expectedEffect } from './spec.js';

/** One transition: what happened, the state after it, and the guarantees it broke. */
export interface Transition {
  readonly label: string;
  readonly state: ModelState;
  readonly violations: readonly string[];
}

/** Every transition enabled in `s` (an action that would change nothing is left out). */
export function successors(s: ModelState, commands: readonly Command[], limits: Limits): Transition[] {
  const out: Transition[] = [];
  const add = (label: string, apply: (n: ModelState) => string[] | void) => {
    const next = cloneState(s);
    const violations = apply(next) ?? [];
    out.push({ label, violations, state: normalize(next, commands) });
  };
  s.runs.forEach((run, i) => {
    if (run.status === 'new') add(`submit ${i}`, (n) => void Object.assign(n.runs[i]!, { status: 'queued', seq: n.nextSeq++ }));
    if (s.cancels < limits.maxCancels && faults(s) < limits.maxFaults && pending(run) && run.cancel === null) {
      for (const mode of ['abort-drop', 'abort-keep'] as const) {
        add(`cancel ${i} ${mode}`, (n) => {
          n.runs[i]!.cancel = mode;
          n.cancels++;
        });
      }
    }
  });
  if (s.now < limits.maxTime && timeMatters(s)) add('tick', (n) => tick(n, limits.ttl));
  if (s.stalled !== null) add(`${s.stalled} resumes`, (n) => void (n.stalled = null));
  for (const o of OWNERS) {
    const active = busy(s, o);
    if (s.crashes < limits.maxCrashes && faults(s) < limits.maxFaults && active) {
      add(`crash ${o}`, (n) => {
        n.owners[o] = { incarnation: n.owners[o].incarnation + 1, runtimes: {} };
        if (n.stalled === o) n.stalled = null;
        n.crashes++;
      });
    }
    if (s.stalls < limits.maxStalls && faults(s) < limits.maxFaults && s.stalled === null && active) {
      add(`${o} stalls`, (n) => {
        n.stalled = o;
        n.stalls++;
      });
    }
    if (s.stalled !== o) for (const key of KEYS) ownerSteps(s, commands, limits, o, key, add);
  }
  return out;
}

/**
 * Whether letting time pass can change anything but the clock: a run waits for a later time, an
 * owner is stalled, or a lease is held by nobody acting for it (a crashed or lapsed holder). When
 * every lease is held by a live runtime that renews it at each tick, a tick only shifts every time
 * by one, and the states after it behave as those before it: that tick is left out.
 */
export function timeMatters(s: ModelState): boolean {
  if (s.stalled !== null) return true;
  if (s.runs.some((r) => r.status === 'waiting' && (r.wakeAt ?? 0) > s.now)) return true;
  return KEYS.some((key) => {
    const lease = s.leases[key];
    if (!lease || lease.ownerId === null || lease.expiresAt <= s.now || deadHolder(s, lease.ownerId)) return false;
    return !OWNERS.some((o) => ownerId(s, o) === lease.ownerId && s.owners[o].runtimes[key]?.epoch === lease.epoch);
  });
}

/**
 * Time passes: every owner that is not stalled renews its leases (fenced: a lease taken over is
 * lost), and a runtime that can no longer prove its lease stops acting (K10).
 */
export function tick(n: ModelState, ttl: number): void {
  n.now++;
  for (const o of OWNERS) {
    for (const key of KEYS) {
      const rt = n.owners[o].runtimes[key];
      if (!rt) continue;
      if (n.stalled !== o && fenced(n, o, key)) {
        n.leases[key] = { ...n.leases[key]!, expiresAt: n.now + ttl };
        rt.provenUntil = n.now + ttl - 1;
      } else if (n.now >= rt.provenUntil) delete n.owners[o].runtimes[key];
    }
  }
}

/**
 * Arrival order only matters within a key: sequence numbers are renumbered 1, 2 ... per key, so
 * two submits to different keys in either order reach the same state.
 */
export function normalize(n: ModelState, commands: readonly Command[]): ModelState {
  for (const key of KEYS) {
    const ranked = n.runs.map((r, i) => ({ r, i })).filter(({ r, i }) => commands[i]!.key === key && r.status !== 'new');
    ranked.sort((a, b) => a.r.seq - b.r.seq).forEach(({ r }, rank) => (r.seq = rank + 1));
  }
  n.nextSeq = 100;
  return n;
}

/** The state's identity up to swapping the two owners (they are interchangeable). */
export function canonical(s: ModelState): string {
  const direct = encode(s, false);
  const mirrored = encode(s, true);
  return mirrored < direct ? mirrored : direct;
}

export function hasWork(s: ModelState, commands: readonly Command[], key: ModelKey): boolean {
  return entriesOf(s, commands, key).some((e) => isClaimable(e, s.now) || e.cancelRequested === 'abort-drop');
}

function ownerSteps(
  s: ModelState,
  commands: readonly Command[],
  limits: Limits,
  o: ModelOwner,
  key: ModelKey,
  add: (label: string, apply: (n: ModelState) => string[] | void) => void,
): void {
  const rt = s.owners[o].runtimes[key];
  if (!rt) {
    if (hasWork(s, commands, key) && decideAcquire(s.leases[key], acquireRequest(s, o, key, limits.ttl)))
      add(`${o} acquires ${key}`, (n) => void acquire(n, o, key, limits.ttl));
    return;
  }
  if (s.now >= rt.provenUntil) return; // unproven: it acts no more (it lapses at the next tick)
  if (rt.active === null) return add(`${o} claims on ${key}`, (n) => claimStep(n, commands, o, key));
  const index = rt.active;
  const run = s.runs[index]!;
  const urgent = commands[index]!.priority === 'urgent';
  if (rt.inTurn) {
    add(`${o} completes the turn of ${index}`, (n) => {
      if (!fenced(n, o, key)) return;
      Object.assign(n.runs[index]!, { turned: true, parked: false });
      n.owners[o].runtimes[key]!.inTurn = false;
    });
  }
  const reason = demandDecision(s, commands, o, key);
  if (reason) add(`${o} is told of demand on ${key}`, (n) => interruptStep(n, o, key, reason));
  if (rt.inTurn) return;
  if (index === 0 && !run.slept && !run.turned) {
    add(`${o} suspends ${index} on a timer`, (n) => {
      if (!fenced(n, o, key)) return;
      Object.assign(n.runs[index]!, { status: 'waiting', wakeAt: n.now + 1, slept: true });
      n.owners[o].runtimes[key]!.active = null;
    });
  }
  if (!urgent && !run.turned) add(`${o} starts the turn of ${index}`, (n) => startTurn(n, commands, o, key));
  if (urgent || run.turned) {
    add(`${o} finishes ${index}`, (n) => {
      n.owners[o].runtimes[key]!.active = null;
      if (fenced(n, o, key)) Object.assign(n.runs[index]!, { status: 'completed', parked: false });
    });
  }
}

/** The check before a turn (K5): interrupt on durable demand, else the turn starts; then no urgent demand may be queued. */
export function startTurn(n: ModelState, commands: readonly Command[], o: ModelOwner, key: ModelKey): string[] {
  const reason = demandDecision(n, commands, o, key);
  if (reason) return interruptStep(n, o, key, reason);
  const rt = n.owners[o].runtimes[key]!;
  rt.inTurn = true;
  const demand = urgentDemand(n, commands, key);
  return demand ? [`K5: the turn of ${rt.active} started while urgent ${demand.index} was queued`] : [];
}

/** An interruption recorded, checked against the K6 table. */
export function interruptStep(n: ModelState, o: ModelOwner, key: ModelKey, reason: InterruptReason): string[] {
  const index = n.owners[o].runtimes[key]!.active!;
  const before = n.runs[index]!.status;
  const effect = interrupt(n, o, key, reason);
  if (effect === undefined) return [];
  const run = n.runs[index]!;
  const expected = expectedEffect(reason);
  if (before !== 'running' || run.status !== expected.status || (expected.parked && !run.parked)) {
    return [`K6: ${reason.kind} ${'mode' in reason ? reason.mode : ''} left run ${index} ${run.status} (parked ${run.parked})`];
  }
  return [];
}

/** The claim of an idle runtime, checked against the mailbox specification (K4, cancel, D4). */
export function claimStep(n: ModelState, commands: readonly Command[], o: ModelOwner, key: ModelKey): string[] {
  if (!fenced(n, o, key)) return [];
  const violations: string[] = [];
  const expected = expectedClaim(n, commands, key);
  const decision = claim(n, commands, o, key);
  const dropped = decision.drop.map((e) => e.index).sort();
  if (JSON.stringify(dropped) !== JSON.stringify(expected.drop))
    violations.push(`cancel: dropped [${dropped}], expected [${expected.drop}]`);
  if (decision.claim?.index !== expected.claim) violations.push(`K4: claimed ${decision.claim?.index}, expected ${expected.claim}`);
  for (const index of dropped) Object.assign(n.runs[index]!, { status: 'cancelled', cancelledBy: 'operator' });
  const chosen = decision.claim?.index;
  if (chosen !== undefined) {
    const run = n.runs[chosen]!;
    if (run.cancel === 'abort-drop') violations.push(`cancel: claimed ${chosen} although its abort-drop was recorded`);
    if (run.status === 'waiting' && !run.parked && (run.wakeAt ?? Infinity) > n.now)
      violations.push(`D4: claimed ${chosen} before its timer`);
    Object.assign(run, { status: 'running', cancel: null, wakeAt: null });
    n.owners[o].runtimes[key]!.active = chosen;
    return violations;
  }
  if (!hasWork(n, commands, key)) {
    n.leases[key] = { ...n.leases[key]!, ownerId: null, expiresAt: 0 };
    delete n.owners[o].runtimes[key];
  }
  return violations;
}

/** Guarantees of every state: one acting runtime per key, and it holds the lease at its epoch (K1). */
export function stateViolations(s: ModelState): string[] {
  const violations: string[] = [];
  for (const key of KEYS) {
    const acting = OWNERS.filter((o) => {
      const rt = s.owners[o].runtimes[key];
      return rt !== undefined && rt.active !== null && s.now < rt.provenUntil;
    });
    if (acting.length > 1) violations.push(`K1: ${acting.join(' and ')} both act on ${key}`);
    for (const o of acting) {
      if (!checkFence(s.leases[key], ownerId(s, o), s.owners[o].runtimes[key]!.epoch).ok)
        violations.push(`K1: ${o} acts on ${key} without its lease`);
    }
  }
  return violations;
}
