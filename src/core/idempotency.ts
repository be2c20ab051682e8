import type { Json, RunRecord } from '../model/index.js';
import { sameJson } from './json-value.js';

/**
 * K3: an idempotence key always names one command. When a submit finds the key taken, this says
 * which part of the new command differs from the run the key names (checked in the order key,
 * flow, input), or undefined when it is the same command submitted again. Priority and preempt
 * may differ: a redelivery that arrives with another priority is still the same command.
 */
export function idempotencyConflict(
  existing: Pick<RunRecord, 'key' | 'flow' | 'input'>,
  command: { readonly key: string; readonly flow: string; readonly input: Json },
): 'key' | 'flow' | 'input' | undefined {
  if (existing.key !== command.key) return 'key';
  if (existing.flow !== command.flow) return 'flow';
  if (!sameJson(existing.input, command.input)) return 'input';
  return undefined;
}
