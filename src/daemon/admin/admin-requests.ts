import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { EFFECT_STATUSES, PREEMPT_KINDS, PRIORITIES, RUN_STATUSES, type EffectStatus, type RunStatus } from '../../model/index.js';
import type { SubmitOptions } from '../../runtime/submit-command.js';

/** What `POST /v1/commands` takes, for error messages. */
export const COMMAND_SHAPE =
  '{"key": string, "flow": string, "input"?: JSON, "priority"?: "urgent"|"normal"|"background", ' +
  '"preempt"?: "steal"|"abort-keep"|"abort-drop", "idempotencyKey"?: string, "deadlineMs"?: positive integer}';

const nonEmpty = (what: string) =>
  z.string({ error: `expected a string (${what})` }).refine((s) => s.trim() !== '', { error: `expected a non-empty string (${what})` });

const commandSchema = z.strictObject({
  key: nonEmpty('the unit of ownership, e.g. "repo:acme/web"'),
  flow: nonEmpty('a flow registered with the serving kernel'),
  input: z.unknown().optional(),
  priority: z.enum(PRIORITIES, { error: `expected one of ${PRIORITIES.join(', ')}` }).optional(),
  preempt: z.enum(PREEMPT_KINDS, { error: `expected one of ${PREEMPT_KINDS.join(', ')}` }).optional(),
  idempotencyKey: nonEmpty('a stable id of the request, e.g. a delivery id').optional(),
  deadlineMs: z
    .number({ error: 'expected a positive integer number of milliseconds' })
    .int({ error: 'expected a positive integer number of milliseconds' })
    .positive({ error: 'expected a positive integer number of milliseconds' })
    .optional(),
});

const cancelSchema = z.strictObject({
  mode: z.enum(['abort-drop', 'abort-keep'], { error: 'expected abort-drop or abort-keep' }).optional(),
});

const compactSchema = z.strictObject({
  olderThanMs: z
    .number({ error: 'expected a number of milliseconds >= 0 (runs that ended longer ago than this are compacted)' })
    .nonnegative({ error: 'expected a number of milliseconds >= 0' }),
});

/**
 * A zod failure as one sentence naming each field and what it expected, plus the whole expected
 * shape: `field "priority": expected one of urgent, normal, background; a command is {...}`.
 */
function problem(error: z.ZodError, shape: string): InvalidInputError {
  const parts = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    if (issue.path.length === 0) return `the body: ${issue.message}`;
    return `field "${issue.path.join('.')}": ${issue.message}`;
  });
  return new InvalidInputError(`${parts.join('; ')}; expected ${shape}`, 'invalid_request');
}

/** The body of `POST /v1/commands` as a submit; throws `invalid_request` naming the field. */
export function parseCommand(body: unknown): SubmitOptions {
  const parsed = commandSchema.safeParse(body);
  if (!parsed.success) throw problem(parsed.error, COMMAND_SHAPE);
  const { input, ...rest } = parsed.data;
  return { ...rest, input: input === undefined ? null : (input as SubmitOptions['input']) };
}

/** The body of `POST /v1/runs/:id/cancel` (`{}` for the default mode, abort-drop). */
export function parseCancel(body: unknown): { mode: 'abort-drop' | 'abort-keep' } {
  const parsed = cancelSchema.safeParse(body ?? {});
  if (!parsed.success) throw problem(parsed.error, '{"mode"?: "abort-drop"|"abort-keep"}');
  return { mode: parsed.data.mode ?? 'abort-drop' };
}

/** The body of `POST /v1/journal/compact`. */
export function parseCompact(body: unknown): { olderThanMs: number } {
  const parsed = compactSchema.safeParse(body);
  if (!parsed.success) throw problem(parsed.error, '{"olderThanMs": number >= 0}');
  return parsed.data;
}

/** A query parameter that must be an integer within bounds; `fallback` when absent. */
export function integerParam(name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidInputError(`query parameter "${name}" must be an integer from ${min} to ${max}, got "${text}"`, 'invalid_request');
  }
  return n;
}

/** `status=queued,failed` as run statuses (empty: every status). */
export function runStatusesParam(text: string | undefined): RunStatus[] {
  const names = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((s) => !(RUN_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) {
    throw new InvalidInputError(
      `query parameter "status" has "${bad}"; expected a comma-separated list of ${RUN_STATUSES.join(', ')}`,
      'invalid_request',
    );
  }
  return names as RunStatus[];
}

/** `status=owed|all|claimed,failed,...` as effect statuses (default owed; `all`: every status). */
export function effectStatusesParam(text: string | undefined): EffectStatus[] {
  if (text === undefined || text === '' || text === 'owed') return ['claimed', 'failed'];
  if (text === 'all') return [];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((s) => !(EFFECT_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) {
    throw new InvalidInputError(
      `query parameter "status" has "${bad}"; expected owed, all, or a comma-separated list of ${EFFECT_STATUSES.join(', ')}`,
      'invalid_request',
    );
  }
  return names as EffectStatus[];
}
