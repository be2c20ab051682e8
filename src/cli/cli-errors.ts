import { HoldfastError, InvalidInputError } from '../errors.js';
import { EXIT, type CliIo } from './cli-io.js';

/** A usage error: the message names the argument, and the verb's usage is shown with it (exit 2). */
export class UsageError extends InvalidInputError {
  constructor(message: string) {
    super(message, 'usage');
  }
}

/** Codes that mean "nothing matched" or "refused": exit 3. */
const REFUSED = new Set(['run_not_found', 'run_id_ambiguous', 'run_not_retryable', 'idempotency_conflict', 'not_found']);

/**
 * The exit code of a failed verb: 2 for input the command line got wrong (a usage error, input
 * the kernel or the admin API rejected, an unknown flow), 3 when nothing matched or the request
 * was refused, 1 for every other failure (the database or the admin API could not be used).
 */
export function exitCodeOf(error: unknown): number {
  if (!(error instanceof HoldfastError)) return EXIT.failure;
  if (REFUSED.has(error.code)) return EXIT.refused;
  if (error.code === 'unauthorized' || error.code === 'daemon_unreachable') return EXIT.failure;
  if (error instanceof InvalidInputError || error.code === 'unknown_flow' || error.code.startsWith('invalid_')) return EXIT.usage;
  return EXIT.failure;
}

/**
 * Reports a failed verb on stderr and returns its exit code: `holdfast VERB: message [code]`, or
 * with `--json` one JSON line `{"error":{"code","message"}}`. Never a stack trace.
 */
export function reportFailure(io: CliIo, verb: string, error: unknown, json: boolean): number {
  const errno = (error as { code?: unknown } | null)?.code;
  const code = error instanceof HoldfastError ? error.code : typeof errno === 'string' ? errno : 'internal';
  const message = error instanceof Error ? error.message : `unexpected failure: ${String(error)}`;
  io.stderr(json ? `${JSON.stringify({ error: { code, message } })}\n` : `holdfast ${verb}: ${message} [${code}]\n`);
  return exitCodeOf(error);
}
