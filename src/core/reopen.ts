import { HoldfastError } from '../errors.js';
import type { RunRecord } from '../model/index.js';

/**
 * An operator's retry (kernel.retry): only a run that ended `failed` or `cancelled`, and whose
 * journal was not compacted away, can be re-opened. It goes back to `queued` with its journal kept
 * (it resumes from its last committed step), its error, result, finish time, cancel request,
 * parked flag and deadline cleared; the store also forgets its failed step attempts, so retried
 * steps get a fresh budget. Pure: the store applies the returned record in the transaction that
 * records the operator action.
 */
export function reopened(run: RunRecord): RunRecord {
  if (run.status !== 'failed' && run.status !== 'cancelled') {
    const why = run.status === 'completed' ? 'it completed' : 'it has not ended';
    throw new HoldfastError('run_not_retryable', `run ${run.id} is ${run.status} (${why}); only a failed or cancelled run can be retried`);
  }
  if (run.compacted) {
    throw new HoldfastError(
      'run_not_retryable',
      `run ${run.id} is ${run.status} and its journal was compacted, so it cannot resume; submit its command again instead`,
    );
  }
  return {
    ...run,
    deadlineAt: null,
    status: 'queued',
    result: undefined,
    error: undefined,
    finishedAt: null,
    cancelRequested: null,
    parked: false,
  };
}
