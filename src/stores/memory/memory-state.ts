import { releasedEffect } from '../../core/effect-claim.js';
import { checkFence } from '../../core/owner-lease.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
import type {
  EffectRecord,
  Json,
  Millis,
  OperatorAction,
  OwnerLease,
  ParkedFrame,
  RunError,
  RunRecord,
  ScheduleRecord,
  StepAttempt,
  StepRecord,
  TerminalStatus,
} from '../../model/index.js';
import type { ClaimableEntry } from '../../core/mailbox.js';
import type { Fence, KeyNotice } from '../../ports/store.js';

/**
 * The memory store's data and the helpers every part of it shares. Records are stored as given
 * and copied out by the callers (`structuredClone`), so nobody outside can change them.
 */
export class MemoryState {
  readonly runs = new Map<string, RunRecord>();
  readonly byIdem = new Map<string, string>();
  readonly steps = new Map<string, StepRecord[]>();
  readonly attempts = new Map<string, StepAttempt[]>();
  readonly owners = new Map<string, OwnerLease>();
  /** Frames of parked runs, kept until a step at or past their position commits. */
  readonly frames = new Map<string, ParkedFrame>();
  readonly actions: OperatorAction[] = [];
  readonly effects = new Map<string, EffectRecord>();
  /** origin -> the key of the claimed or delivered effect that covers it. */
  readonly origins = new Map<string, string>();
  readonly schedules = new Map<string, ScheduleRecord>();
  seq = 0;
  closed = false;

  open(): void {
    if (this.closed) throw new HoldfastError('store_closed', 'the memory store is closed');
  }

  fence(f: Fence): void {
    this.open();
    const verdict = checkFence(this.owners.get(f.key), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
  }

  runOfKey(runId: string, key: string): RunRecord {
    const run = this.runs.get(runId);
    if (!run || run.key !== key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${key}"`);
    return run;
  }

  runningOfKey(runId: string, key: string, what: string): RunRecord {
    const run = this.runOfKey(runId, key);
    if (run.status !== 'running') throw new HoldfastError('run_not_running', `run ${run.id} is ${run.status}, not running; ${what}`);
    return run;
  }

  /**
   * The entry journaled at `seq` if it has `name` (a repeat); undefined when `seq` is free; throws
   * `step_already_committed` when another entry is there.
   */
  journaledAt(runId: string, seq: number, name: string): StepRecord | undefined {
    const journaled = this.steps.get(runId)?.find((s) => s.seq === seq);
    if (journaled === undefined || journaled.name === name) return journaled;
    throw new HoldfastError('step_already_committed', `step #${seq} of run ${runId} is already committed`);
  }

  /** Appends a journal entry, or returns the one already at `seq` with the same name (a repeat). */
  journal(run: RunRecord, entry: { seq: number; name: string; result: Json }, epoch: number, now: Millis): StepRecord {
    const journaled = this.journaledAt(run.id, entry.seq, entry.name);
    if (journaled) return journaled;
    const journal = this.steps.get(run.id) ?? [];
    const step: StepRecord = {
      runId: run.id,
      seq: entry.seq,
      name: entry.name,
      result: structuredClone(entry.result),
      epoch,
      committedAt: now,
    };
    journal.push(step);
    journal.sort((a, b) => a.seq - b.seq);
    this.steps.set(run.id, journal);
    const frame = this.frames.get(run.id);
    if (frame && frame.turnSeq <= entry.seq) {
      this.frames.delete(run.id);
      const current = this.runs.get(run.id);
      if (current) this.runs.set(run.id, { ...current, parked: false });
    }
    return step;
  }

  /** The origins an effect covered are no longer covered by it. */
  uncover(effect: EffectRecord): void {
    for (const origin of effect.origins) if (this.origins.get(origin) === effect.key) this.origins.delete(origin);
  }

  /**
   * Ends a run: its wait and frame go; a parent waiting for it is woken; when it did not complete,
   * its unfinished children get an abort-drop request; the effects it holds are let go
   * (core/effect-claim). Returns the keys that now have work.
   */
  finish(
    run: RunRecord,
    status: TerminalStatus,
    outcome: { result?: Json; error?: RunError },
    now: Millis,
  ): { run: RunRecord; wake: KeyNotice[] } {
    const finished: RunRecord = {
      ...run,
      status,
      result: outcome.result === undefined ? undefined : structuredClone(outcome.result),
      error: outcome.error,
      finishedAt: now,
      parked: false,
      wait: null,
    };
    this.runs.set(run.id, finished);
    this.frames.delete(run.id);
    for (const effect of this.effects.values()) {
      const released = releasedEffect(effect, run.id, status);
      if (!released) continue;
      this.effects.set(effect.key, released);
      this.uncover(effect);
    }
    const wake: KeyNotice[] = [];
    const parent = run.parentId === null ? undefined : this.runs.get(run.parentId);
    if (parent?.status === 'waiting' && parent.wait?.kind === 'child' && parent.wait.onRun === run.id) {
      this.runs.set(parent.id, { ...parent, wait: { ...parent.wait, wakeAt: now } });
      wake.push({ key: parent.key });
    }
    if (status !== 'completed') {
      for (const child of this.runs.values()) {
        if (child.parentId !== run.id || !isPending(child) || child.cancelRequested === 'abort-drop') continue;
        this.runs.set(child.id, { ...child, cancelRequested: 'abort-drop' });
        wake.push({ key: child.key, cancelRunId: child.id });
      }
    }
    return { run: finished, wake };
  }
}

export function isPending(run: RunRecord): boolean {
  return run.status === 'queued' || run.status === 'running' || run.status === 'waiting';
}

/** How the claim decision sees a run. */
export function claimable(run: RunRecord): RunRecord & ClaimableEntry {
  return { ...run, wakeAt: run.wait?.wakeAt ?? null, waitKind: run.wait?.kind ?? null };
}
