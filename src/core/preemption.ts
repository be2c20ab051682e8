import type { PreemptKind, Priority } from '../model/index.js';

/**
 * Pure preemption decision (K5, K6): given the run active on a key (if any) and the durable
 * urgent demand pending for it, decide what the runtime does to the active run. The runtime
 * applies the decision; this function executes nothing.
 *
 * - Nothing active, or no urgent demand: `none`.
 * - The active run is itself urgent: `none`. An urgent burst runs in arrival order; urgent never
 *   preempts urgent.
 * - Otherwise the kind the urgent command asked for (`steal` when it did not say).
 */
export type PreemptionDecision = { readonly kind: 'none' } | { readonly kind: PreemptKind; readonly by: string };

export interface ActiveRunView {
  readonly runId: string;
  readonly priority: Priority;
}

export interface UrgentDemand {
  readonly runId: string;
  readonly preempt: PreemptKind | null;
}

export function decidePreemption(active: ActiveRunView | undefined, demand: UrgentDemand | undefined): PreemptionDecision {
  if (active === undefined || demand === undefined) return { kind: 'none' };
  if (active.priority === 'urgent' || active.runId === demand.runId) return { kind: 'none' };
  return { kind: demand.preempt ?? 'steal', by: demand.runId };
}
