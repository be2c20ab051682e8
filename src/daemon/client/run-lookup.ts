import { InvalidInputError, RunIdAmbiguousError, RunNotFoundError } from '../../errors.js';
import type { RunId, RunRecord } from '../../model/index.js';
import type { Store } from '../../ports/store.js';
import type { RunDetail } from './holdfast-client.js';

/** How many runs a prefix lookup reads at most (the store has no query by id prefix). */
export const PREFIX_SCAN_LIMIT = 1_000_000;

/** How deep `runDetail` follows the tree of children. */
const MAX_CHILD_DEPTH = 8;

/**
 * The full id of the one run whose id starts with `prefix` (case-insensitive). An exact id is read
 * directly; a shorter prefix is matched against the runs in the store. Read-only.
 */
export async function resolveRunIdInStore(store: Store, prefix: string): Promise<RunId> {
  const wanted = typeof prefix === 'string' ? prefix.trim() : '';
  if (wanted === '')
    throw new InvalidInputError('a run id (or a unique prefix of one) is needed; holdfast runs lists them', 'invalid_run_id');
  if (await store.getRun(wanted)) return wanted;
  const lower = wanted.toLowerCase();
  const matches = (await store.listRuns({ limit: PREFIX_SCAN_LIMIT })).filter((run) => run.id.toLowerCase().startsWith(lower));
  if (matches.length === 0) throw new RunNotFoundError(wanted, store.description);
  if (matches.length > 1)
    throw new RunIdAmbiguousError(
      wanted,
      matches.slice(0, 10).map((run) => run.id),
      matches.length,
    );
  return matches[0]!.id;
}

/** A run with its journal, failed attempts, operator actions and children (to a depth of eight). */
export async function runDetail(store: Store, run: RunRecord, depth = 0): Promise<RunDetail> {
  const [steps, failedAttempts, actions, children] = await Promise.all([
    store.getSteps(run.id),
    store.getStepAttempts(run.id),
    store.operatorActions(run.id),
    depth < MAX_CHILD_DEPTH ? store.childrenOf(run.id) : Promise.resolve([]),
  ]);
  return {
    ...run,
    steps,
    failedAttempts,
    actions,
    children: await Promise.all(children.map((child) => runDetail(store, child, depth + 1))),
  };
}
