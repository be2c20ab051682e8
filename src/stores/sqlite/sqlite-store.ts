import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { checkFence, decideAcquire } from '../../core/owner-lease.js';
import { priorityRank } from '../../core/mailbox.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
import { PRIORITIES, type CancelMode, type OwnerLease, type ParkedFrame, type RunRecord, type StepRecord } from '../../model/index.js';
import type {
  AcquireOwner,
  ClaimNext,
  ClaimedRun,
  CommitStep,
  EnqueueResult,
  Fence,
  FinishRun,
  KeyWork,
  NewCommand,
  RenewOwners,
  RunQuery,
  Store,
} from '../../ports/store.js';
import { OPERATOR_CANCEL } from '../../ports/store.js';
import type { LaneStore } from '../../ports/lane-store.js';
import { openDatabase, type SyncLevel } from './open-database.js';
import { fromFrame, toFrame, toOwner, toRun, toStep, type FrameRow, type OwnerRow, type RunRow, type StepRow } from './rows.js';
import { sqliteLaneStore } from './lane-store.js';
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
  /** How long a writer waits for another process's write lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
}

/**
 * The embedded default store: one SQLite file in WAL mode, every write in a `BEGIN IMMEDIATE`
 * transaction, writes from concurrent key runtimes group-committed (see WriteBatcher).
 */
export function sqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.path, options.synchronous ?? 'FULL', options.busyTimeoutMs ?? 5000);
  return new SqliteStore(db, options.path);
}

class SqliteStore implements Store {
  readonly description: string;
  readonly localDirectory: string | undefined;
  readonly lanes: LaneStore;
  private readonly batcher: WriteBatcher;
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    path: string,
  ) {
    this.description = `sqlite:${path}`;
    this.localDirectory = path === ':memory:' ? undefined : dirname(resolve(path));
    this.batcher = new WriteBatcher(db);
    this.lanes = sqliteLaneStore(db, this.description, this.batcher);
    this.q = {
      insertRun: db.prepare(`INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, created_at)
        VALUES (@id, @key, @flow, @input, @idempotencyKey, @priority, @rank, @preempt, 'queued', @now)`),
      runById: db.prepare('SELECT * FROM runs WHERE id = ?'),
      runByIdem: db.prepare('SELECT * FROM runs WHERE idempotency_key = ?'),
      stepsOf: db.prepare(
        'SELECT r.id AS run_id, s.seq, s.name, s.result, s.epoch, s.committed_at FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.id = ? ORDER BY s.seq',
      ),
      owner: db.prepare('SELECT * FROM owners WHERE key = ?'),
      upsertOwner:
        db.prepare(`INSERT INTO owners (key, owner_id, epoch, expires_at, channel) VALUES (@key, @ownerId, @epoch, @expiresAt, @channel)
        ON CONFLICT (key) DO UPDATE SET owner_id = excluded.owner_id, epoch = excluded.epoch, expires_at = excluded.expires_at, channel = excluded.channel`),
      renew: db.prepare('UPDATE owners SET expires_at = ? WHERE key = ? AND owner_id = ? AND epoch = ?'),
      release: db.prepare('UPDATE owners SET owner_id = NULL, expires_at = 0, channel = NULL WHERE key = ? AND owner_id = ? AND epoch = ?'),
      // INDEXED BY: the partial index holds only pending runs, so a claim never sorts a key's history.
      nextRun: db.prepare(`SELECT * FROM runs INDEXED BY runs_pending_by_key WHERE key = ? AND status IN ('queued', 'running')
        ORDER BY (status = 'running') DESC, (priority_rank = 0) DESC, parked DESC, priority_rank, seq LIMIT 1`),
      frameOf: db.prepare('SELECT * FROM parked_frames WHERE run_id = ?'),
      insertFrame:
        db.prepare(`INSERT OR REPLACE INTO parked_frames (run_id, key, epoch, turn_seq, attempt, provider, input, session_id, parked_by, parked_at)
        VALUES (@run_id, @key, @epoch, @turn_seq, @attempt, @provider, @input, @session_id, @parked_by, @parked_at)`),
      park: db.prepare("UPDATE runs SET status = 'queued', parked = 1 WHERE id = ? AND key = ? AND status = 'running'"),
      deleteFrame: db.prepare('DELETE FROM parked_frames WHERE run_id = ?'),
      clearFrameAt: db.prepare('DELETE FROM parked_frames WHERE run_id = ? AND turn_seq <= ?'),
      unpark: db.prepare('UPDATE runs SET parked = 0 WHERE id = ?'),
      peekUrgent: db.prepare(`SELECT * FROM runs INDEXED BY runs_pending_by_key
        WHERE key = ? AND status IN ('queued', 'running') AND status = 'queued' AND priority_rank = 0 ORDER BY seq LIMIT 1`),
      requestCancel: db.prepare("UPDATE runs SET cancel_mode = ? WHERE id = ? AND status IN ('queued', 'running')"),
      droppable: db.prepare(`SELECT id FROM runs INDEXED BY runs_pending_by_key
        WHERE key = ? AND status IN ('queued', 'running') AND status = 'queued' AND cancel_mode = 'abort-drop'`),
      pendingOfKey: db.prepare(
        "SELECT 1 FROM runs INDEXED BY runs_pending_by_key WHERE key = ? AND status IN ('queued', 'running') LIMIT 1",
      ),
      startRun: db.prepare(
        "UPDATE runs SET status = 'running', attempts = attempts + 1, epoch = ?, started_at = coalesce(started_at, ?) WHERE id = ?",
      ),
      // Inserts only for a running run of the fenced key: the common path costs one statement.
      insertStep: db.prepare(`INSERT INTO steps (run_seq, seq, name, result, epoch, committed_at)
        SELECT seq, @seq, @name, @result, @epoch, @now FROM runs WHERE id = @runId AND key = @key AND status = 'running'`),
      finish:
        db.prepare(`UPDATE runs SET status = @status, result = @result, error_code = @code, error_message = @message, finished_at = @now
        WHERE id = @id AND key = @key AND status IN ('queued', 'running')`),
      requeue: db.prepare("UPDATE runs SET status = 'queued', cancel_mode = NULL WHERE id = ? AND key = ? AND status = 'running'"),
      keysWithWork: db.prepare(`SELECT r.key AS key, min(r.priority_rank) AS rank, o.owner_id, o.epoch, o.expires_at, o.channel
        FROM runs r INDEXED BY runs_pending_by_key LEFT JOIN owners o ON o.key = r.key WHERE r.status IN ('queued', 'running')
        GROUP BY r.key ORDER BY rank, min(r.seq) LIMIT ?`),
    };
  }

  enqueue(command: NewCommand): Promise<EnqueueResult> {
    return this.batcher.write(() => {
      const existing = this.q.runByIdem.get(command.idempotencyKey) as RunRow | undefined;
      if (existing) return { run: toRun(existing), created: false };
      this.q.insertRun.run({
        ...command,
        input: JSON.stringify(command.input),
        rank: priorityRank(command.priority),
      });
      return { run: toRun(this.q.runById.get(command.id) as RunRow), created: true };
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.q.runById.get(id) as RunRow | undefined;
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
    return (this.db.prepare(sql).all(...params, query.limit ?? 1000) as RunRow[]).map(toRun);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return (this.q.stepsOf.all(runId) as StepRow[]).map(toStep);
  }

  async keysWithWork(limit: number): Promise<KeyWork[]> {
    type Row = {
      key: string;
      rank: number;
      owner_id: string | null;
      epoch: number | null;
      expires_at: number | null;
      channel: string | null;
    };
    return (this.q.keysWithWork.all(limit) as Row[]).map((r) => ({
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
    return this.ownerRow(key);
  }

  claimNext(request: ClaimNext): Promise<ClaimedRun | undefined> {
    return this.batcher.write(() => {
      this.fence(request);
      const row = this.q.nextRun.get(request.key) as RunRow | undefined;
      if (!row) return undefined;
      this.q.startRun.run(request.epoch, request.now, row.id);
      const run = toRun(this.q.runById.get(row.id) as RunRow);
      const frame = this.q.frameOf.get(row.id) as FrameRow | undefined;
      return { run, steps: (this.q.stepsOf.all(row.id) as StepRow[]).map(toStep), frame: frame && toFrame(frame) };
    });
  }

  dropCancelled(request: Fence & { now: number }): Promise<RunRecord[]> {
    return this.batcher.write(() => {
      this.fence(request);
      const ids = (this.q.droppable.all(request.key) as { id: string }[]).map((r) => r.id);
      return ids.map((id) => {
        this.q.finish.run({
          id,
          key: request.key,
          status: 'cancelled',
          result: null,
          code: OPERATOR_CANCEL.code,
          message: OPERATOR_CANCEL.message,
          now: request.now,
        });
        this.q.deleteFrame.run(id);
        return toRun(this.q.runById.get(id) as RunRow);
      });
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
    const row = this.q.peekUrgent.get(key) as RunRow | undefined;
    return row && toRun(row);
  }

  requestCancel(request: { runId: string; mode: CancelMode }): Promise<RunRecord | undefined> {
    return this.batcher.write(() => {
      this.q.requestCancel.run(request.mode, request.runId);
      const row = this.q.runById.get(request.runId) as RunRow | undefined;
      return row && toRun(row);
    });
  }

  commitStep(request: CommitStep): Promise<StepRecord> {
    const result = JSON.stringify(request.result);
    return this.batcher.write(() => {
      this.fence(request);
      let inserted: number;
      try {
        inserted = this.q.insertStep.run({
          runId: request.runId,
          seq: request.seq,
          name: request.name,
          result,
          epoch: request.epoch,
          now: request.now,
          key: request.key,
        }).changes;
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new HoldfastError('step_already_committed', `step #${request.seq} of run ${request.runId} is already committed`);
        }
        throw error;
      }
      if (inserted === 0) this.assertRunOfKey(request.runId, request.key, 'running');
      if (this.q.clearFrameAt.run(request.runId, request.seq).changes > 0) this.q.unpark.run(request.runId);
      return {
        runId: request.runId,
        seq: request.seq,
        name: request.name,
        result: request.result,
        epoch: request.epoch,
        committedAt: request.now,
      };
    });
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

  async close(): Promise<void> {
    this.batcher.close();
    this.db.close();
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
