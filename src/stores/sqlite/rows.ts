import type {
  CancelMode,
  Json,
  OwnerLease,
  ParkedFrame,
  PreemptKind,
  Priority,
  RunRecord,
  RunStatus,
  StepRecord,
} from '../../model/index.js';

/** Row shapes of the SQLite schema and their mapping to records. */

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
  parked: number;
  cancel_mode: CancelMode | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

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
    parked: row.parked === 1,
    cancelRequested: row.cancel_mode,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
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

export interface FrameRow {
  run_id: string;
  key: string;
  epoch: number;
  turn_seq: number;
  attempt: number;
  provider: string | null;
  input: string | null;
  session_id: string | null;
  parked_by: string | null;
  parked_at: number;
}

export function toFrame(row: FrameRow): ParkedFrame {
  return {
    runId: row.run_id,
    key: row.key,
    epoch: row.epoch,
    turnSeq: row.turn_seq,
    attempt: row.attempt,
    provider: row.provider,
    input: row.input === null ? null : (JSON.parse(row.input) as Json),
    sessionId: row.session_id,
    parkedBy: row.parked_by,
    parkedAt: row.parked_at,
  };
}

export function fromFrame(frame: ParkedFrame): FrameRow {
  return {
    run_id: frame.runId,
    key: frame.key,
    epoch: frame.epoch,
    turn_seq: frame.turnSeq,
    attempt: frame.attempt,
    provider: frame.provider,
    input: frame.input === null ? null : JSON.stringify(frame.input),
    session_id: frame.sessionId,
    parked_by: frame.parkedBy,
    parked_at: frame.parkedAt,
  };
}
