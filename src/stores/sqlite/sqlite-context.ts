import type Database from 'better-sqlite3';
import { checkFence } from '../../core/owner-lease.js';
import { heldEffectMessage } from '../../core/effect-claim.js';
import { priorityRank } from '../../core/mailbox.js';
import { HoldfastError, StaleEpochError } from '../../errors.js';
import type { Json, OwnerLease, RunError, RunRecord, StepRecord, TerminalStatus } from '../../model/index.js';
import type { Fence, KeyNotice, NewCommand } from '../../ports/store.js';
import { prepareDurableStatements, type DurableStatements } from './durable-statements.js';
import { toOwner, toRun, toStep, type OwnerRow, type RunRow, type StepRow } from './rows.js';
import { prepareRunStatements, type RunStatements } from './run-statements.js';
import { classified } from './sqlite-errors.js';
import type { WriteBatcher } from './write-batcher.js';

/**
 * What every part of the SQLite store shares: the connection, its write batcher, the prepared
 * statements, and the helpers that must mean the same everywhere (the fence, journaling an entry,
 * ending a run). Helpers that write run inside a batch transaction only.
 */
export class SqliteContext {
  readonly q: RunStatements;
  readonly d: DurableStatements;

  constructor(
    readonly db: Database.Database,
    readonly batcher: WriteBatcher,
    readonly description: string,
  ) {
    this.q = prepareRunStatements(db);
    this.d = prepareDurableStatements(db);
  }

  /** A read outside a transaction: driver errors that mean "unavailable" become StoreUnavailableError. */
  read<T>(query: () => T): T {
    return classified(this.description, query);
  }

  run(id: string): RunRecord | undefined {
    const row = this.q.runById.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  ownerRow(key: string): OwnerLease | undefined {
    const row = this.q.owner.get(key) as OwnerRow | undefined;
    return row && toOwner(row);
  }

  fence(f: Fence): void {
    const verdict = checkFence(this.ownerRow(f.key), f.ownerId, f.epoch);
    if (!verdict.ok) throw new StaleEpochError(f.key, f.epoch, verdict.current);
  }

  /** Fences and checks the run is running for the key; `what` says what could not happen otherwise. */
  fencedRunning(f: Fence, runId: string, what: string): RunRecord {
    this.fence(f);
    const run = this.run(runId);
    if (!run || run.key !== f.key) throw new HoldfastError('run_not_found', `run ${runId} does not exist for key "${f.key}"`);
    if (run.status !== 'running') throw new HoldfastError('run_not_running', `run ${runId} is ${run.status}, not running; ${what}`);
    return run;
  }

  insertRun(command: NewCommand): void {
    this.q.insertRun.run({
      ...command,
      input: JSON.stringify(command.input),
      rank: priorityRank(command.priority),
      parentId: command.parentId ?? null,
      deadlineAt: command.deadlineAt ?? null,
      traceparent: command.traceparent ?? null,
    });
  }

  /**
   * Journals an entry of a running run of the fenced key (the fence is in the insert). The same
   * entry again (same seq and name, a reply that was lost) returns what is journaled; another name
   * at a journaled seq throws `step_already_committed`. A parked frame at or before `seq` ends.
   */
  journal(f: Fence, runId: string, entry: { seq: number; name: string; result: Json }, now: number): StepRecord {
    const result = JSON.stringify(entry.result);
    let inserted: number;
    try {
      inserted = this.q.insertStep.run({
        runId,
        seq: entry.seq,
        name: entry.name,
        result,
        epoch: f.epoch,
        now,
        key: f.key,
        ownerId: f.ownerId,
      }).changes;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
      const journaled = this.q.stepAt.get(runId, entry.seq) as StepRow | undefined;
      if (journaled?.name === entry.name) return toStep(journaled);
      throw new HoldfastError('step_already_committed', `step #${entry.seq} of run ${runId} is already committed`);
    }
    if (inserted === 0) this.fencedRunning(f, runId, 'its steps cannot be committed'); // throws and says why
    this.q.clearFrameAt.run(runId, entry.seq);
    return { runId, seq: entry.seq, name: entry.name, result: entry.result, epoch: f.epoch, committedAt: now };
  }

  /**
   * Ends a run (status and outcome, its wait and frame gone). A parent waiting for it is woken;
   * when it did not complete, its unfinished children get an abort-drop request; the effects it
   * holds are let go (core/effect-claim `releaseHeld`). Returns the run and the keys that now have
   * work.
   */
  finish(
    run: RunRecord,
    status: TerminalStatus,
    outcome: { result?: Json; error?: RunError },
    now: number,
  ): { run: RunRecord; wake: KeyNotice[] } {
    const changed = this.q.finish.run({
      id: run.id,
      key: run.key,
      status,
      result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
      code: outcome.error?.code ?? null,
      message: outcome.error?.message ?? null,
      now,
    }).changes;
    if (changed === 0) throw new HoldfastError('run_already_finished', `run ${run.id} is already ${this.run(run.id)?.status ?? 'gone'}`);
    this.q.endWait.run(run.id);
    const message = heldEffectMessage(run.id, status);
    for (const { key } of this.d.releaseHeld.all({ runId: run.id, message }) as { key: string }[]) this.d.uncover.run(key);
    const wake: KeyNotice[] = [];
    if (run.parentId !== null && this.q.wakeParent.run({ parentId: run.parentId, childId: run.id, now }).changes > 0) {
      const parent = this.run(run.parentId);
      if (parent) wake.push({ key: parent.key });
    }
    if (status !== 'completed') {
      for (const { key, id } of this.q.dropChildren.all(run.id) as { key: string; id: string }[]) wake.push({ key, cancelRunId: id });
    }
    return { run: this.run(run.id)!, wake };
  }
}
