import { decideAcquire, takenOverFrom } from '../../core/owner-lease.js';
import { reopened } from '../../core/reopen.js';
import { HoldfastError } from '../../errors.js';
import {
  PRIORITIES,
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
  RunStore,
} from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import { frameOf, RUN_SELECT, toAttempt, toOwner, toRun, toStep, type AttemptRow, type RunRow, type StepRow } from './rows.js';
import type { SqliteContext } from './sqlite-context.js';

/** Atomic for the batcher (no savepoint): it throws only before its first write. */
const ATOMIC = { atomic: true } as const;

/** The SQLite store's runs, commands and owner leases (the RunStore part of the port). */
export function sqliteRuns(c: SqliteContext): RunStore {
  const { q, batcher } = c;
  return {
    enqueue(command: NewCommand): Promise<EnqueueResult> {
      return batcher.write(() => {
        const existing = q.runByIdem.get(command.idempotencyKey) as RunRow | undefined;
        if (existing) return { run: toRun(existing), created: false };
        c.insertRun(command);
        return { run: c.run(command.id)!, created: true };
      });
    },

    async getRun(id: string): Promise<RunRecord | undefined> {
      return c.read(() => c.run(id));
    },

    async listRuns(query: RunQuery): Promise<RunRecord[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.key !== undefined) {
        where.push('r.key = ?');
        params.push(query.key);
      }
      if (query.status !== undefined && query.status.length > 0) {
        where.push(`r.status IN (${query.status.map(() => '?').join(', ')})`);
        params.push(...query.status);
      }
      const sql = `${RUN_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.seq LIMIT ?`;
      return c.read(() => c.db.prepare(sql).all(...params, query.limit ?? 1000) as RunRow[]).map(toRun);
    },

    async getSteps(runId: string): Promise<StepRecord[]> {
      return c.read(() => q.stepsOf.all(runId) as StepRow[]).map(toStep);
    },

    async keysWithWork(page: KeyPage): Promise<KeyWork[]> {
      type Row = {
        key: string;
        rank: number;
        overdue: number | null;
        owner_id: string | null;
        epoch: number | null;
        expires_at: number | null;
        channel: string | null;
      };
      const rows = c.read(() => q.keysWithWork.all({ after: page.after ?? '', limit: page.limit, now: page.now }) as Row[]);
      return rows.map((r) => ({
        key: r.key,
        topPriority: PRIORITIES[r.rank] ?? 'normal',
        overdue: r.overdue === 1,
        owner:
          r.epoch === null
            ? undefined
            : toOwner({ key: r.key, owner_id: r.owner_id, epoch: r.epoch, expires_at: r.expires_at ?? 0, channel: r.channel }),
      }));
    },

    acquireOwner(request: AcquireOwner): Promise<AcquiredOwner | undefined> {
      return batcher.write(() => {
        const existing = c.ownerRow(request.key);
        const decided = decideAcquire(existing, request);
        if (!decided) return undefined;
        q.upsertOwner.run(decided);
        const from = takenOverFrom(existing, request);
        return from === undefined ? decided : { ...decided, takenOverFrom: from };
      });
    },

    renewOwners(request: RenewOwners): Promise<{ renewed: string[]; lost: string[] }> {
      return batcher.write(() => {
        const renewed: string[] = [];
        const lost: string[] = [];
        for (const lease of request.leases) {
          const changes = q.renew.run(request.now + request.ttlMs, lease.key, request.ownerId, lease.epoch).changes;
          (changes > 0 ? renewed : lost).push(lease.key);
        }
        return { renewed, lost };
      });
    },

    releaseOwner(request: Fence & { ifIdle?: boolean; now?: number }): Promise<boolean> {
      return batcher.write(() => {
        if (request.ifIdle && q.keyHasWork.get({ key: request.key, now: request.now ?? 0 }) !== undefined) return false;
        return q.release.run(request.key, request.ownerId, request.epoch).changes > 0;
      });
    },

    async getOwner(key: string): Promise<OwnerLease | undefined> {
      return c.read(() => c.ownerRow(key));
    },

    claimNext(request: ClaimNext): Promise<ClaimOutcome> {
      return batcher.write(() => {
        c.fence(request);
        const wake: KeyNotice[] = [];
        const dropped = (q.droppable.all(request.key) as { id: string }[]).map(({ id }) => {
          const done = c.finish(c.run(id)!, 'cancelled', { error: OPERATOR_CANCEL }, request.now);
          wake.push(...done.wake);
          return done.run;
        });
        const next = (request.urgentOnly ? q.nextUrgentRun : q.nextRun).get({ key: request.key, now: request.now }) as RunRow | undefined;
        if (!next) return { claimed: undefined, dropped, wake };
        q.startRun.run(request.epoch, request.now, next.id);
        q.endWait.run(next.id);
        const run = c.run(next.id)!;
        const steps = (q.stepsOf.all(next.id) as StepRow[]).map(toStep);
        const attempts = (c.d.attemptsOf.all(next.id) as AttemptRow[]).map(toAttempt);
        return { claimed: { run, steps, attempts, frame: frameOf(next) }, dropped, wake };
      });
    },

    commitStep(request: CommitStep): Promise<StepRecord> {
      return batcher.write(() => c.journal(request, request.runId, request, request.now), ATOMIC);
    },

    finishRun(request: FinishRun): Promise<FinishOutcome> {
      return batcher.write(() => {
        c.fence(request);
        const run = c.run(request.runId);
        if (!run || run.key !== request.key)
          throw new HoldfastError('run_not_found', `run ${request.runId} does not exist for key "${request.key}"`);
        return c.finish(run, request.status, { result: request.result, error: request.error }, request.now);
      });
    },

    requeueRun(request: Fence & { runId: string }): Promise<void> {
      return batcher.write(() => {
        c.fence(request);
        q.requeue.run(request.runId, request.key);
      });
    },

    parkRun(request: Fence & { frame: ParkedFrame }): Promise<void> {
      return batcher.write(() => {
        c.fencedRunning(request, request.frame.runId, 'it cannot be parked');
        const { frame } = request;
        q.park.run({ runId: frame.runId, key: request.key, frame: JSON.stringify(frame) });
        q.putWait.run({
          runId: frame.runId,
          kind: 'preempted',
          wakeAt: frame.parkedAt,
          onRun: null,
          detail: JSON.stringify(frame),
          since: frame.parkedAt,
        });
      });
    },

    async peekUrgent(key: string): Promise<RunRecord | undefined> {
      const row = c.read(() => q.peekUrgent.get(key) as RunRow | undefined);
      return row && toRun(row);
    },

    requestCancel(request: { runId: string; mode: CancelMode; now: number }): Promise<RunRecord | undefined> {
      return batcher.write(() => {
        if (q.requestCancel.run(request.mode, request.runId).changes > 0)
          q.insertAction.run(request.runId, 'cancel', request.mode, request.now);
        return c.run(request.runId);
      });
    },

    reopenRun(request: { runId: string; now: number }): Promise<RunRecord | undefined> {
      return batcher.write(() => {
        const before = c.run(request.runId);
        if (!before) return undefined;
        const after = reopened(before);
        q.reopen.run(request.runId);
        q.endWait.run(request.runId);
        c.d.deleteAttempts.run(before.seq);
        q.insertAction.run(request.runId, 'retry', before.status, request.now);
        return after;
      });
    },

    async operatorActions(runId: string): Promise<OperatorAction[]> {
      type Row = { run_id: string; action: OperatorAction['action']; detail: string; at: number };
      return c.read(() => q.actionsOf.all(runId) as Row[]).map((r) => ({ runId: r.run_id, action: r.action, detail: r.detail, at: r.at }));
    },
  };
}
