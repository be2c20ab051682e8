import { InvalidInputError, RunNotFoundError } from '../../errors.js';
import { createLanes } from '../../lanes/service.js';
import type { CancelMode, EffectStatus } from '../../model/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';
import { currentProcess, probeProcessAlive } from '../../platform/process-liveness.js';
import type { Kernel } from '../../runtime/kernel.js';
import { compactFinished } from '../../runtime/retention.js';
import type { SubmitOptions } from '../../runtime/submit-command.js';
import type { AcceptedCommand } from '../command-sink.js';
import type { EventQuery, HoldfastClient, OutboxQuery, RunListQuery } from './holdfast-client.js';
import { resolveRunIdInStore, runDetail } from './run-lookup.js';
import { readStatus } from './status-view.js';

export interface StoreClientOptions {
  readonly store: Store;
  /**
   * Submits, cancels and retries go through it: the daemon's started kernel (which runs them
   * here), or a never-started one (a pure client: it records them and tells the owning process).
   */
  readonly kernel: Pick<Kernel, 'submit' | 'cancel' | 'retry'>;
  readonly clock: Clock;
  /** Default: the store's description. */
  readonly source?: string;
  /** Called by `close()` (a client that opened its store closes it); default: nothing. */
  readonly onClose?: () => Promise<void>;
}

const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_EVENT_LIMIT = 100;
const OWED: readonly EffectStatus[] = ['claimed', 'failed'];

/**
 * The client over a store and a kernel: reads go to the store, operator actions and submits to
 * the kernel, so their durability is the kernel's (recorded first, then the owner is told).
 */
export function storeClient(options: StoreClientOptions): HoldfastClient {
  const { store, kernel, clock } = options;
  const source = options.source ?? store.description;
  let closed: Promise<void> | undefined;
  const resolveRunId = (prefix: string) => resolveRunIdInStore(store, prefix);
  return {
    source,
    status: () => readStatus(store, clock, source),
    async listRuns(query: RunListQuery = {}) {
      return store.listRuns({ key: query.key, status: query.status ?? [], limit: checkLimit(query.limit, DEFAULT_LIST_LIMIT) });
    },
    async getRun(idOrPrefix: string) {
      const id = await resolveRunId(idOrPrefix);
      const run = await store.getRun(id);
      if (!run) throw new RunNotFoundError(id, store.description);
      return runDetail(store, run);
    },
    resolveRunId,
    async submit(command: SubmitOptions): Promise<AcceptedCommand> {
      const handle = await kernel.submit(command);
      return { runId: handle.id, created: handle.created };
    },
    async cancel(idOrPrefix: string, mode: CancelMode = 'abort-drop') {
      const runId = await resolveRunId(idOrPrefix);
      return { runId, status: await kernel.cancel(runId, { mode }) };
    },
    async retry(idOrPrefix: string) {
      const runId = await resolveRunId(idOrPrefix);
      return { runId, status: await kernel.retry(runId) };
    },
    async outbox(query: OutboxQuery = {}) {
      const status = query.status ?? OWED;
      return store.listEffects({ ...(status.length > 0 ? { status } : {}), limit: checkLimit(query.limit, DEFAULT_LIST_LIMIT) });
    },
    async lanes() {
      const { host, pid } = currentProcess();
      return createLanes({ store, clock, host, pid, isProcessAlive: probeProcessAlive }).status();
    },
    async events(query: EventQuery) {
      const after = query.after;
      if (!Number.isInteger(after) || after < 0) {
        throw new InvalidInputError(`the event cursor must be an integer >= 0, got ${String(after)}`, 'invalid_cursor');
      }
      const events = await store.readEvents({ after, limit: checkLimit(query.limit, DEFAULT_EVENT_LIMIT) });
      return { events, next: events.at(-1)?.seq ?? after };
    },
    async compactJournal(olderThanMs: number) {
      if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
        throw new InvalidInputError(`olderThanMs must be a number of milliseconds >= 0, got ${String(olderThanMs)}`, 'invalid_duration');
      }
      return compactFinished(store, clock, olderThanMs);
    },
    close() {
      closed ??= options.onClose?.() ?? Promise.resolve();
      return closed;
    },
  };
}

function checkLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidInputError(`limit must be a positive integer, got ${String(limit)}`, 'invalid_limit');
  }
  return limit;
}
