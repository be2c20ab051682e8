import type { Priority, RunRecord } from '../../model/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';
import type { HoldfastStatus, KeyStatus, PriorityCounts, RunBrief, WaitingRunBrief } from './holdfast-client.js';

/** How many live runs (queued, running, waiting) one status reads at most. */
export const STATUS_RUN_LIMIT = 10_000;

/**
 * What an operator looks at first: every key with live work, its owner lease and mailbox, from
 * the store's live runs (read-only; keys whose owner holds nothing live are not listed).
 */
export async function readStatus(store: Store, clock: Clock, source: string): Promise<HoldfastStatus> {
  const at = clock.now();
  const live = await store.listRuns({ status: ['queued', 'running', 'waiting'], limit: STATUS_RUN_LIMIT });
  const byKey = new Map<string, RunRecord[]>();
  for (const run of live) {
    const runs = byKey.get(run.key);
    if (runs) runs.push(run);
    else byKey.set(run.key, [run]);
  }
  const sorted = [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // The owner leases of every key are read together, not one round trip after another.
  const leases = await Promise.all(sorted.map(([key]) => store.getOwner(key)));
  const keys: KeyStatus[] = sorted.map(([key, runs], i) => {
    const lease = leases[i];
    return {
      key,
      owner: lease ? { ownerId: lease.ownerId, epoch: lease.epoch, expiresAt: lease.expiresAt, live: lease.expiresAt > at } : null,
      queued: countByPriority(runs.filter((r) => r.status === 'queued')),
      running: brief(runs.find((r) => r.status === 'running')),
      parked: runs.filter((r) => r.status === 'waiting' && r.parked).map(waitingBrief),
      waiting: runs.filter((r) => r.status === 'waiting' && !r.parked).map(waitingBrief),
    };
  });
  return {
    source,
    at,
    keys,
    totals: {
      keys: keys.length,
      queued: countByPriority(live.filter((r) => r.status === 'queued')),
      running: live.filter((r) => r.status === 'running').length,
      parked: keys.reduce((n, k) => n + k.parked.length, 0),
      waiting: keys.reduce((n, k) => n + k.waiting.length, 0),
    },
    truncated: live.length >= STATUS_RUN_LIMIT,
  };
}

function countByPriority(runs: readonly RunRecord[]): PriorityCounts {
  const counts: Record<Priority, number> = { urgent: 0, normal: 0, background: 0 };
  for (const run of runs) counts[run.priority] += 1;
  return counts;
}

function brief(run: RunRecord): RunBrief;
function brief(run: RunRecord | undefined): RunBrief | null;
function brief(run: RunRecord | undefined): RunBrief | null {
  if (!run) return null;
  return { id: run.id, flow: run.flow, priority: run.priority, attempts: run.attempts, createdAt: run.createdAt, startedAt: run.startedAt };
}

function waitingBrief(run: RunRecord): WaitingRunBrief {
  return {
    ...brief(run),
    kind: run.wait?.kind ?? 'preempted',
    wakeAt: run.wait?.wakeAt ?? null,
    onRun: run.wait?.onRun ?? null,
  };
}
