import type { RunRecord } from '../../model/index.js';
import type { NewCommand } from '../../ports/store.js';

/** The record of a command just enqueued (a submit, a spawn, a schedule's tick). */
export function newRun(command: NewCommand, seq: number): RunRecord {
  return {
    id: command.id,
    key: command.key,
    flow: command.flow,
    input: structuredClone(command.input),
    idempotencyKey: command.idempotencyKey,
    priority: command.priority,
    preempt: command.preempt,
    seq,
    status: 'queued',
    attempts: 0,
    result: undefined,
    error: undefined,
    epoch: null,
    parked: false,
    wait: null,
    parentId: command.parentId ?? null,
    deadlineAt: command.deadlineAt ?? null,
    compacted: false,
    cancelRequested: null,
    traceparent: command.traceparent ?? null,
    createdAt: command.now,
    startedAt: null,
    finishedAt: null,
  };
}
