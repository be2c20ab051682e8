import type {
  CancelMode,
  EffectRecord,
  EffectStatus,
  Json,
  OwnerLease,
  ParkedFrame,
  PreemptKind,
  Priority,
  RunRecord,
  RunStatus,
  ScheduleRecord,
  ScheduleTiming,
  StepAttempt,
  StepRecord,
  WaitKind,
} from '../../model/index.js';

/** Row shapes of the SQLite schema and their mapping to records. */

/** A run with its wait, as `RUN_SELECT` reads it. */
export interface RunRow {
  seq: number;
  id: string;
  key: string;
  flow: string;
  input: string;
  idempotency_key: string;
  priority: Priority;
  preempt: PreemptKind | null;
  status: RunStatus;
  attempts: number;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  epoch: number | null;
  cancel_mode: CancelMode | null;
  frame: string | null;
  parent_id: string | null;
  deadline_at: number | null;
  compacted: number;
  traceparent: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  wait_kind: WaitKind | null;
  wait_wake_at: number | null;
  wait_on_run: string | null;
  wait_detail: string | null;
  wait_since: number | null;
}

/** Every run query selects this: the run and its wait, if any. */
export const RUN_SELECT = `SELECT r.*, w.kind AS wait_kind, w.wake_at AS wait_wake_at, w.on_run AS wait_on_run,
  w.detail AS wait_detail, w.since AS wait_since FROM runs r LEFT JOIN waits w ON w.run_id = r.id`;

export interface StepRow {
  run_id: string;
  seq: number;
  name: string;
  result: string;
  epoch: number;
  committed_at: number;
}

export interface OwnerRow {
  key: string;
  owner_id: string | null;
  epoch: number;
  expires_at: number;
  channel: string | null;
}

export function toRun(row: RunRow): RunRecord {
  const waiting = row.status === 'waiting' && row.wait_kind !== null;
  return {
    id: row.id,
    key: row.key,
    flow: row.flow,
    input: JSON.parse(row.input) as Json,
    idempotencyKey: row.idempotency_key,
    priority: row.priority,
    preempt: row.preempt,
    seq: row.seq,
    status: row.status,
    attempts: row.attempts,
    result: row.result === null ? undefined : (JSON.parse(row.result) as Json),
    error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? '' },
    epoch: row.epoch,
    parked: row.frame !== null,
    wait: waiting
      ? {
          kind: row.wait_kind!,
          wakeAt: row.wait_wake_at,
          onRun: row.wait_on_run,
          detail: JSON.parse(row.wait_detail ?? 'null') as Json,
          since: row.wait_since ?? 0,
        }
      : null,
    parentId: row.parent_id,
    deadlineAt: row.deadline_at,
    compacted: row.compacted === 1,
    cancelRequested: row.cancel_mode,
    traceparent: row.traceparent ?? null,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** The frame of a parked run, kept on the run until a step at or past its position commits. */
export function frameOf(row: RunRow): ParkedFrame | undefined {
  return row.frame === null ? undefined : (JSON.parse(row.frame) as ParkedFrame);
}

export function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    seq: row.seq,
    name: row.name,
    result: JSON.parse(row.result) as Json,
    epoch: row.epoch,
    committedAt: row.committed_at,
  };
}

export function toOwner(row: OwnerRow): OwnerLease {
  return { key: row.key, ownerId: row.owner_id, epoch: row.epoch, expiresAt: row.expires_at, channel: row.channel };
}

export interface AttemptRow {
  run_id: string;
  seq: number;
  attempt: number;
  name: string;
  error_code: string;
  error_message: string;
  failed_at: number;
  retry_at: number | null;
}

export function toAttempt(row: AttemptRow): StepAttempt {
  return {
    runId: row.run_id,
    seq: row.seq,
    name: row.name,
    attempt: row.attempt,
    error: { code: row.error_code, message: row.error_message },
    failedAt: row.failed_at,
    retryAt: row.retry_at,
  };
}

export interface EffectRow {
  key: string;
  name: string;
  run_id: string;
  status: EffectStatus;
  origins: string;
  attempts: number;
  artifact: string | null;
  error_code: string | null;
  error_message: string | null;
  next_attempt_at: number | null;
  claimed_at: number;
  delivered_at: number | null;
}

export function toEffect(row: EffectRow): EffectRecord {
  return {
    key: row.key,
    name: row.name,
    runId: row.run_id,
    status: row.status,
    origins: JSON.parse(row.origins) as string[],
    attempts: row.attempts,
    artifact: row.artifact === null ? undefined : (JSON.parse(row.artifact) as Json),
    error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? '' },
    nextAttemptAt: row.next_attempt_at,
    claimedAt: row.claimed_at,
    deliveredAt: row.delivered_at,
  };
}

export function fromEffect(effect: EffectRecord): EffectRow {
  return {
    key: effect.key,
    name: effect.name,
    run_id: effect.runId,
    status: effect.status,
    origins: JSON.stringify(effect.origins),
    attempts: effect.attempts,
    artifact: effect.artifact === undefined ? null : JSON.stringify(effect.artifact),
    error_code: effect.error?.code ?? null,
    error_message: effect.error?.message ?? null,
    next_attempt_at: effect.nextAttemptAt,
    claimed_at: effect.claimedAt,
    delivered_at: effect.deliveredAt,
  };
}

export interface ScheduleRow {
  id: string;
  key: string;
  flow: string;
  input: string;
  priority: Priority;
  timing: string;
  catch_up: number;
  next_fire_at: number | null;
  last_fire_at: number | null;
  created_at: number;
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    key: row.key,
    flow: row.flow,
    input: JSON.parse(row.input) as Json,
    priority: row.priority,
    timing: JSON.parse(row.timing) as ScheduleTiming,
    catchUp: row.catch_up === 1,
    nextFireAt: row.next_fire_at,
    lastFireAt: row.last_fire_at,
    createdAt: row.created_at,
  };
}

export function fromSchedule(s: ScheduleRecord): ScheduleRow {
  return {
    id: s.id,
    key: s.key,
    flow: s.flow,
    input: JSON.stringify(s.input),
    priority: s.priority,
    timing: JSON.stringify(s.timing),
    catch_up: s.catchUp ? 1 : 0,
    next_fire_at: s.nextFireAt,
    last_fire_at: s.lastFireAt,
    created_at: s.createdAt,
  };
}
