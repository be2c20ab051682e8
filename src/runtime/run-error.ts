import { HoldfastError } from '../errors.js';
import type { RunError } from '../model/index.js';

/** The error recorded on a run (or reported in an event) for something a flow threw. */
export function toRunError(error: unknown, fallbackCode: string): RunError {
  if (error instanceof HoldfastError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: fallbackCode, message: `${error.name}: ${error.message}` };
  return { code: fallbackCode, message: String(error) };
}
