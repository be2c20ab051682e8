import { RunFailedError, RunNotFoundError } from '../errors.js';
import type { RunId, RunRecord, RunStatus } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';

/** A submitted command, as seen by its submitter. */
export interface RunHandle<O = unknown> {
  readonly id: RunId;
  /** False when the idempotence key matched an earlier submit and this handle is that run. */
  readonly created: boolean;
  /**
   * Resolves with the run's result once it completed (here or in another process on the same
   * store); rejects with RunFailedError if it failed or was cancelled, RunNotFoundError if no run
   * has this id. Survives nothing: after a restart, get a new handle with `kernel.handle(id)`.
   */
  result(): Promise<O>;
  /** The run's status now; rejects with RunNotFoundError if no run has this id. */
  status(): Promise<RunStatus>;
}

const TERMINAL: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export function makeRunHandle<O>(
  id: RunId,
  created: boolean,
  store: Store,
  events: KernelEventEmitter,
  clock: Clock,
  recheckMs: number,
): RunHandle<O> {
  return {
    id,
    created,
    async status() {
      const run = await store.getRun(id);
      if (!run) throw new RunNotFoundError(id, store.description);
      return run.status;
    },
    async result() {
      const run = await waitTerminal(id, store, events, clock, recheckMs);
      if (run.status === 'completed') return run.result as O;
      throw new RunFailedError(id, run.status as 'failed' | 'cancelled', run.error?.code ?? run.status, run.error?.message ?? run.status);
    },
  };
}

async function waitTerminal(id: RunId, store: Store, events: KernelEventEmitter, clock: Clock, recheckMs: number): Promise<RunRecord> {
  for (;;) {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const offs = [
      events.on('run:completed', (e) => e.runId === id && wake()),
      events.on('run:failed', (e) => e.runId === id && wake()),
      events.on('run:cancelled', (e) => e.runId === id && wake()),
    ];
    const timer = clock.setTimer(recheckMs, wake);
    try {
      const run = await store.getRun(id);
      if (!run) throw new RunNotFoundError(id, store.description);
      if (TERMINAL.includes(run.status)) return run;
      await woken;
    } finally {
      timer.cancel();
      for (const off of offs) off();
    }
  }
}
