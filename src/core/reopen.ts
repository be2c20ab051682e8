import { HoldfastError } from '../errors.js';
import type { RunRecord } from '../model/index.js';

/**
 * An operator's retry (kernel.retry): only a run that ended `failed` or `cancelled` can be
 * re-opened. It goes back to `queued` with its journal kept (it resumes from its last committed
 * step), its error, result, finish time, cancel request and parked flag cleared. Pure: the store
 * applies the returned record in the transaction that records the operator action.
 */
export function reopened(run: RunRecord): RunRecord {
  if (run.status !== 'failed' && run.status !== 'cancelled') {
    const why = run.status === 'completed' ? 'it completed' : 'it has not ended';
    throw new HoldfastError('run_not_retryable', `run ${run.id} is ${run.status} (${why}); only a failed or cancelled run can be retried`);
  }
  return { ...run, status: 'queued', result: undefined, error: undefined, finishedAt: null, cancelRequested: null, parked: false };
}
