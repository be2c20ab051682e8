import { deadlineError } from '../../core/deadline.js';
import { HoldfastError } from '../../errors.js';
import type { RunRecord, StepAttempt, WaitKind } from '../../model/index.js';
import type { CompactedRuns, DurableStore, Fence, FinishOutcome, KeyNotice, SpawnChild, SuspendRun } from '../../ports/store.js';
import { isPending, type MemoryState } from './memory-state.js';
import { newRun } from './new-run.js';

/** The memory store's suspension, child runs, deadlines and retention (the DurableStore part). */
export function memoryDurable(s: MemoryState): DurableStore {
  return {
    async suspendRun(request: SuspendRun): Promise<{ suspended: boolean }> {
      s.fence(request);
      const run = s.runningOfKey(request.runId, request.key, 'it cannot wait');
      if (request.wait.kind === 'child') {
        const child = s.runs.get(request.wait.onRun ?? '');
        if (!child) throw new HoldfastError('run_not_found', `run ${run.id} waits for run ${request.wait.onRun}, which does not exist`);
        if (!isPending(child)) return { suspended: false };
      }
      if (request.commit) s.journal(run, request.commit, request.epoch, request.now);
      if (request.failure) {
        const list = s.attempts.get(run.id) ?? [];
        list.push({ ...structuredClone(request.failure), runId: run.id });
        s.attempts.set(run.id, list);
      }
      const { kind, wakeAt, onRun, detail } = request.wait;
      const wait = { kind, wakeAt, onRun: onRun ?? null, detail: structuredClone(detail), since: request.now };
      s.runs.set(run.id, { ...s.runs.get(run.id)!, status: 'waiting', wait });
      return { suspended: true };
    },

    async spawnChild(request: SpawnChild): Promise<RunRecord> {
      s.fence(request);
      const parent = s.runningOfKey(request.runId, request.key, 'it cannot spawn');
      s.journaledAt(parent.id, request.seq, request.name); // a taken position throws before the child exists
      let child = s.runs.get(s.byIdem.get(request.child.idempotencyKey) ?? '');
      if (!child) {
        child = newRun({ ...request.child, parentId: parent.id }, ++s.seq);
        s.runs.set(child.id, child);
        s.byIdem.set(child.idempotencyKey, child.id);
      }
      s.journal(parent, { seq: request.seq, name: request.name, result: { childId: child.id } }, request.epoch, request.child.now);
      return structuredClone(child);
    },

    async expireOverdue(request: Fence & { now: number }): Promise<FinishOutcome[]> {
      s.fence(request);
      const overdue = [...s.runs.values()]
        .filter((r) => r.key === request.key && (r.status === 'queued' || r.status === 'waiting'))
        .filter((r) => r.deadlineAt !== null && r.deadlineAt <= request.now)
        .sort((a, b) => a.seq - b.seq);
      return overdue.map((run) => {
        const done = s.finish(run, 'failed', { error: deadlineError(run.id, run.deadlineAt!, 'pending') }, request.now);
        return { run: structuredClone(done.run), wake: done.wake };
      });
    },

    async childrenOf(parentId: string): Promise<RunRecord[]> {
      return [...s.runs.values()]
        .filter((r) => r.parentId === parentId)
        .sort((a, b) => a.seq - b.seq)
        .map((r) => structuredClone(r));
    },

    async wakeWaiting(request: { onRun: string; kind: WaitKind; now: number }): Promise<KeyNotice[]> {
      s.open();
      const keys = new Set<string>();
      for (const run of s.runs.values()) {
        const wait = run.wait;
        if (run.status !== 'waiting' || !wait || wait.onRun !== request.onRun || wait.kind !== request.kind) continue;
        if (wait.wakeAt !== null && wait.wakeAt <= request.now) continue;
        s.runs.set(run.id, { ...run, wait: { ...wait, wakeAt: request.now } });
        keys.add(run.key);
      }
      return [...keys].map((key) => ({ key }));
    },

    async getStepAttempts(runId: string): Promise<StepAttempt[]> {
      return structuredClone(s.attempts.get(runId) ?? []);
    },

    async nextWakeAt(now: number): Promise<number | undefined> {
      let next = Infinity;
      for (const run of s.runs.values()) {
        if (run.status === 'waiting' && run.wait?.wakeAt != null && run.wait.wakeAt > now) next = Math.min(next, run.wait.wakeAt);
        const pending = run.status === 'waiting' || run.status === 'queued';
        if (pending && run.deadlineAt !== null && run.deadlineAt > now) next = Math.min(next, run.deadlineAt);
      }
      for (const schedule of s.schedules.values()) {
        if (schedule.nextFireAt !== null && schedule.nextFireAt > now) next = Math.min(next, schedule.nextFireAt);
      }
      return Number.isFinite(next) ? next : undefined;
    },

    async compactRuns(request: { finishedBefore: number; limit: number }): Promise<CompactedRuns> {
      s.open();
      const result = { runs: 0, steps: 0, bytes: 0, keys: new Set<string>() };
      const candidates = [...s.runs.values()]
        .filter((r) => !isPending(r) && !r.compacted && r.finishedAt !== null && r.finishedAt < request.finishedBefore)
        .sort((a, b) => a.finishedAt! - b.finishedAt! || a.seq - b.seq)
        .slice(0, request.limit);
      for (const run of candidates) {
        const steps = s.steps.get(run.id) ?? [];
        const attempts = s.attempts.get(run.id) ?? [];
        result.steps += steps.length;
        result.bytes += steps.reduce((n, step) => n + utf8(step.name) + utf8(JSON.stringify(step.result)), 0);
        result.bytes += attempts.reduce((n, a) => n + utf8(a.name) + utf8(a.error.message), 0);
        s.steps.delete(run.id);
        s.attempts.delete(run.id);
        s.runs.set(run.id, { ...run, compacted: true });
        result.runs++;
        result.keys.add(run.key);
      }
      return { runs: result.runs, steps: result.steps, bytes: result.bytes, keys: [...result.keys] };
    },
  };
}

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
