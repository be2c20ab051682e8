import type { Priority, RunStatus } from '../model/index.js';

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
}

/**
 * Mailbox order of a key (K4): a run already `running` (left in flight, resumed first so one key
 * never has two runs started), then urgent before normal before background, FIFO (by seq) within
 * a priority. Returns the next entry to claim, or undefined when nothing is pending.
 */
export function nextInMailbox<T extends MailboxEntry>(entries: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const entry of entries) {
    if (entry.status !== 'queued' && entry.status !== 'running') continue;
    if (best === undefined || compareMailbox(entry, best) < 0) best = entry;
  }
  return best;
}

export function compareMailbox(a: MailboxEntry, b: MailboxEntry): number {
  const inFlight = Number(b.status === 'running') - Number(a.status === 'running');
  if (inFlight !== 0) return inFlight;
  const rank = priorityRank(a.priority) - priorityRank(b.priority);
  return rank !== 0 ? rank : a.seq - b.seq;
}
