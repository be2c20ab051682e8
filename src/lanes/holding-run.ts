import { parseRunHolder } from '../core/lane-lease/run-holder.js';
import type { LiveLease } from '../model/lane.js';
import type { RunStatus } from '../model/run.js';
import type { RunStore } from '../ports/run-store.js';

/** The run that holds a lease taken with `ctx.lane`, as `lane status` shows it. */
export interface HoldingRun {
  readonly id: string;
  /** Null when the run is not in the store (deleted, or another database). */
  readonly key: string | null;
  readonly flow: string | null;
  readonly status: RunStatus | null;
  /** The `ctx.lane` call's position in the run's journal. */
  readonly position: number;
  readonly committedSteps: number;
  readonly lastCommitAt: number | null;
}

/**
 * The run holding a lease taken with `ctx.lane` (its holder names it, run-holder.ts), and the
 * times of its committed steps, which count as the lease's progress. Undefined for leases other
 * holders took, or when the store cannot read runs. Reads only.
 */
export async function holdingRun(
  store: Partial<Pick<RunStore, 'getRun' | 'getSteps'>>,
  lease: LiveLease,
): Promise<{ readonly run: HoldingRun; readonly commits: number[] } | undefined> {
  const holder = parseRunHolder(lease.holder);
  if (holder === undefined || store.getRun === undefined || store.getSteps === undefined) return undefined;
  const [run, steps] = await Promise.all([store.getRun(holder.runId), store.getSteps(holder.runId)]);
  const commits = steps.map((s) => s.committedAt);
  return {
    run: {
      id: holder.runId,
      key: run?.key ?? null,
      flow: run?.flow ?? null,
      status: run?.status ?? null,
      position: holder.seq,
      committedSteps: steps.length,
      lastCommitAt: commits.length === 0 ? null : Math.max(...commits),
    },
    commits,
  };
}
