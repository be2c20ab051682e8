import { HoldfastError } from '../../errors.js';
import type { RunRecord, StepAttempt, WaitKind } from '../../model/index.js';
import { deadlineError } from '../../core/deadline.js';
import type { CompactedRuns, DurableStore, Fence, FinishOutcome, KeyNotice, SpawnChild, SuspendRun } from '../../ports/store.js';
import { toAttempt, toRun, type AttemptRow, type RunRow } from './rows.js';
import type { SqliteContext } from './sqlite-context.js';

/** The SQLite store's suspension, child runs and retention (the DurableStore part of the port). */
export function sqliteDurable(c: SqliteContext): DurableStore {
  const { q, d, batcher } = c;
  return {
    suspendRun(request: SuspendRun): Promise<{ suspended: boolean }> {
      return batcher.write(() => {
        const run = c.fencedRunning(request, request.runId, 'it cannot wait');
        const { kind, wakeAt, onRun, detail } = request.wait;
        if (kind === 'child') {
          const status = (d.runStatus.get(onRun ?? '') as { status: string } | undefined)?.status;
          if (status === undefined) throw new HoldfastError('run_not_found', `run ${run.id} waits for run ${onRun}, which does not exist`);
          if (status !== 'queued' && status !== 'running' && status !== 'waiting') return { suspended: false };
        }
        if (request.commit) c.journal(request, run.id, request.commit, request.now);
        if (request.failure) {
          const { seq, attempt, name, error, failedAt, retryAt } = request.failure;
          d.insertAttempt.run({ runId: run.id, seq, attempt, name, code: error.code, message: error.message, failedAt, retryAt });
        }
        q.toWaiting.run(run.id, request.key);
        q.putWait.run({ runId: run.id, kind, wakeAt, onRun: onRun ?? null, detail: JSON.stringify(detail), since: request.now });
        return { suspended: true };
      });
    },

    spawnChild(request: SpawnChild): Promise<RunRecord> {
      return batcher.write(() => {
        const parent = c.fencedRunning(request, request.runId, 'it cannot spawn');
        let child = q.runByIdem.get(request.child.idempotencyKey) as RunRow | undefined;
        if (!child) {
          c.insertRun({ ...request.child, parentId: parent.id });
          child = q.runById.get(request.child.id) as RunRow;
        }
        c.journal(request, parent.id, { seq: request.seq, name: request.name, result: { childId: child.id } }, request.child.now);
        return toRun(child);
      });
    },

    expireOverdue(request: Fence & { now: number }): Promise<FinishOutcome[]> {
      return batcher.write(() => {
        c.fence(request);
        return (d.overdue.all({ key: request.key, now: request.now }) as { id: string }[]).map(({ id }) => {
          const run = c.run(id)!;
          return c.finish(run, 'failed', { error: deadlineError(id, run.deadlineAt!, 'pending') }, request.now);
        });
      });
    },

    wakeWaiting(request: { onRun: string; kind: WaitKind; now: number }): Promise<KeyNotice[]> {
      return batcher.write(() => {
        const woken = d.wakeWaiting.all(request) as { run_id: string }[];
        const keys = new Set(woken.map(({ run_id }) => (d.keyOfRun.get(run_id) as { key: string }).key));
        return [...keys].map((key) => ({ key }));
      });
    },

    async childrenOf(parentId: string): Promise<RunRecord[]> {
      return c.read(() => d.childrenOf.all(parentId) as RunRow[]).map(toRun);
    },

    async getStepAttempts(runId: string): Promise<StepAttempt[]> {
      return c.read(() => d.attemptsOf.all(runId) as AttemptRow[]).map(toAttempt);
    },

    async nextWakeAt(now: number): Promise<number | undefined> {
      const row = c.read(() => d.nextWake.get({ now }) as { at: number | null });
      return row.at ?? undefined;
    },

    compactRuns(request: { finishedBefore: number; limit: number }): Promise<CompactedRuns> {
      return batcher.write(() => {
        const result = { runs: 0, steps: 0, bytes: 0, keys: new Set<string>() };
        for (const { seq, key } of d.toCompact.all(request.finishedBefore, request.limit) as { seq: number; key: string }[]) {
          const steps = d.stepBytes.get(seq) as { n: number; bytes: number };
          const attempts = d.attemptBytes.get(seq) as { bytes: number };
          d.deleteSteps.run(seq);
          d.deleteAttempts.run(seq);
          d.markCompacted.run(seq);
          result.runs++;
          result.steps += steps.n;
          result.bytes += steps.bytes + attempts.bytes;
          result.keys.add(key);
        }
        return { runs: result.runs, steps: result.steps, bytes: result.bytes, keys: [...result.keys] };
      });
    },
  };
}
