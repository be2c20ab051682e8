import type { Kernel, Store } from 'holdfast';
import type { ClaimOutcome, CommitStep, FinishRun, NewCommand } from '../../src/ports/store.js';

/**
 * One timeline of what happened around a store: when each call was issued by the kernel (above a
 * delaying decorator), when it was applied to the inner store (below it), and when the kernel
 * emitted its events. Positions are indexes in that one timeline, so "applied before" and
 * "emitted after" are exact even when the decorator reorders calls.
 *
 * The inner store must apply a call synchronously when it is called (the memory store does: its
 * methods are async functions without an await), so "called" is "applied".
 */
export class StoreTrace {
  readonly entries: TraceEntry[] = [];

  /** `store` with every call recorded as `side` ('issue' above a decorator, 'apply' below it). */
  record(store: Store, side: 'issue' | 'apply'): Store {
    const wrapped: Record<PropertyKey, unknown> = {};
    const seen = new Set<PropertyKey>(['constructor']);
    for (let level: object | null = store; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
      for (const key of Reflect.ownKeys(level)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const descriptor = Object.getOwnPropertyDescriptor(level, key)!;
        if (typeof descriptor.value === 'function') {
          const method = descriptor.value as (...args: unknown[]) => unknown;
          const op = String(key);
          wrapped[key] = (...args: unknown[]): unknown => {
            const entry: CallEntry = { at: this.entries.length, kind: side, op, args, outcome: undefined };
            this.entries.push(entry);
            const settled = Promise.resolve(Reflect.apply(method, store, args));
            settled.then(
              (value: unknown) => (entry.outcome = { ok: true, value }),
              (error: unknown) => (entry.outcome = { ok: false, error }),
            );
            return settled;
          };
        } else if (descriptor.get !== undefined) {
          Object.defineProperty(wrapped, key, { enumerable: true, get: () => Reflect.get(store, key) });
        } else {
          wrapped[key] = descriptor.value;
        }
      }
    }
    return Object.freeze(wrapped) as unknown as Store;
  }

  /** Records the kernel events the checks need, at the position they are emitted. */
  watch(kernel: Kernel): void {
    const push = (name: EventEntry['name'], runId: string, detail = '') =>
      this.entries.push({ at: this.entries.length, kind: 'event', name, runId, detail });
    kernel.on('turn:started', (e) => push('turn:started', e.runId, e.interrupted ? 'interrupted' : ''));
    kernel.on('turn:completed', (e) => push('turn:completed', e.runId));
    kernel.on('run:interrupted', (e) => push('run:interrupted', e.runId, e.kind));
    kernel.on('run:cancelled', (e) => push('run:cancelled', e.runId));
    kernel.on('kernel:error', (e) => push('kernel:error', '', `${e.context}: ${String(e.error)}`));
  }

  /**
   * Every breach of the kernel's guarantees visible in the timeline (empty when none); call it
   * once everything settled.
   *
   * - a store call failed (no scenario expects one) or the kernel reported an error;
   * - two runs of one key were claimed at the same time (one run per key);
   * - a non-urgent turn started although urgent demand for its key was durably recorded before
   *   the run's last write preceding that turn, so the kernel's check before the turn must have
   *   seen it (K5);
   * - a step was committed for a run after its interruption was decided and before it was
   *   claimed again (no late result, no result of an interrupted step, is committed: K7);
   * - a run ended `cancelled` was started or committed to afterwards.
   */
  violations(): string[] {
    const found: string[] = [];
    const applied = this.entries.filter((e): e is CallEntry => e.kind === 'apply');
    const issued = this.entries.filter((e): e is CallEntry => e.kind === 'issue');
    for (const call of applied) {
      if (call.outcome === undefined) found.push(`#${call.at} ${call.op} never settled`);
      else if (!call.outcome.ok) found.push(`#${call.at} ${call.op} failed: ${String(call.outcome.error)}`);
    }
    for (const e of this.entries) if (e.kind === 'event' && e.name === 'kernel:error') found.push(`#${e.at} kernel:error ${e.detail}`);

    const runs = new Map<string, { key: string; priority: string; enqueuedAt: number }>();
    for (const call of applied) {
      if (call.op !== 'enqueue') continue;
      const command = call.args[0] as NewCommand;
      const value = call.outcome?.ok ? (call.outcome.value as { created: boolean }) : undefined;
      if (value?.created) runs.set(command.id, { key: command.key, priority: command.priority, enqueuedAt: call.at });
    }
    const claimsOf = (call: CallEntry): string | undefined =>
      call.op === 'claimNext' && call.outcome?.ok ? (call.outcome.value as ClaimOutcome).claimed?.run.id : undefined;
    const ends = new Set(['finishRun', 'requeueRun', 'parkRun']);
    const endedRun = (call: CallEntry): string | undefined => {
      if (!ends.has(call.op) || !call.outcome?.ok) return undefined;
      const request = call.args[0] as Partial<FinishRun> & { frame?: { runId: string } };
      return request.runId ?? request.frame?.runId;
    };

    // One run per key at a time, and the positions each check below needs.
    const active = new Map<string, string>();
    const lastWrite = new Map<string, number>();
    const claimedAt = new Map<string, number[]>();
    for (const call of applied) {
      const claimed = claimsOf(call);
      if (claimed !== undefined) {
        const key = runs.get(claimed)?.key ?? '?';
        const other = active.get(key);
        if (other !== undefined && other !== claimed) found.push(`#${call.at} claimed ${claimed} while ${other} was active on ${key}`);
        active.set(key, claimed);
        lastWrite.set(claimed, call.at);
        claimedAt.set(claimed, [...(claimedAt.get(claimed) ?? []), call.at]);
      }
      if (call.op === 'commitStep' && call.outcome?.ok) lastWrite.set((call.args[0] as CommitStep).runId, call.at);
      const ended = endedRun(call);
      if (ended !== undefined) {
        const key = runs.get(ended)?.key ?? '?';
        if (active.get(key) === ended) active.delete(key);
      }
    }

    // K5: no non-urgent turn starts while urgent demand recorded before its run's last write is pending.
    for (const e of this.entries) {
      if (e.kind !== 'event' || e.name !== 'turn:started') continue;
      const run = runs.get(e.runId);
      if (!run || run.priority === 'urgent') continue;
      const before = applied.filter((c) => c.at < e.at);
      const write = Math.max(
        -1,
        ...before
          .filter((c) => claimsOf(c) === e.runId || (c.op === 'commitStep' && (c.args[0] as CommitStep).runId === e.runId))
          .map((c) => c.at),
      );
      for (const [id, other] of runs) {
        if (other.key !== run.key || other.priority !== 'urgent' || other.enqueuedAt > write) continue;
        const started = before.some((c) => claimsOf(c) === id);
        const ended = before.some((c) => endedRun(c) === id || (c.op === 'claimNext' && droppedBy(c).includes(id)));
        if (!started && !ended)
          found.push(`#${e.at} turn of ${e.runId} started while urgent ${id} (recorded at #${other.enqueuedAt}) was pending`);
      }
    }

    // K7: nothing is committed for a run between its interruption and its next claim.
    for (const e of this.entries) {
      if (e.kind !== 'event' || e.name !== 'run:interrupted') continue;
      const reclaim = Math.min(Infinity, ...(claimedAt.get(e.runId) ?? []).filter((at) => at > e.at));
      for (const call of issued) {
        if (call.op === 'commitStep' && call.at > e.at && call.at < reclaim && (call.args[0] as CommitStep).runId === e.runId) {
          found.push(`#${call.at} commitStep issued for ${e.runId} after its interruption at #${e.at}`);
        }
      }
    }

    // A cancelled run is not started or committed to afterwards.
    for (const e of this.entries) {
      if (e.kind !== 'event' || e.name !== 'run:cancelled') continue;
      if ((claimedAt.get(e.runId) ?? []).some((at) => at > e.at)) found.push(`${e.runId} claimed after it was cancelled at #${e.at}`);
      for (const call of applied) {
        if (call.op === 'commitStep' && call.at > e.at && (call.args[0] as CommitStep).runId === e.runId) {
          found.push(`#${call.at} commitStep applied for ${e.runId} after it was cancelled at #${e.at}`);
        }
      }
    }
    return found;
  }
}

function droppedBy(call: CallEntry): string[] {
  return call.outcome?.ok ? (call.outcome.value as ClaimOutcome).dropped.map((r) => r.id) : [];
}

export type TraceEntry = CallEntry | EventEntry;

export interface CallEntry {
  readonly at: number;
  readonly kind: 'issue' | 'apply';
  readonly op: string;
  readonly args: readonly unknown[];
  outcome: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown } | undefined;
}

export interface EventEntry {
  readonly at: number;
  readonly kind: 'event';
  readonly name: 'turn:started' | 'turn:completed' | 'run:interrupted' | 'run:cancelled' | 'kernel:error';
  readonly runId: string;
  readonly detail: string;
}
