import type { RunRecord } from '../../model/index.js';
import type { Store } from '../../ports/store.js';
import type { CommandState } from './sim-client.js';
import type { EffectReceiver } from './effect-receiver.js';
import type { SimTrace } from './sim-trace.js';

/** Failure codes that only the kernel's own infrastructure could cause: never a run's fate (K11). */
const INFRASTRUCTURE_CODES = new Set([
  'store_unavailable',
  'stale_epoch',
  'run_not_running',
  'run_already_finished',
  'step_already_committed',
  'effect_not_claimed',
  'journal_divergence',
  'abandoned',
  'internal',
  'store_closed',
]);

export interface EndCheckInput {
  readonly store: Store;
  readonly trace: SimTrace;
  readonly commands: ReadonlyMap<number, CommandState>;
  readonly receiver: EffectReceiver | undefined;
  /**
   * Failure codes the flows cause on purpose (a run failing with another code is a violation);
   * `deadline` is always allowed for a run the workload gave a deadline.
   */
  readonly allowedFailures: ReadonlySet<string> | undefined;
  readonly fail: (invariant: string, message: string) => void;
}

/**
 * The checks made once the simulation healed (faults off, every kernel back): every accepted
 * command, and every child, ended (K3, K8); a cancelled run was cancelled by a request (an
 * operator's, an abort-drop preemption, or its parent's end); a failed run failed for its own code,
 * never for the store (K11); no effect is left claimed or owed, and every recorded artifact is the
 * one the receiver produced (D3: none lost).
 */
export async function endChecks(input: EndCheckInput): Promise<void> {
  const { store, trace, fail } = input;
  for (const command of input.commands.values()) {
    if (command.accepted.length === 0) fail('K3', `${command.idempotencyKey} was never accepted although the store recovered`);
  }
  const runs = await store.listRuns({ limit: 100_000 });
  const byId = new Map(runs.map((r) => [r.id, r]));
  for (const run of runs) {
    const name = trace.run(run.id);
    if (run.status === 'queued' || run.status === 'running' || run.status === 'waiting') {
      const wait = run.wait ? ` (${run.wait.kind} until ${run.wait.wakeAt})` : '';
      fail('K8', `${name} (${run.flow} on ${run.key}) never ended: still ${run.status}${wait}`);
    } else if (run.status === 'cancelled' && !(await cancelRequested(store, run, byId))) {
      fail('K8', `${name} ended cancelled (${run.error?.code}) though nobody asked for it`);
    } else if (run.status === 'failed' && !failureAllowed(run, input.allowedFailures)) {
      fail('K11', `${name} failed with ${run.error?.code}: ${run.error?.message}`);
    }
  }
  for (const effect of await store.listEffects()) {
    const holder = byId.get(effect.runId);
    if (effect.status === 'claimed')
      fail('D3', `effect ${effect.key} is still claimed by ${trace.run(effect.runId)} after everything ended`);
    if (effect.status === 'failed' && holder?.status === 'completed') {
      fail('D3', `effect ${effect.key} of completed ${trace.run(effect.runId)} was never delivered (lost)`);
    }
    if (effect.status === 'delivered' && input.receiver) {
      const artifact = input.receiver.applied.get(effect.key);
      if (artifact === undefined) fail('D3', `effect ${effect.key} was recorded delivered but the receiver never applied it (lost)`);
      else if (JSON.stringify(effect.artifact) !== JSON.stringify(artifact)) {
        fail('D3', `effect ${effect.key} recorded artifact ${JSON.stringify(effect.artifact)}, the receiver produced ${artifact}`);
      }
    }
  }
}

async function cancelRequested(store: Store, run: RunRecord, byId: ReadonlyMap<string, RunRecord>): Promise<boolean> {
  if (run.error?.code === 'preempted') return true; // an urgent command asked for abort-drop
  if ((await store.operatorActions(run.id)).some((a) => a.action === 'cancel')) return true;
  const parent = run.parentId === null ? undefined : byId.get(run.parentId);
  if (!parent) return false;
  // A child is dropped when its parent ends without completing (an operator may have re-opened the parent since).
  return parent.status !== 'completed' || (await store.operatorActions(parent.id)).some((a) => a.action === 'retry');
}

function failureAllowed(run: RunRecord, allowed: ReadonlySet<string> | undefined): boolean {
  const code = run.error?.code ?? '';
  if (INFRASTRUCTURE_CODES.has(code)) return false;
  if (code === 'deadline' && run.deadlineAt !== null) return true; // the workload gave it the deadline
  return allowed === undefined || allowed.has(code);
}
