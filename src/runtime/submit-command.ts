import { findNonJson } from '../core/json-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { checkDuration } from './flow.js';
import { InvalidInputError, UnknownFlowError } from '../errors.js';
import { PREEMPT_KINDS, PRIORITIES, type Json, type Key, type PreemptKind, type Priority } from '../model/index.js';
import { normalTraceParent } from '../core/trace-parent.js';
import { shownValue } from '../core/shown-value.js';
import { submitTraceParent } from './tracing.js';

/** What a caller submits: one command for one key. */
export interface SubmitOptions<I = Json> {
  /** The unit of ownership, e.g. `repo:acme/web`. Non-empty, at most 512 characters. */
  readonly key: Key;
  /** A flow registered with `createKernel({ flows })`. */
  readonly flow: string;
  /** Plain JSON; `undefined` is recorded as `null`. */
  readonly input?: I;
  /**
   * Deduplicates submits forever (K3): a webhook delivery id, or any stable id of the request.
   * Omitted: the command gets a fresh one and cannot be deduplicated.
   */
  readonly idempotencyKey?: string;
  /** `urgent` before `normal` (default) before `background`; FIFO within one. */
  readonly priority?: Priority;
  /** Only with `urgent`: how to treat a run in flight for the key (default `steal`). */
  readonly preempt?: PreemptKind;
  /**
   * The run fails with code `deadline` if it has not ended this long after the submit (D8),
   * through the same interrupt path as a cancel. Overrides the flow's `deadlineMs`.
   */
  readonly deadlineMs?: number;
  /**
   * A W3C Trace Context `traceparent` (`00-<trace id>-<span id>-<flags>`, e.g. from an incoming
   * request's header): the run's OpenTelemetry spans continue that trace, in every execution and
   * whichever process runs it, since it is stored with the run. Default, when an OpenTelemetry
   * SDK is registered: the active span's context at the submit, or else a `holdfast.submit` span
   * of its own; without an SDK, none. A malformed value is refused (`invalid_traceparent`). A
   * redelivery (same idempotence key) keeps the first command's.
   */
  readonly traceparent?: string;
}

export interface ValidCommand {
  readonly key: Key;
  readonly flow: string;
  readonly input: Json;
  readonly idempotencyKey: string | undefined;
  readonly priority: Priority;
  readonly preempt: PreemptKind | null;
  readonly deadlineMs: number | undefined;
  readonly traceparent: string | null;
}

/** Checks a submit before anything is written; throws InvalidInputError / UnknownFlowError. */
export function validateSubmit(options: SubmitOptions<unknown>, flows: ReadonlySet<string>): ValidCommand {
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('submit needs an object: { key, flow, input, idempotencyKey?, priority? }');
  const { key, flow, idempotencyKey } = options;
  if (typeof key !== 'string' || key.trim() === '') {
    throw new InvalidInputError('submit needs a non-empty string `key` (the unit of ownership, e.g. "repo:acme/web")', 'invalid_key');
  }
  if (key.length > 512) throw new InvalidInputError(`submit \`key\` is ${key.length} characters; keep it at most 512`, 'invalid_key');
  checkWellFormed(key, `submit \`key\` ${JSON.stringify(key)}`, 'invalid_key');
  if (typeof flow !== 'string' || !flows.has(flow)) throw new UnknownFlowError(String(flow), [...flows]);
  const input = options.input === undefined ? null : options.input;
  const bad = findNonJson(input, 'input');
  if (bad !== undefined) throw new InvalidInputError(`submit \`input\` must be plain JSON; it is not at ${bad}`, 'invalid_input');
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey === '')) {
    throw new InvalidInputError('submit `idempotencyKey`, when given, must be a non-empty string', 'invalid_idempotency_key');
  }
  if (idempotencyKey !== undefined) {
    checkWellFormed(idempotencyKey, `submit \`idempotencyKey\` ${JSON.stringify(idempotencyKey)}`, 'invalid_idempotency_key');
  }
  const priority = options.priority ?? 'normal';
  if (!PRIORITIES.includes(priority)) {
    throw new InvalidInputError(
      `submit \`priority\` must be one of ${PRIORITIES.join(', ')}; got ${JSON.stringify(priority)}`,
      'invalid_priority',
    );
  }
  let preempt: PreemptKind | null = null;
  if (options.preempt !== undefined) {
    if (!PREEMPT_KINDS.includes(options.preempt)) {
      throw new InvalidInputError(
        `submit \`preempt\` must be one of ${PREEMPT_KINDS.join(', ')}; got ${JSON.stringify(options.preempt)}`,
        'invalid_preempt',
      );
    }
    if (priority !== 'urgent') {
      throw new InvalidInputError(
        `submit \`preempt\` only applies to urgent commands (got priority "${priority}"); set priority: 'urgent' or drop preempt`,
        'invalid_preempt',
      );
    }
    preempt = options.preempt;
  } else if (priority === 'urgent') {
    preempt = 'steal';
  }
  const deadlineMs = checkDuration(options.deadlineMs, 'submit `deadlineMs`', 'invalid_deadline');
  const traceparent = submitTraceParent(checkTraceParent(options.traceparent), { key, flow });
  return { key, flow, input: input as Json, idempotencyKey, priority, preempt, deadlineMs, traceparent };
}

/** A given `traceparent` in its normal form, or undefined when none was given. */
function checkTraceParent(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const normal = normalTraceParent(value);
  if (normal === undefined) {
    throw new InvalidInputError(
      `submit \`traceparent\` must be a W3C traceparent like "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : shownValue(value)}`,
      'invalid_traceparent',
    );
  }
  return normal;
}
