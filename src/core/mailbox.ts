import type { Millis, Priority, RunStatus, WaitKind } from '../model/index.js';
import { faultMutation } from './fault-mutations.js';

/** Sort rank of a priority: lower runs first (K4). */
export function priorityRank(priority: Priority): number {
  switch (priority) {
    case 'urgent':
      return 0;
    case 'normal':
      return 1;
    case 'background':
      return 2;
  }
}

export interface MailboxEntry {
  readonly status: RunStatus;
  readonly priority: Priority;
  readonly seq: number;
  /** Parked by `steal` (a `preempted` wait). */
  readonly parked: boolean;
}

/** A run as the claim sees it: its place in the mailbox, its wait, its deadline, its cancel request. */
export interface ClaimableEntry extends MailboxEntry {
  readonly cancelRequested: 'abort-keep' | 'abort-drop' | null;
  /** The end of its wait, while `waiting` (null: until woken by another run). */
  readonly wakeAt: Millis | null;
  readonly waitKind: WaitKind | null;
  readonly deadlineAt: Millis | null;
}

/**
 * Whether a run can be claimed at `now` (D8): queued, or left running by a dead owner, or waiting
 * with its wait (or its deadline) come.
 */
export function isClaimable(entry: ClaimableEntry, now: Millis): boolean {
  if (entry.status === 'queued' || entry.status === 'running') return true;
  if (entry.status !== 'waiting') return false;
  const woken = entry.wakeAt !== null && (entry.wakeAt <= now || faultMutation('timer-from-memory')); // test-only switch
  return woken || (entry.deadlineAt !== null && entry.deadlineAt <= now);
}

/**
 * Whether a run gives its key work for an owner at `now`: it can be claimed, or it is pending with
 * an operator's `abort-drop` that only an owner's claim applies.
 */
export function hasWork(entry: ClaimableEntry, now: Millis): boolean {
  const pending = entry.status === 'queued' || entry.status === 'running' || entry.status === 'waiting';
  return isClaimable(entry, now) || (pending && entry.cancelRequested === 'abort-drop');
}

/**
 * Mailbox order of a key (K4, K6): a run already `running` (left in flight, resumed first so one
 * key never has two runs started), then every urgent run (the whole urgent burst), then runs
 * parked by `steal` (the interrupted worker gets its turn back before other work), then normal
 * before background; FIFO (by seq) within each. A run whose wait ended re-enters at its priority.
 * Returns the next entry to claim among `entries` (all of them claimable), if any.
 */
export function nextInMailbox<T extends MailboxEntry>(entries: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const entry of entries) {
    if (best === undefined || compareMailbox(entry, best) < 0) best = entry;
  }
  return best;
}

export function compareMailbox(a: MailboxEntry, b: MailboxEntry): number {
  const inFlight = Number(b.status === 'running') - Number(a.status === 'running');
  if (inFlight !== 0) return inFlight;
  const urgent = Number(b.priority === 'urgent') - Number(a.priority === 'urgent');
  if (urgent !== 0) return urgent;
  const parked = Number(b.parked) - Number(a.parked);
  if (parked !== 0) return parked;
  const rank = priorityRank(a.priority) - priorityRank(b.priority);
  return rank !== 0 ? rank : a.seq - b.seq;
}

/**
 * The claim decision of a key whose runtime executes nothing (K4, K6, D8), made in one
 * transaction: every pending run an operator asked to drop is dropped (queued, waiting, or left
 * `running` by a dead owner; nobody executes it now), and the next claimable one of the others in
 * mailbox order is claimed. With `urgentOnly` (the runtime holds an urgent execution slot) only an
 * urgent run is claimed.
 */
export function decideClaim<T extends ClaimableEntry>(
  entries: readonly T[],
  now: Millis,
  options: { readonly urgentOnly?: boolean } = {},
): { readonly drop: T[]; readonly claim: T | undefined } {
  const pending = entries.filter((e) => e.status === 'queued' || e.status === 'running' || e.status === 'waiting');
  const dropping = (e: T) => e.cancelRequested === 'abort-drop' && !faultMutation('claim-cancelled'); // test-only switch
  const drop = pending.filter(dropping).sort((a, b) => a.seq - b.seq);
  const rest = pending.filter((e) => !dropping(e) && isClaimable(e, now) && (!options.urgentOnly || e.priority === 'urgent'));
  return { drop, claim: nextInMailbox(rest) };
}
