import { interruptEffect } from '../core/interrupt.js';
import type { ParkedFrame, RunError, RunRecord } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Fence, Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { RunOutcome, RunPosition } from './flow-run.js';
import { RunInterrupt } from './run-interrupt.js';

/** What recording needs from the key runtime: its fence and its guarded write. */
export interface Recorder {
  readonly fence: Fence;
  readonly store: Store;
  readonly clock: Clock;
  readonly events: KernelEventEmitter;
  /** The runtime's fenced, proven, retried write; a symbol when it may not write any more. */
  readonly write: <T>(operation: string, call: () => Promise<T>) => Promise<T | symbol>;
}

/**
 * Records how a run ended or was interrupted (K6): completed and failed runs are finished; an
 * interruption parks (steal), requeues (abort-keep, operator keep, stop) or cancels (abort-drop,
 * operator drop) the run, or writes nothing at all when the key was lost. Each is one fenced
 * write; if the process dies before it commits, the run is still `running` in the store and the
 * next owner recovers it from its last committed step.
 */
export async function recordOutcome(run: RunRecord, outcome: RunOutcome, r: Recorder): Promise<void> {
  const now = r.clock.now();
  const ids = { runId: run.id, key: run.key };
  switch (outcome.kind) {
    case 'completed': {
      const done = await r.write('finish run', () =>
        r.store.finishRun({ ...r.fence, runId: run.id, status: 'completed', result: outcome.result, now }),
      );
      if (typeof done !== 'symbol') r.events.emit('run:completed', { ...ids, result: outcome.result });
      return;
    }
    case 'failed':
      return fail(run, outcome.error, r);
    case 'interrupted':
      return recordInterrupted(run, outcome.reason, outcome.at, r);
  }
}

async function fail(run: RunRecord, error: RunError, r: Recorder): Promise<void> {
  const done = await r.write('finish run', () =>
    r.store.finishRun({ ...r.fence, runId: run.id, status: 'failed', error, now: r.clock.now() }),
  );
  if (typeof done !== 'symbol') r.events.emit('run:failed', { runId: run.id, key: run.key, error });
}

async function recordInterrupted(run: RunRecord, reason: unknown, at: RunPosition, r: Recorder): Promise<void> {
  if (!(reason instanceof RunInterrupt)) return;
  const ids = { runId: run.id, key: run.key };
  const now = r.clock.now();
  switch (interruptEffect(reason.reason)) {
    case 'nothing':
      return;
    case 'requeue': {
      const done = await r.write('requeue run', () => r.store.requeueRun({ ...r.fence, runId: run.id }));
      if (typeof done !== 'symbol') r.events.emit('run:requeued', { ...ids, reason: reason.message });
      return;
    }
    case 'cancel': {
      const error: RunError = { code: reason.code, message: reason.message };
      const done = await r.write('cancel run', () => r.store.finishRun({ ...r.fence, runId: run.id, status: 'cancelled', error, now }));
      if (typeof done !== 'symbol') r.events.emit('run:cancelled', { ...ids, error });
      return;
    }
    case 'park': {
      const by = reason.reason.kind === 'preempt' ? reason.reason.by : null;
      const frame: ParkedFrame = {
        runId: run.id,
        key: run.key,
        epoch: r.fence.epoch,
        turnSeq: at.seq,
        attempt: run.attempts,
        provider: at.turn?.provider ?? null,
        input: at.turn?.input ?? null,
        sessionId: at.turn?.sessionId ?? null,
        parkedBy: by,
        parkedAt: now,
      };
      const done = await r.write('park run', () => r.store.parkRun({ ...r.fence, frame }));
      if (typeof done !== 'symbol') r.events.emit('run:parked', { ...ids, turnSeq: at.seq, by: by ?? 'unknown' });
      return;
    }
  }
}
