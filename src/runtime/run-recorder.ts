import { interruptEffect } from '../core/interrupt.js';
import type { Millis, ParkedFrame, RunError, RunRecord, TerminalStatus } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Fence, KeyNotice, Store } from '../ports/store.js';
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
  /** The run ended: keys that got work from it (a parent woken, children asked to drop). */
  readonly ended: (notices: readonly KeyNotice[]) => void;
  /** The run entered a wait ending at `wakeAt`. */
  readonly waiting: (wakeAt: Millis | null) => void;
}

/**
 * Records how a run ended or was interrupted (K6, D8): completed and failed runs are finished; an
 * interruption parks (steal), requeues (abort-keep, operator keep, stop), cancels (abort-drop,
 * operator drop) or fails (deadline) the run, or writes nothing at all when the key was lost; a
 * run that entered a wait was already recorded by the wait's own transaction. Each is one fenced
 * write; if the process dies before it commits, the run is still `running` in the store and the
 * next owner recovers it from its last committed step.
 */
export async function recordOutcome(run: RunRecord, outcome: RunOutcome, r: Recorder): Promise<void> {
  switch (outcome.kind) {
    case 'completed':
      return finish(run, 'completed', { result: outcome.result }, r);
    case 'failed':
      return finish(run, 'failed', { error: outcome.error }, r);
    case 'suspended':
      r.events.emit('run:waiting', { runId: run.id, key: run.key, kind: outcome.wait.kind, wakeAt: outcome.wait.wakeAt });
      r.waiting(outcome.wait.wakeAt);
      return;
    case 'interrupted':
      return recordInterrupted(run, outcome.reason, outcome.at, r);
  }
}

async function finish(
  run: RunRecord,
  status: TerminalStatus,
  outcome: { result?: RunRecord['result']; error?: RunError },
  r: Recorder,
): Promise<void> {
  const now = r.clock.now();
  const done = await r.write(`finish run (${status})`, () => r.store.finishRun({ ...r.fence, runId: run.id, status, ...outcome, now }));
  if (typeof done === 'symbol') return;
  const ids = { runId: run.id, key: run.key, flow: run.flow };
  if (status === 'completed') r.events.emit('run:completed', { ...ids, result: outcome.result ?? null });
  else if (status === 'failed') r.events.emit('run:failed', { ...ids, error: outcome.error! });
  else r.events.emit('run:cancelled', { ...ids, error: outcome.error! });
  r.ended(done.wake);
}

async function recordInterrupted(run: RunRecord, reason: unknown, at: RunPosition, r: Recorder): Promise<void> {
  if (!(reason instanceof RunInterrupt)) return;
  const ids = { runId: run.id, key: run.key };
  switch (interruptEffect(reason.reason)) {
    case 'nothing':
      return;
    case 'requeue': {
      const done = await r.write('requeue run', () => r.store.requeueRun({ ...r.fence, runId: run.id }));
      if (typeof done !== 'symbol') r.events.emit('run:requeued', { ...ids, reason: reason.message });
      return;
    }
    case 'cancel':
      return finish(run, 'cancelled', { error: { code: reason.code, message: reason.message } }, r);
    case 'fail':
      return finish(run, 'failed', { error: { code: reason.code, message: reason.message } }, r);
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
        parkedAt: r.clock.now(),
      };
      const done = await r.write('park run', () => r.store.parkRun({ ...r.fence, frame }));
      if (typeof done !== 'symbol') r.events.emit('run:parked', { ...ids, turnSeq: at.seq, by: by ?? 'unknown' });
      return;
    }
  }
}
