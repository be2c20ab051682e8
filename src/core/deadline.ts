import type { Millis, RunError, RunId } from '../model/index.js';

/**
 * The error of a run that passed its deadline (D8), the same whichever way it is found out: while
 * it executes (its timer fires), when it is claimed again, or while it waits its turn behind
 * another run of its key.
 */
export function deadlineError(runId: RunId, deadlineAt: Millis, when: 'running' | 'pending'): RunError {
  const at = new Date(deadlineAt).toISOString();
  const where = when === 'running' ? '' : ' before it could run again';
  return { code: 'deadline', message: `run ${runId} passed its deadline (${at})${where}` };
}
