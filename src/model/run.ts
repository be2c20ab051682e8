import type { Json } from './json.js';
import type { RunWait } from './wait.js';

import type { Epoch, Key, Millis, RunId } from './ids.js';

export type { Epoch, Key, Millis, RunId } from './ids.js';

export const PRIORITIES = ['urgent', 'normal', 'background'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * `waiting`: the run is suspended (a timer, a retry backoff, a child, an effect's backoff, or parked
 * by `steal`) and does not hold its key; see `RunWait`.
 */
export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type TerminalStatus = Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>;

export const PREEMPT_KINDS = ['steal', 'abort-keep', 'abort-drop'] as const;
export type PreemptKind = (typeof PREEMPT_KINDS)[number];

/** How `kernel.cancel` stops a run: requeue it (keep) or end it `cancelled` (drop). */
export type CancelMode = Extract<PreemptKind, 'abort-keep' | 'abort-drop'>;

/**
 * Where a run parked by `steal` stopped: the journal position of the interrupted provider turn
 * and what is needed to re-issue it with the same provider session (K6).
 */
export interface ParkedFrame {
  readonly runId: RunId;
  readonly key: Key;
  readonly epoch: Epoch;
  /** Journal position to resume at: the interrupted turn's seq (or the next step's). */
  readonly turnSeq: number;
  /** The attempt of the run when it was interrupted. */
  readonly attempt: number;
  /** The interrupted turn, or null when the run was parked between turns. */
  readonly provider: string | null;
  readonly input: Json | null;
  readonly sessionId: string | null;
  /** The urgent run that caused the park. */
  readonly parkedBy: RunId | null;
  readonly parkedAt: Millis;
}

/** A failure recorded on a run: a stable code plus a human sentence. */
export interface RunError {
  readonly code: string;
  readonly message: string;
}

/**
 * A submitted command and the run that executes it. One row serves as both the inbox entry and the
 * run: a command is a run in status `queued`.
 */
export interface RunRecord {
  readonly id: RunId;
  readonly key: Key;
  readonly flow: string;
  readonly input: Json;
  readonly idempotencyKey: string;
  readonly priority: Priority;
  /** Preemption requested by this command when it arrived (only meaningful for `urgent`). */
  readonly preempt: PreemptKind | null;
  /** Global arrival order: FIFO within a priority. */
  readonly seq: number;
  readonly status: RunStatus;
  /** How many times an owner has claimed this run (1 on the first start, +1 per recovery). */
  readonly attempts: number;
  readonly result: Json | undefined;
  readonly error: RunError | undefined;
  /** Epoch of the owner that last claimed the run. */
  readonly epoch: Epoch | null;
  /** Parked by `steal`: its wait is a `preempted` one, with a frame; it resumes after the urgent burst. */
  readonly parked: boolean;
  /** Why and until when the run waits, while its status is `waiting` (else null). */
  readonly wait: RunWait | null;
  /** The run that spawned this one (`ctx.spawn`), or null. */
  readonly parentId: RunId | null;
  /** When the run ends `failed` with code `deadline` if it has not ended before, or null. */
  readonly deadlineAt: Millis | null;
  /** Its step journal was pruned by retention (D5); the summary (status, result, error) remains. */
  readonly compacted: boolean;
  /** An operator asked to cancel it (`kernel.cancel`); applied by the owning runtime. */
  readonly cancelRequested: CancelMode | null;
  /**
   * The W3C `traceparent` it was submitted with (or its parent run's span, for a child), which its
   * spans continue in every execution; null when it was submitted outside a trace.
   */
  readonly traceparent: string | null;
  readonly createdAt: Millis;
  readonly startedAt: Millis | null;
  readonly finishedAt: Millis | null;
}

/** A committed step in a run's journal. */
export interface StepRecord {
  readonly runId: RunId;
  /** Position in the run, from 0. A re-run must reach the same names at the same positions. */
  readonly seq: number;
  readonly name: string;
  readonly result: Json;
  readonly epoch: Epoch;
  readonly committedAt: Millis;
}

/** The owner lease of a key (K1). */
export interface OwnerLease {
  readonly key: Key;
  readonly ownerId: string | null;
  readonly epoch: Epoch;
  readonly expiresAt: Millis;
  /** Out-of-band wake channel of the owning process (a unix socket path, or `pg-notify:<channel>` on Postgres), if it publishes one. */
  readonly channel: string | null;
}

export const OPERATOR_ACTIONS = ['cancel', 'retry'] as const;
/** What an operator did to a run from outside its flow. */
export type OperatorActionKind = (typeof OPERATOR_ACTIONS)[number];

/** One operator action on a run, kept with the run for inspection (`holdfast run <id>`). */
export interface OperatorAction {
  readonly runId: RunId;
  readonly action: OperatorActionKind;
  /** For `cancel`, the mode; for `retry`, the status the run was re-opened from. */
  readonly detail: string;
  readonly at: Millis;
}

/**
 * A fencing token (K10): the key and the epoch its current owner holds. Epochs only grow, so an
 * external system that remembers the highest epoch it has seen for a key and refuses anything
 * lower can reject a write from an owner that was replaced while it was paused or hung.
 */
export interface FencingToken {
  readonly key: Key;
  readonly epoch: Epoch;
}

/** A failed attempt of a step that is retried (D6): journaled so a re-run knows where it is. */
export interface StepAttempt {
  readonly runId: RunId;
  readonly seq: number;
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly error: RunError;
  readonly failedAt: Millis;
  /** When the next attempt is due (the end of the retry wait), or null if none follows. */
  readonly retryAt: Millis | null;
}
