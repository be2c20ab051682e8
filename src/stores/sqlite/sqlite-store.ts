import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { checkFence, decideAcquire } from '../../core/owner-lease.js';
import { priorityRank } from '../../core/mailbox.js';
import { reopened } from '../../core/reopen.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
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
import type { LeaseKeeper, LeaseKeeperOptions } from '../../ports/lease-keeper.js';
import type {
  AcquireOwner,
  ClaimNext,
  ClaimOutcome,
  CommitStep,
  EnqueueResult,
  Fence,
  FinishRun,
  KeyPage,
  KeyWork,
  NewCommand,
  RenewOwners,
  RunQuery,
  Store,
} from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import { startLeaseKeeperThread } from '../../platform/lease-keeper-thread.js';
import { siblingFile } from '../../platform/shipped-file.js';
import { systemClock } from '../../platform/system-clock.js';
import { sqliteLaneStore } from './lane-store.js';
import { openDatabase, type SyncLevel } from './open-database.js';
import { fromFrame, toFrame, toOwner, toRun, toStep, type FrameRow, type OwnerRow, type RunRow, type StepRow } from './rows.js';
import { prepareRunStatements, type RunStatements } from './run-statements.js';
import { classified } from './sqlite-errors.js';
import { WriteBatcher } from './write-batcher.js';

export interface SqliteStoreOptions {
  /** Database file; created with its directory if missing. */
  readonly path: string;
  /**
   * `FULL` (default): every commit is synced to disk before it is reported, so a committed step
   * survives power loss. `NORMAL`: in WAL mode, commits survive a crash of the process but the last
   * ones may be lost on power loss or an OS crash; several times faster on slow disks.
   */
  readonly synchronous?: SyncLevel;
  /**
   * How long a write keeps retrying, asynchronously, while another process holds the write lock,
   * before it fails with `StoreUnavailableError('locked')` (default 5000 ms). The event loop never
   * waits for the lock itself for more than a couple of milliseconds.
   */
  readonly busyTimeoutMs?: number;
}

/**
 * The embedded default store: one SQLite file in WAL mode, every write in a `BEGIN IMMEDIATE`
 * transaction, writes from concurrent key runtimes group-committed (see WriteBatcher), and lease
 * renewal on a thread of its own while a kernel runs (`openLeaseKeeper`).
 */
export function sqliteStore(options: SqliteStoreOptions): Store {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = openDatabase(options.path, options.synchronous ?? 'FULL', busyTimeoutMs);
  return new SqliteStore(db, options.path, busyTimeoutMs);
}

const ATOMIC = { atomic: true } as const;

class SqliteStore implements Store {
  readonly description: string;
  readonly localDirectory: string | undefined;
  readonly lanes: LaneStore;
  private readonly batcher: WriteBatcher;
  private readonly q: RunStatements;
  private readonly keepers = new Set<LeaseKeeper>();

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    busyTimeoutMs: number,
  ) {
    this.description = `sqlite:${path}`;
    this.localDirectory = path === ':memory:' ? undefined : dirname(resolve(path));
    this.batcher = new WriteBatcher(db, { where: this.description, busyBudgetMs: busyTimeoutMs, clock: systemClock });
    this.lanes = sqliteLaneStore(db, this.description, this.batcher);
    this.q = prepareRunStatements(db);
  }

  enqueue(command: NewCommand): Promise<EnqueueResult> {
    return this.batcher.write(() => {
      const existing = this.q.runByIdem.get(command.idempotencyKey) as RunRow | undefined;
      if (existing) return { run: toRun(existing), created: false };
      this.q.insertRun.run({ ...command, input: JSON.stringify(command.input), rank: priorityRank(command.priority) });
      return { run: toRun(this.q.runById.get(command.id) as RunRow), created: true };
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.read(() => this.q.runById.get(id) as RunRow | undefined);
    return row && toRun(row);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.key !== undefined) {
      where.push('key = ?');
      params.push(query.key);
    }
    if (query.status !== undefined && query.status.length > 0) {
      where.push(`status IN (${query.status.map(() => '?').join(', ')})`);
      params.push(...query.status);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    return this.read(() => this.db.prepare(sql).all(...params, query.limit ?? 1000) as RunRow[]).map(toRun);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return this.read(() => this.q.stepsOf.all(runId) as StepRow[]).map(toStep);
  }

  async keysWithWork(page: KeyPage): Promise<KeyWork[]> {
    type Row = {
      key: string;
      rank: number;
      owner_id: string | null;
      epoch: number | null;
      expires_at: number | null;
      channel: string | null;
    };
    const rows = this.read(() => this.q.keysWithWork.all(page.after ?? '', page.limit) as Row[]);
    return rows.map((r) => ({
      key: r.key,
      topPriority: PRIORITIES[r.rank] ?? 'normal',
      owner:
        r.epoch === null
          ? undefined
          : toOwner({ key: r.key, owner_id: r.owner_id, epoch: r.epoch, expires_at: r.expires_at ?? 0, channel: r.channel }),
    }));
  }

  acquireOwner(request: AcquireOwner): Promise<OwnerLease | undefined> {
    return this.batcher.write(() => {
      const decided = decideAcquire(this.ownerRow(request.key), request);
      if (decided) this.q.upsertOwner.run(decided);
      return decided;
    });
  }

  renewOwners(request: RenewOwners): Promise<{ renewed: string[]; lost: string[] }> {
    return this.batcher.write(() => {
      const renewed: string[] = [];
      const lost: string[] = [];
      for (const lease of request.leases) {
        const changes = this.q.renew.run(request.now + request.ttlMs, lease.key, request.ownerId, lease.epoch).changes;
        (changes > 0 ? renewed : lost).push(lease.key);
      }
      return { renewed, lost };
    });
  }

  releaseOwner(request: Fence & { ifIdle?: boolean }): Promise<boolean> {
    return this.batcher.write(() => {
      if (request.ifIdle && this.q.pendingOfKey.get(request.key) !== undefined) return false;
      return this.q.release.run(request.key, request.ownerId, request.epoch).changes > 0;
    });
  }

  async getOwner(key: string): Promise<OwnerLease | undefined> {
    return this.read(() => this.ownerRow(key));
  }

  claimNext(request: ClaimNext): Promise<ClaimOutcome> {
    return this.batcher.write(() => {
      this.fence(request);
      const dropped = (this.q.droppable.all(request.key) as { id: string }[]).map(({ id }) => {
        const { code, message } = OPERATOR_CANCEL;
        this.q.finish.run({ id, key: request.key, status: 'cancelled', result: null, code, message, now: request.now });
        this.q.deleteFrame.run(id);
        this.q.unpark.run(id);
        return toRun(this.q.runById.get(id) as RunRow);
      });
      const next = (request.urgentOnly ? this.q.nextUrgentRun : this.q.nextRun).get(request.key) as RunRow | undefined;
      if (!next) return { claimed: undefined, dropped };
      this.q.startRun.run(request.epoch, request.now, next.id);
      const run = toRun(this.q.runById.get(next.id) as RunRow);
      const frame = this.q.frameOf.get(next.id) as FrameRow | undefined;
      const steps = (this.q.stepsOf.all(next.id) as StepRow[]).map(toStep);
      return { claimed: { run, steps, frame: frame && toFrame(frame) }, dropped };
    });
  }

  parkRun(request: Fence & { frame: ParkedFrame }): Promise<void> {
    return this.batcher.write(() => {
      this.fence(request);
      if (this.q.park.run(request.frame.runId, request.key).changes === 0) this.assertRunOfKey(request.frame.runId, request.key, 'running');
      this.q.insertFrame.run(fromFrame(request.frame));
    });
  }

  async peekUrgent(key: string): Promise<RunRecord | undefined> {
    const row = this.read(() => this.q.peekUrgent.get(key) as RunRow | undefined);
    return row && toRun(row);
  }

  requestCancel(request: { runId: string; mode: CancelMode; now: number }): Promise<RunRecord | undefined> {
    return this.batcher.write(() => {
      if (this.q.requestCancel.run(request.mode, request.runId).changes > 0) {
        this.q.insertAction.run(request.runId, 'cancel', request.mode, request.now);
      }
      const row = this.q.runById.get(request.runId) as RunRow | undefined;
      return row && toRun(row);
    });
  }

  reopenRun(request: { runId: string; now: number }): Promise<RunRecord | undefined> {
    return this.batcher.write(() => {
      const row = this.q.runById.get(request.runId) as RunRow | undefined;
      if (!row) return undefined;
      const before = toRun(row);
      const after = reopened(before);
      this.q.reopen.run(request.runId);
      this.q.insertAction.run(request.runId, 'retry', before.status, request.now);
      return after;
    });
  }

  async operatorActions(runId: string): Promise<OperatorAction[]> {
    type Row = { run_id: string; action: OperatorAction['action']; detail: string; at: number };
    return this.read(() => this.q.actionsOf.all(runId) as Row[]).map((r) => ({
      runId: r.run_id,
      action: r.action,
      detail: r.detail,
      at: r.at,
    }));
  }

  /**
   * Atomic for the batcher (no savepoint): every way it can fail throws before its first write
   * (the fenced insert inserts nothing, or violates the primary key and writes nothing).
   */
  commitStep(request: CommitStep): Promise<StepRecord> {
    const result = JSON.stringify(request.result);
    return this.batcher.write(() => {
      const { runId, seq, name, epoch, now, key, ownerId } = request;
      let inserted: number;
      try {
        inserted = this.q.insertStep.run({ runId, seq, name, result, epoch, now, key, ownerId }).changes;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
        // The same commit repeated after its reply was lost is answered with what is journaled.
        const journaled = this.q.stepAt.get(runId, seq) as StepRow | undefined;
        if (journaled?.name === name) return toStep(journaled);
        throw new HoldfastError('step_already_committed', `step #${seq} of run ${runId} is already committed`);
      }
      if (inserted === 0) {
        // Nothing inserted: say why (stale fence first, then the run's state).
        this.fence(request);
        this.assertRunOfKey(runId, key, 'running');
      }
      if (this.q.clearFrameAt.run(runId, seq).changes > 0) this.q.unpark.run(runId);
      return { runId, seq, name, result: request.result, epoch, committedAt: now };
    }, ATOMIC);
  }

  finishRun(request: FinishRun): Promise<RunRecord> {
    const result = request.result === undefined ? null : JSON.stringify(request.result);
    return this.batcher.write(() => {
      this.fence(request);
      const changed = this.q.finish.run({
        id: request.runId,
        key: request.key,
        status: request.status,
        result,
        code: request.error?.code ?? null,
        message: request.error?.message ?? null,
        now: request.now,
      }).changes;
      if (changed === 0) this.assertRunOfKey(request.runId, request.key, 'queued or running');
      this.q.deleteFrame.run(request.runId);
      this.q.unpark.run(request.runId);
      return toRun(this.q.runById.get(request.runId) as RunRow);
    });
  }

  requeueRun(request: Fence & { runId: string }): Promise<void> {
    return this.batcher.write(() => {
      this.fence(request);
      this.q.requeue.run(request.runId, request.key);
    });
  }

  /** Owner-lease renewal on a thread with its own connection, for as long as the keeper is open. */
  async openLeaseKeeper(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    if (this.path === ':memory:')
      throw new HoldfastError('keeper_unsupported', 'an in-memory SQLite database cannot be shared with a thread');
    const renewer = { module: siblingFile(import.meta.url, 'owner-renewer.js'), options: { path: resolve(this.path) } };
    const keeper = await startLeaseKeeperThread(renewer, options);
    const kept: LeaseKeeper = {
      now: () => keeper.now(),
      keep: (lease, acquiredAt) => keeper.keep(lease, acquiredAt),
      heartbeat: () => keeper.heartbeat(),
      close: async () => {
        if (this.keepers.delete(kept)) await keeper.close();
      },
    };
    this.keepers.add(kept);
    return kept;
  }

  async close(): Promise<void> {
    await Promise.all([...this.keepers].map((k) => k.close()));
    this.batcher.close();
    this.db.close();
  }

  private read<T>(query: () => T): T {
    return classified(this.description, query);
  }

  private ownerRow(key: string): OwnerLease | undefined {
    const row = this.q.owner.get(key) as OwnerRow | undefined;
    return row && toOwner(row);
  }

  private fence(f: Fence): void {
    const verdict = checkFence(this.ownerRow(f.key), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
  }

  private assertRunOfKey(runId: string, key: string, expected: string): void {
    const row = this.q.runById.get(runId) as RunRow | undefined;
    if (!row || row.key !== key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${key}"`);
    if (expected === 'running' && row.status !== 'running') {
      throw new HoldfastError('run_not_running', `run ${runId} is ${row.status}, not running; its steps cannot be committed`);
    }
    if (expected !== 'running') throw new HoldfastError('run_already_finished', `run ${runId} is already ${row.status}`);
  }
}
