import type { StoreUnavailableReason } from '../errors.js';
import type { Epoch, Json, Key, Millis, PreemptKind, Priority, RunError, RunId, WaitKind } from '../model/index.js';
import type { ProviderChunk } from '../ports/provider.js';

/** Everything the kernel reports, by event name. Tests await these instead of sleeping. */
export interface KernelEvents {
  'run:queued': { runId: RunId; key: Key; flow: string; priority: Priority };
  'run:started': { runId: RunId; key: Key; flow: string; attempt: number; epoch: Epoch };
  /**
   * A journal entry was committed (a step, a turn, an effect, a sleep, a spawn). For a `ctx.step`,
   * also its run's `flow` and `durationMs`: from the call of this attempt's function to the end
   * of its commit (what `holdfast_step_duration_seconds` observes).
   */
  'step:committed': { runId: RunId; key: Key; seq: number; name: string; flow?: string; durationMs?: number };
  /** A step failed with a RetryableError and runs again after `delayMs` (attempt `attempt` failed). */
  'step:retrying': { runId: RunId; key: Key; seq: number; name: string; attempt: number; delayMs: number; error: RunError };
  /**
   * The runtime stopped waiting for a step or turn: it ran past its `timeoutMs`, or its run was
   * interrupted and did not unwind within the grace. Whatever it still returns is discarded.
   */
  'step:abandoned': { runId: RunId; key: Key; seq: number; name: string; reason: 'timeout' | 'interrupt-grace' };
  /** The run ended. `flow` is always set by the kernel (feed entries of earlier versions lack it). */
  'run:completed': { runId: RunId; key: Key; result: Json; flow?: string };
  'run:failed': { runId: RunId; key: Key; error: RunError; flow?: string };
  'run:cancelled': { runId: RunId; key: Key; error: RunError; flow?: string };
  /** A run was put back in the queue unfinished (kernel stop, abort-keep, operator cancel keep). */
  'run:requeued': { runId: RunId; key: Key; reason: string };
  /** The runtime decided to interrupt the active run (K5); `by` is the urgent run or `operator`. */
  'run:interrupted': { runId: RunId; key: Key; kind: PreemptKind; by: string };
  /** A run entered a durable wait (D8): it does not hold its key until `wakeAt` (null: until its child ends). */
  'run:waiting': { runId: RunId; key: Key; kind: WaitKind; wakeAt: Millis | null };
  /** A run spawned a child run (D7). */
  'run:spawned': { runId: RunId; key: Key; flow: string; parentId: RunId };
  /** An effect was claimed and is about to be emitted (attempt 1, or a retry with the same key). */
  'effect:claimed': { runId: RunId; key: Key; effectKey: string; name: string; attempt: number };
  /** An effect's artifact was recorded: it is never emitted again. */
  'effect:delivered': { runId: RunId; key: Key; effectKey: string; name: string; attempt: number };
  /** An emit failed; it is retried at `retryAt` (null: never, the run fails). */
  'effect:failed': { runId: RunId; key: Key; effectKey: string; name: string; attempt: number; error: RunError; retryAt: Millis | null };
  /** A schedule's tick enqueued a command (or skipped a missed tick: `runId` null). */
  'schedule:fired': { scheduleId: string; fireAt: Millis; runId: RunId | null };
  /** Retention pruned the journal of finished runs (D5). */
  'journal:compacted': { runs: number; steps: number; bytes: number };
  /** A run was parked by `steal` with its frame; it resumes after the urgent burst. */
  'run:parked': { runId: RunId; key: Key; turnSeq: number; by: string };
  /** A parked run was claimed again and continues from its frame. */
  'run:resumed': { runId: RunId; key: Key; turnSeq: number };
  'turn:started': { runId: RunId; key: Key; seq: number; provider: string; attempt: number; sessionId: string; interrupted: boolean };
  /** The provider started a child process group for the turn (recorded for operators and reaping). */
  'turn:process': { runId: RunId; key: Key; seq: number; pgid: number };
  /**
   * The provider of a turn that reported a process group settled: for a provider that keeps its
   * contract (execProvider does), the group is gone. Comes after the turn's own outcome when the
   * turn was interrupted (the provider settles in the background).
   */
  'turn:process-ended': { runId: RunId; key: Key; seq: number; pgid: number };
  'turn:output': { runId: RunId; key: Key; seq: number; chunk: ProviderChunk };
  /** A turn's result was committed, `durationMs` after it started (the provider's time and the commit). */
  'turn:completed': { runId: RunId; key: Key; seq: number; provider: string; durationMs: number };
  /** The turn observed its interruption and the run unwinds now, without waiting for the provider. */
  'turn:preempted': { runId: RunId; key: Key; seq: number; provider: string; reason: string };
  /** The interrupted provider has settled (for a child process: its whole group is gone). */
  'turn:aborted': { runId: RunId; key: Key; seq: number; provider: string };
  /** A provider answered after its turn was interrupted: discarded, never committed (K7). */
  'turn:late-result': { runId: RunId; key: Key; seq: number; provider: string; attempt: number };
  /**
   * This kernel took a key's owner lease. `takeover` is set (true) when it took the key from
   * another owner that still held it and had not released it (its lease expired, or it was proven
   * dead); absent for a free or released key.
   */
  'owner:acquired': { key: Key; epoch: Epoch; takeover?: true };
  'owner:released': { key: Key; epoch: Epoch };
  /**
   * This kernel stopped acting on a key: another owner took it over (`taken-over`), or the lease
   * could not be proven live any more (`lapsed`: renewals failed, or the process was paused or
   * hung past the lease) and the run was interrupted before anyone else could take it.
   * `rejectedWrite`: the fenced write the store rejected with a stale epoch, when that is how
   * the loss was found (absent when a renewal found it).
   */
  'owner:lost': { key: Key; epoch: Epoch; reason: 'taken-over' | 'lapsed'; rejectedWrite?: string };
  /** An operator re-opened a failed or cancelled run (kernel.retry). */
  'run:reopened': { runId: RunId; key: Key; from: 'failed' | 'cancelled' };
  /** A store call failed because the store is unavailable; the kernel retries with backoff. */
  'store:unavailable': { operation: string; reason: StoreUnavailableReason; message: string };
  /** A store call succeeded again after `store:unavailable`. */
  'store:recovered': { operation: string; downMs: number };
  /**
   * The lease keeper stopped renewing because this kernel's event loop looked hung (no heartbeat
   * for `hungAfterMs`), or resumed (`hung: false`).
   */
  'kernel:hung': { hung: boolean };
  /** Something failed that the kernel handled (a store error in a background loop, ...). */
  'kernel:error': { error: unknown; context: string };
}

export type KernelEventName = keyof KernelEvents;
type Listener<E extends KernelEventName> = (event: KernelEvents[E]) => void;

/**
 * A small typed event emitter. Listeners run synchronously in registration order; a throwing
 * listener is isolated (reported as `kernel:error`) so it cannot break the runtime that emitted.
 */
export class KernelEventEmitter {
  private readonly listeners = new Map<KernelEventName, Set<(event: never) => void>>();

  on<E extends KernelEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves with the next `name` event for which `predicate` holds. */
  once<E extends KernelEventName>(name: E, predicate: (event: KernelEvents[E]) => boolean = () => true): Promise<KernelEvents[E]> {
    return new Promise((resolve) => {
      const off = this.on(name, (event) => {
        if (!predicate(event)) return;
        off();
        resolve(event);
      });
    });
  }

  emit<E extends KernelEventName>(name: E, event: KernelEvents[E]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(event);
      } catch (error) {
        if (name !== 'kernel:error') this.emit('kernel:error', { error, context: `listener of ${name}` });
      }
    }
  }
}
