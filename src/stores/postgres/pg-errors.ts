import { StoreUnavailableError, type StoreUnavailableReason } from '../../errors.js';

/**
 * Which errors of the `pg` driver and the server mean "the store cannot be used just now" (K11)
 * rather than a real failure, by SQLSTATE class or code, or by the Node socket error of a lost
 * connection. Constraint violations, syntax errors, undefined objects and the like are real
 * failures and pass unchanged.
 */
const BY_CODE: Readonly<Record<string, StoreUnavailableReason>> = {
  '40001': 'locked', // serialization_failure (retried internally first, see isRetryableConflict)
  '40P01': 'locked', // deadlock_detected (retried internally first)
  '55P03': 'locked', // lock_not_available (lock_timeout)
  '57014': 'locked', // query_canceled: statement_timeout, or a cancel request
  '57P01': 'disconnected', // admin_shutdown: the server is shutting down or the backend was terminated
  '57P02': 'disconnected', // crash_shutdown
  '57P03': 'disconnected', // cannot_connect_now: the server is starting up or in recovery
  '57P04': 'disconnected', // database_dropped
  '53000': 'io', // insufficient_resources
  '53100': 'full', // disk_full
  '53200': 'io', // out_of_memory
  '53300': 'disconnected', // too_many_connections
  '53400': 'io', // configuration_limit_exceeded
  '25006': 'read_only', // read_only_sql_transaction: a standby after a failover, or default_transaction_read_only
  '58000': 'io', // system_error
  '58030': 'io', // io_error
};

/** Socket errors of a connection that could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Messages of the driver (not the server) for a connection that is gone or never came. */
const DRIVER_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /server closed the connection/i,
];

/** The reason `error` makes the store unavailable, or undefined for a real failure. */
export function unavailableReason(error: unknown): StoreUnavailableReason | undefined {
  if (error instanceof StoreUnavailableError) return error.reason;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const known = BY_CODE[code];
    if (known !== undefined) return known;
    if (code.startsWith('08')) return 'disconnected'; // connection_exception class
    if (SOCKET_CODES.has(code)) return 'disconnected';
  }
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => m.test(message))) return 'disconnected';
  return undefined;
}

/** A conflict between concurrent transactions that the same transaction may simply run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** The connection is gone: the client must be discarded, not returned to the pool. */
export function isConnectionLost(error: unknown): boolean {
  return unavailableReason(error) === 'disconnected';
}

/** `error` as a StoreUnavailableError when it is transient, else unchanged. */
export function classifyPgError(error: unknown, where: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = unavailableReason(error);
  if (reason === undefined) return error;
  const code = (error as { code?: unknown }).code;
  const detail = `${typeof code === 'string' ? `${code} ` : ''}${(error as Error).message}`;
  return new StoreUnavailableError(reason, where, detail, error);
}

/**
 * The connection was lost while COMMIT was in flight and the server could not be asked afterwards
 * whether it committed: the transaction may have committed or not. Retryable like any
 * StoreUnavailableError, but "nothing was written" is not known here; see the idempotence notes of
 * postgres-store.ts for which calls are safe to repeat.
 */
export class CommitOutcomeUnknownError extends StoreUnavailableError {
  readonly commitOutcomeUnknown = true;
  constructor(where: string, cause: unknown) {
    super('disconnected', where, 'the connection was lost while COMMIT was in flight', cause);
    this.message = `${where} is unavailable (disconnected: the connection was lost while COMMIT was in flight, and the server could not be asked afterwards whether it committed); the call may or may not have been applied, repeat it only if it is idempotent`;
  }
}
