import type { Json } from '../model/index.js';
import { InvalidInputError } from '../errors.js';
import { checkRetryPolicy, type RetryPolicy } from '../core/retry-policy.js';
import { shownValue } from '../core/shown-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import type { FlowContext, RetryOptions } from './flow-context.js';

export type {
  ChildRun,
  EffectCall,
  EffectOptions,
  FlowContext,
  LaneHandle,
  LaneOptions,
  LaneSpec,
  RetryOptions,
  SpawnOptions,
  StepOptions,
  TurnOptions,
} from './flow-context.js';

/** Options of a flow, given to `defineFlow`. */
export interface FlowOptions {
  /** Every run of the flow fails with code `deadline` this long after it was submitted (D8). */
  readonly deadlineMs?: number;
  /** The retry policy of its steps that give none (D6). */
  readonly retry?: RetryOptions;
}

/**
 * A registered unit of work. Build with `defineFlow`. Input and output types are the caller's
 * (interfaces welcome); the kernel checks at run time that they are plain JSON.
 */
export interface Flow<I = Json, O = unknown> {
  readonly name: string;
  readonly run: (ctx: FlowContext, input: I) => Promise<O>;
  readonly deadlineMs: number | undefined;
  readonly retry: RetryPolicy | undefined;
}

/**
 * Declares a flow. The function must reach durability only through `ctx`, and must be
 * deterministic in the order and names of its durable calls given its input and their results.
 */
export function defineFlow<I = Json, O = unknown>(
  name: string,
  run: (ctx: FlowContext, input: I) => Promise<O>,
  options: FlowOptions = {},
): Flow<I, O> {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidInputError('defineFlow needs a non-empty name (it is how submits refer to the flow)', 'invalid_flow_name');
  }
  checkWellFormed(name, `defineFlow name ${JSON.stringify(name)}`, 'invalid_flow_name');
  if (typeof run !== 'function')
    throw new InvalidInputError(`defineFlow("${name}") needs a function as its second argument`, 'invalid_flow');
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError(`defineFlow("${name}") options must be an object`, 'invalid_flow');
  return {
    name,
    run,
    deadlineMs: checkDuration(options.deadlineMs, `defineFlow("${name}") deadlineMs`, 'invalid_deadline'),
    retry: checkRetryPolicy(options.retry, `defineFlow("${name}")`),
  };
}

/** Checks a step or turn option `timeoutMs`: absent, or a positive finite number. */
export function checkTimeout(value: unknown, where: string): number | undefined {
  return checkDuration(value, `${where}: timeoutMs`, 'invalid_timeout');
}

/** Absent, or a positive finite number of milliseconds; the error names `what`. */
export function checkDuration(value: unknown, what: string, code: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${what} must be a positive number of milliseconds, got ${shownValue(value)}`, code);
  }
  return value;
}
