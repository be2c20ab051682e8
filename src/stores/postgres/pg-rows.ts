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

/**
 * Row shapes of the Postgres schema and their mapping to records. `bigint` columns arrive as
 * strings unless the pool parses them (a pool the caller passes in may not), so every number goes
 * through `int`; epoch milliseconds and seqs are far below 2^53.
 */
type Int8 = number | string;

export function int(value: Int8): number {
  return typeof value === 'number' ? value : Number(value);
}

export function intOrNull(value: Int8 | null): number | null {
  return value === null ? null : int(value);
}

/** A run with its wait, as `runSelect` reads it. */
export interface RunRow {
  seq: Int8;
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
  epoch: Int8 | null;
  cancel_mode: CancelMode | null;
  frame: string | null;
  parent_id: string | null;
  deadline_at: Int8 | null;
  compacted: boolean;
  traceparent: string | null;
  created_at: Int8;
  started_at: Int8 | null;
  finished_at: Int8 | null;
  wait_kind: WaitKind | null;
  wait_wake_at: Int8 | null;
  wait_on_run: string | null;
  wait_detail: string | null;
  wait_since: Int8 | null;
}

/** Every run query selects this (with the schema `s`): the run and its wait, if any. */
export function runSelect(s: string): string {
  return `SELECT r.*, w.kind AS wait_kind, w.wake_at AS wait_wake_at, w.on_run AS wait_on_run,
  w.detail AS wait_detail, w.since AS wait_since FROM ${s}.runs r LEFT JOIN ${s}.waits w ON w.run_id = r.id`;
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
    seq: int(row.seq),
    status: row.status,
    attempts: row.attempts,
    result: row.result === null ? undefined : (JSON.parse(row.result) as Json),
    error: row.error_code === null ? undefined : { code: row.error_code, message: row.error_message ?? '' },
    epoch: intOrNull(row.epoch),
    parked: row.frame !== null,
    wait: waiting
      ? {
          kind: row.wait_kind!,
          wakeAt: intOrNull(row.wait_wake_at),
          onRun: row.wait_on_run,
          detail: JSON.parse(row.wait_detail ?? 'null') as Json,
          since: int(row.wait_since ?? 0),
        }
      : null,
    parentId: row.parent_id,
    deadlineAt: intOrNull(row.deadline_at),
    compacted: row.compacted,
    cancelRequested: row.cancel_mode,
    traceparent: row.traceparent ?? null,
    createdAt: int(row.created_at),
    startedAt: intOrNull(row.started_at),
    finishedAt: intOrNull(row.finished_at),
  };
}

/** The frame of a parked run, kept on the run until a step at or past its position commits. */
export function frameOf(row: Pick<RunRow, 'frame'>): ParkedFrame | undefined {
  return row.frame === null ? undefined : (JSON.parse(row.frame) as ParkedFrame);
}

export interface StepRow {
  run_id: string;
  seq: number;
  name: string;
  result: string;
  epoch: Int8;
  committed_at: Int8;
}

export function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    seq: row.seq,
    name: row.name,
    result: JSON.parse(row.result) as Json,
    epoch: int(row.epoch),
    committedAt: int(row.committed_at),
  };
}

export interface OwnerRow {
  key: string;
  owner_id: string | null;
  epoch: Int8;
  expires_at: Int8;
  channel: string | null;
}

export function toOwner(row: OwnerRow): OwnerLease {
  return { key: row.key, ownerId: row.owner_id, epoch: int(row.epoch), expiresAt: int(row.expires_at), channel: row.channel };
}

export interface AttemptRow {
  run_id: string;
  seq: number;
  attempt: number;
  name: string;
  error_code: string;
  error_message: string;
  failed_at: Int8;
  retry_at: Int8 | null;
}

export function toAttempt(row: AttemptRow): StepAttempt {
  return {
    runId: row.run_id,
    seq: row.seq,
    name: row.name,
    attempt: row.attempt,
    error: { code: row.error_code, message: row.error_message },
    failedAt: int(row.failed_at),
    retryAt: intOrNull(row.retry_at),
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
  next_attempt_at: Int8 | null;
  claimed_at: Int8;
  delivered_at: Int8 | null;
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
    nextAttemptAt: intOrNull(row.next_attempt_at),
    claimedAt: int(row.claimed_at),
    deliveredAt: intOrNull(row.delivered_at),
  };
}

/** An effect's columns, in the order of `EFFECT_COLUMNS`. */
export function effectParams(e: EffectRecord): unknown[] {
  return [
    e.key,
    e.name,
    e.runId,
    e.status,
    JSON.stringify(e.origins),
    e.attempts,
    e.artifact === undefined ? null : JSON.stringify(e.artifact),
    e.error?.code ?? null,
    e.error?.message ?? null,
    e.nextAttemptAt,
    e.claimedAt,
    e.deliveredAt,
  ];
}

export const EFFECT_COLUMNS =
  'key, name, run_id, status, origins, attempts, artifact, error_code, error_message, next_attempt_at, claimed_at, delivered_at';

export interface ScheduleRow {
  id: string;
  key: string;
  flow: string;
  input: string;
  priority: Priority;
  timing: string;
  catch_up: boolean;
  next_fire_at: Int8 | null;
  last_fire_at: Int8 | null;
  created_at: Int8;
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    key: row.key,
    flow: row.flow,
    input: JSON.parse(row.input) as Json,
    priority: row.priority,
    timing: JSON.parse(row.timing) as ScheduleTiming,
    catchUp: row.catch_up,
    nextFireAt: intOrNull(row.next_fire_at),
    lastFireAt: intOrNull(row.last_fire_at),
    createdAt: int(row.created_at),
  };
}
