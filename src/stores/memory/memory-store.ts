import { faultMutation } from '../../core/fault-mutations.js';
import { decideClaim, hasWork, priorityRank } from '../../core/mailbox.js';
import { checkFence, decideAcquire, takenOverFrom } from '../../core/owner-lease.js';
import { reopened } from '../../core/reopen.js';
import { HoldfastError } from '../../errors.js';
import {
  PRIORITIES,
  type Json,
  type CancelMode,
  type OperatorAction,
  type OwnerLease,
  type ParkedFrame,
  type RunRecord,
  type StepRecord,
} from '../../model/index.js';
import type {
  AcquiredOwner,
  AcquireOwner,
  ClaimNext,
  ClaimOutcome,
  CommitStep,
  EnqueueResult,
  Fence,
  FinishOutcome,
  FinishRun,
  KeyNotice,
  KeyPage,
  KeyWork,
  NewCommand,
  RenewOwners,
  RunQuery,
  Store,
} from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import { memoryLaneStore } from './lane-store.js';
import { memoryDurable } from './memory-durable.js';
import { memoryEventFeed } from './memory-event-feed.js';
import { memoryOutbox } from './memory-outbox.js';
import { memoryProcessRecords } from './memory-process-records.js';
import { newRun } from './new-run.js';
import { memorySchedules } from './memory-schedules.js';
import { claimable, isPending, MemoryState } from './memory-state.js';

/**
 * The reference store: everything in process memory, lost with the process. It is the executable
 * specification of the Store port (the conformance suite runs against it first) and the store of
 * the deterministic test harness. Records are copied in and out, so callers cannot mutate state.
 */
export function memoryStore(): Store {
  const state = new MemoryState();
  const runs = new MemoryRuns(state);
  const outbox = memoryOutbox(state);
  const schedules = memorySchedules(state, (command) => runs.enqueue(command));
  const lanes = memoryLaneStore(() => state.closed);
  const store: Store = {
    description: 'memory',
    lanes,
    enqueue: (c) => runs.enqueue(c),
    getRun: (id) => runs.getRun(id),
    listRuns: (q) => runs.listRuns(q),
    getSteps: (id) => runs.getSteps(id),
    keysWithWork: (p) => runs.keysWithWork(p),
    acquireOwner: (r) => runs.acquireOwner(r),
    renewOwners: (r) => runs.renewOwners(r),
    releaseOwner: (r) => runs.releaseOwner(r),
    getOwner: (k) => runs.getOwner(k),
    claimNext: (r) => runs.claimNext(r),
    commitStep: (r) => runs.commitStep(r),
    finishRun: (r) => runs.finishRun(r),
    requeueRun: (r) => runs.requeueRun(r),
    parkRun: (r) => runs.parkRun(r),
    peekUrgent: (k) => runs.peekUrgent(k),
    requestCancel: (r) => runs.requestCancel(r),
    reopenRun: (r) => runs.reopenRun(r),
    operatorActions: (id) => runs.operatorActions(id),
    ...memoryDurable(state),
    ...outbox,
    ...schedules,
    ...memoryEventFeed(state),
    ...memoryProcessRecords(state),
    close: async () => {
      state.closed = true;
    },
  };
  return store;
}

/** Runs, commands, owner leases and suspension, on the shared memory state. */
class MemoryRuns {
  constructor(private readonly s: MemoryState) {}

  async enqueue(command: NewCommand): Promise<EnqueueResult> {
    this.s.open();
    const existing = this.s.byIdem.get(command.idempotencyKey);
    if (existing !== undefined) return { run: structuredClone(this.s.runs.get(existing)!), created: false };
    const run = newRun(command, ++this.s.seq);
    this.s.runs.set(run.id, run);
    this.s.byIdem.set(run.idempotencyKey, run.id);
    return { run: structuredClone(run), created: true };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const run = this.s.runs.get(id);
    return run && structuredClone(run);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return [...this.s.runs.values()]
      .filter((r) => query.key === undefined || r.key === query.key)
      .filter((r) => query.status === undefined || query.status.length === 0 || query.status.includes(r.status))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, query.limit ?? 1000)
      .map((r) => structuredClone(r));
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return structuredClone(this.s.steps.get(runId) ?? []);
  }

  async keysWithWork(page: KeyPage): Promise<KeyWork[]> {
    const best = new Map<string, number>();
    const overdue = new Set<string>();
    for (const run of this.s.runs.values()) {
      if (page.after !== undefined && run.key <= page.after) continue;
      if (!hasWork(claimable(run), page.now)) continue;
      best.set(run.key, Math.min(best.get(run.key) ?? Infinity, priorityRank(run.priority)));
      const late = (run.status === 'queued' || run.status === 'waiting') && run.deadlineAt !== null && run.deadlineAt <= page.now;
      if (late) overdue.add(run.key);
    }
    return [...best.keys()]
      .sort()
      .slice(0, page.limit)
      .map((key) => ({ key, topPriority: PRIORITIES[best.get(key)!]!, overdue: overdue.has(key), owner: this.s.owners.get(key) }));
  }

  async acquireOwner(request: AcquireOwner): Promise<AcquiredOwner | undefined> {
    this.s.open();
    const existing = this.s.owners.get(request.key);
    const decided = decideAcquire(existing, request);
    if (!decided) return undefined;
    this.s.owners.set(request.key, decided);
    const from = takenOverFrom(existing, request);
    return from === undefined ? decided : { ...decided, takenOverFrom: from };
  }

  async renewOwners(request: RenewOwners): Promise<{ renewed: string[]; lost: string[] }> {
    this.s.open();
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const { key, epoch } of request.leases) {
      const lease = this.s.owners.get(key);
      if (lease && checkFence(lease, request.ownerId, epoch).ok) {
        this.s.owners.set(key, { ...lease, expiresAt: request.now + request.ttlMs });
        renewed.push(key);
      } else lost.push(key);
    }
    return { renewed, lost };
  }

  async releaseOwner(request: Fence & { ifIdle?: boolean; now?: number }): Promise<boolean> {
    this.s.open();
    const lease = this.s.owners.get(request.key);
    if (!lease || !checkFence(lease, request.ownerId, request.epoch).ok) return false;
    const now = request.now ?? 0;
    if (request.ifIdle && [...this.s.runs.values()].some((r) => r.key === request.key && hasWork(claimable(r), now))) return false;
    this.s.owners.set(request.key, { ...lease, ownerId: null, expiresAt: 0, channel: null });
    return true;
  }

  async getOwner(key: string): Promise<OwnerLease | undefined> {
    return this.s.owners.get(key);
  }

  async claimNext(request: ClaimNext): Promise<ClaimOutcome> {
    this.s.fence(request);
    const entries = [...this.s.runs.values()].filter((r) => r.key === request.key).map(claimable);
    const { drop, claim } = decideClaim(entries, request.now, { urgentOnly: request.urgentOnly ?? false });
    const wake: KeyNotice[] = [];
    const dropped = drop.map((entry) => {
      const done = this.s.finish(this.s.runs.get(entry.id)!, 'cancelled', { error: OPERATOR_CANCEL }, request.now);
      wake.push(...done.wake);
      return structuredClone(done.run);
    });
    if (!claim) return { claimed: undefined, dropped, wake };
    const before = this.s.runs.get(claim.id)!;
    const run: RunRecord = {
      ...before,
      status: 'running',
      attempts: before.attempts + 1,
      epoch: request.epoch,
      cancelRequested: null,
      wait: null,
      startedAt: before.startedAt ?? request.now,
    };
    this.s.runs.set(run.id, run);
    const frame = this.s.frames.get(run.id);
    return {
      claimed: {
        run: structuredClone(run),
        steps: structuredClone(this.s.steps.get(run.id) ?? []),
        attempts: structuredClone(this.s.attempts.get(run.id) ?? []),
        frame: frame && structuredClone(frame),
      },
      dropped,
      wake,
    };
  }

  async commitStep(request: CommitStep): Promise<StepRecord> {
    if (!faultMutation('unfenced-commit')) this.s.fence(request); // test-only switch, off in product code
    const run = this.s.runningOfKey(request.runId, request.key, 'its steps cannot be committed');
    return structuredClone(this.s.journal(run, request, request.epoch, request.now));
  }

  async finishRun(request: FinishRun): Promise<FinishOutcome> {
    this.s.fence(request);
    const run = this.s.runOfKey(request.runId, request.key);
    if (!isPending(run)) throw new HoldfastError('run_already_finished', `run ${run.id} is already ${run.status}`);
    const done = this.s.finish(run, request.status, { result: request.result, error: request.error }, request.now);
    return { run: structuredClone(done.run), wake: done.wake };
  }

  async requeueRun(request: Fence & { runId: string }): Promise<void> {
    this.s.fence(request);
    const run = this.s.runOfKey(request.runId, request.key);
    if (run.status !== 'running') return;
    const cancelRequested = run.cancelRequested === 'abort-keep' ? null : run.cancelRequested; // a drop waits for the next claim
    this.s.runs.set(run.id, { ...run, status: 'queued', cancelRequested });
  }

  async parkRun(request: Fence & { frame: ParkedFrame }): Promise<void> {
    this.s.fence(request);
    const run = this.s.runningOfKey(request.frame.runId, request.key, 'it cannot be parked');
    const frame = structuredClone(request.frame);
    const wait = {
      kind: 'preempted' as const,
      wakeAt: frame.parkedAt,
      onRun: null,
      detail: frame as unknown as Json,
      since: frame.parkedAt,
    };
    this.s.runs.set(run.id, { ...run, status: 'waiting', parked: true, wait });
    this.s.frames.set(run.id, frame);
  }

  async peekUrgent(key: string): Promise<RunRecord | undefined> {
    const urgent = [...this.s.runs.values()]
      .filter((r) => r.key === key && r.status === 'queued' && r.priority === 'urgent' && r.cancelRequested !== 'abort-drop')
      .sort((a, b) => a.seq - b.seq)[0];
    return urgent && structuredClone(urgent);
  }

  async requestCancel(request: { runId: string; mode: CancelMode; now: number }): Promise<RunRecord | undefined> {
    this.s.open();
    const run = this.s.runs.get(request.runId);
    if (!run) return undefined;
    if (isPending(run)) {
      this.s.runs.set(run.id, { ...run, cancelRequested: request.mode });
      this.s.actions.push({ runId: run.id, action: 'cancel', detail: request.mode, at: request.now });
    }
    return structuredClone(this.s.runs.get(run.id));
  }

  async reopenRun(request: { runId: string; now: number }): Promise<RunRecord | undefined> {
    this.s.open();
    const run = this.s.runs.get(request.runId);
    if (!run) return undefined;
    const next = reopened(run);
    this.s.runs.set(run.id, next);
    this.s.attempts.delete(run.id);
    this.s.actions.push({ runId: run.id, action: 'retry', detail: run.status, at: request.now });
    return structuredClone(next);
  }

  async operatorActions(runId: string): Promise<OperatorAction[]> {
    return structuredClone(this.s.actions.filter((a) => a.runId === runId));
  }
}
