import { decideClaim, priorityRank } from '../../core/mailbox.js';
import { checkFence, decideAcquire } from '../../core/owner-lease.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
import { reopened } from '../../core/reopen.js';
import {
  PRIORITIES,
  type CancelMode,
  type OperatorAction,
  type OwnerLease,
  type ParkedFrame,
  type RunRecord,
  type StepRecord,
} from '../../model/index.js';
import type { LaneStore } from '../../ports/lane-store.js';
import type {
  AcquireOwner,
  ClaimNext,
  CommitStep,
  EnqueueResult,
  Fence,
  FinishRun,
  ClaimOutcome,
  KeyPage,
  KeyWork,
  NewCommand,
  RenewOwners,
  RunQuery,
  Store,
} from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import { memoryLaneStore } from './lane-store.js';

/**
 * The reference store: everything in process memory, lost with the process. It is the executable
 * specification of the Store port (the conformance suite runs against it first) and the store of
 * the deterministic test harness. Records are copied in and out, so callers cannot mutate state.
 */
export function memoryStore(): Store {
  return new MemoryStore();
}

class MemoryStore implements Store {
  readonly description = 'memory';
  readonly lanes: LaneStore = memoryLaneStore(() => this.closed);
  private readonly runs = new Map<string, RunRecord>();
  private readonly byIdem = new Map<string, string>();
  private readonly steps = new Map<string, StepRecord[]>();
  private readonly owners = new Map<string, OwnerLease>();
  private readonly frames = new Map<string, ParkedFrame>();
  private readonly actions: OperatorAction[] = [];
  private seq = 0;
  private closed = false;

  async enqueue(command: NewCommand): Promise<EnqueueResult> {
    this.open();
    const existing = this.byIdem.get(command.idempotencyKey);
    if (existing !== undefined) return { run: this.runs.get(existing)!, created: false };
    const run: RunRecord = {
      id: command.id,
      key: command.key,
      flow: command.flow,
      input: structuredClone(command.input),
      idempotencyKey: command.idempotencyKey,
      priority: command.priority,
      preempt: command.preempt,
      seq: ++this.seq,
      status: 'queued',
      attempts: 0,
      result: undefined,
      error: undefined,
      epoch: null,
      parked: false,
      cancelRequested: null,
      createdAt: command.now,
      startedAt: null,
      finishedAt: null,
    };
    this.runs.set(run.id, run);
    this.byIdem.set(run.idempotencyKey, run.id);
    return { run: structuredClone(run), created: true };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(id);
    return run && structuredClone(run);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => query.key === undefined || r.key === query.key)
      .filter((r) => query.status === undefined || query.status.length === 0 || query.status.includes(r.status))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, query.limit ?? 1000)
      .map((r) => structuredClone(r));
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return structuredClone(this.steps.get(runId) ?? []);
  }

  async keysWithWork(page: KeyPage): Promise<KeyWork[]> {
    // Per key with pending runs: its best priority rank.
    const best = new Map<string, number>();
    for (const run of this.runs.values()) {
      if (run.status !== 'queued' && run.status !== 'running') continue;
      if (page.after !== undefined && run.key <= page.after) continue;
      best.set(run.key, Math.min(best.get(run.key) ?? Infinity, priorityRank(run.priority)));
    }
    return [...best.keys()]
      .sort()
      .slice(0, page.limit)
      .map((key) => ({ key, topPriority: PRIORITIES[best.get(key)!]!, owner: this.owners.get(key) }));
  }

  async acquireOwner(request: AcquireOwner): Promise<OwnerLease | undefined> {
    this.open();
    const decided = decideAcquire(this.owners.get(request.key), request);
    if (decided) this.owners.set(request.key, decided);
    return decided;
  }

  async renewOwners(request: RenewOwners): Promise<{ renewed: string[]; lost: string[] }> {
    this.open();
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const { key, epoch } of request.leases) {
      const lease = this.owners.get(key);
      if (lease && checkFence(lease, request.ownerId, epoch).ok) {
        this.owners.set(key, { ...lease, expiresAt: request.now + request.ttlMs });
        renewed.push(key);
      } else lost.push(key);
    }
    return { renewed, lost };
  }

  async releaseOwner(request: Fence & { ifIdle?: boolean }): Promise<boolean> {
    this.open();
    const lease = this.owners.get(request.key);
    if (!lease || !checkFence(lease, request.ownerId, request.epoch).ok) return false;
    if (request.ifIdle && [...this.runs.values()].some((r) => r.key === request.key && (r.status === 'queued' || r.status === 'running')))
      return false;
    this.owners.set(request.key, { ...lease, ownerId: null, expiresAt: 0, channel: null });
    return true;
  }

  async getOwner(key: string): Promise<OwnerLease | undefined> {
    return this.owners.get(key);
  }

  async claimNext(request: ClaimNext): Promise<ClaimOutcome> {
    this.fence(request);
    const { drop, claim } = decideClaim(
      [...this.runs.values()].filter((r) => r.key === request.key),
      { urgentOnly: request.urgentOnly ?? false },
    );
    const dropped = drop.map((run) => {
      const done: RunRecord = { ...run, status: 'cancelled', error: OPERATOR_CANCEL, finishedAt: request.now, parked: false };
      this.runs.set(run.id, done);
      this.frames.delete(run.id);
      return structuredClone(done);
    });
    if (!claim) return { claimed: undefined, dropped };
    const run: RunRecord = {
      ...claim,
      status: 'running',
      attempts: claim.attempts + 1,
      epoch: request.epoch,
      cancelRequested: null,
      startedAt: claim.startedAt ?? request.now,
    };
    this.runs.set(run.id, run);
    const frame = this.frames.get(run.id);
    return {
      claimed: { run: structuredClone(run), steps: structuredClone(this.steps.get(run.id) ?? []), frame: frame && structuredClone(frame) },
      dropped,
    };
  }

  async parkRun(request: Fence & { frame: ParkedFrame }): Promise<void> {
    this.fence(request);
    const run = this.runOfKey(request.frame.runId, request.key);
    if (run.status !== 'running')
      throw new HoldfastError('run_not_running', `run ${run.id} is ${run.status}, not running; it cannot be parked`);
    this.runs.set(run.id, { ...run, status: 'queued', parked: true });
    this.frames.set(run.id, structuredClone(request.frame));
  }

  async peekUrgent(key: string): Promise<RunRecord | undefined> {
    const urgent = [...this.runs.values()]
      .filter((r) => r.key === key && r.status === 'queued' && r.priority === 'urgent' && r.cancelRequested !== 'abort-drop')
      .sort((a, b) => a.seq - b.seq)[0];
    return urgent && structuredClone(urgent);
  }

  async requestCancel(request: { runId: string; mode: CancelMode; now: number }): Promise<RunRecord | undefined> {
    this.open();
    const run = this.runs.get(request.runId);
    if (!run) return undefined;
    if (run.status === 'queued' || run.status === 'running') {
      this.runs.set(run.id, { ...run, cancelRequested: request.mode });
      this.actions.push({ runId: run.id, action: 'cancel', detail: request.mode, at: request.now });
    }
    return structuredClone(this.runs.get(run.id));
  }

  async reopenRun(request: { runId: string; now: number }): Promise<RunRecord | undefined> {
    this.open();
    const run = this.runs.get(request.runId);
    if (!run) return undefined;
    const next = reopened(run);
    this.runs.set(run.id, next);
    this.actions.push({ runId: run.id, action: 'retry', detail: run.status, at: request.now });
    return structuredClone(next);
  }

  async operatorActions(runId: string): Promise<OperatorAction[]> {
    return structuredClone(this.actions.filter((a) => a.runId === runId));
  }

  async commitStep(request: CommitStep): Promise<StepRecord> {
    this.fence(request);
    const run = this.runOfKey(request.runId, request.key);
    if (run.status !== 'running')
      throw new HoldfastError('run_not_running', `run ${run.id} is ${run.status}, not running; its steps cannot be committed`);
    const journal = this.steps.get(run.id) ?? [];
    const journaled = journal.find((s) => s.seq === request.seq);
    if (journaled?.name === request.name) return structuredClone(journaled);
    if (journaled) throw new HoldfastError('step_already_committed', `step #${request.seq} of run ${run.id} is already committed`);
    const step: StepRecord = {
      runId: run.id,
      seq: request.seq,
      name: request.name,
      result: structuredClone(request.result),
      epoch: request.epoch,
      committedAt: request.now,
    };
    journal.push(step);
    journal.sort((a, b) => a.seq - b.seq);
    this.steps.set(run.id, journal);
    const frame = this.frames.get(run.id);
    if (frame && frame.turnSeq <= request.seq) {
      this.frames.delete(run.id);
      this.runs.set(run.id, { ...run, parked: false });
    }
    return structuredClone(step);
  }

  async finishRun(request: FinishRun): Promise<RunRecord> {
    this.fence(request);
    const run = this.runOfKey(request.runId, request.key);
    if (run.status !== 'queued' && run.status !== 'running') {
      throw new HoldfastError('run_already_finished', `run ${run.id} is already ${run.status}`);
    }
    const finished: RunRecord = {
      ...run,
      status: request.status,
      result: request.result === undefined ? undefined : structuredClone(request.result),
      error: request.error,
      finishedAt: request.now,
      parked: false,
    };
    this.runs.set(run.id, finished);
    this.frames.delete(run.id);
    return structuredClone(finished);
  }

  async requeueRun(request: Fence & { runId: string }): Promise<void> {
    this.fence(request);
    const run = this.runOfKey(request.runId, request.key);
    if (run.status !== 'running') return;
    const cancelRequested = run.cancelRequested === 'abort-keep' ? null : run.cancelRequested; // a drop waits for the next claim
    this.runs.set(run.id, { ...run, status: 'queued', cancelRequested });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): void {
    if (this.closed) throw new HoldfastError('store_closed', 'the memory store is closed');
  }

  private fence(f: Fence): void {
    this.open();
    const verdict = checkFence(this.owners.get(f.key), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
  }

  private runOfKey(runId: string, key: string): RunRecord {
    const run = this.runs.get(runId);
    if (!run || run.key !== key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${key}"`);
    return run;
  }
}
