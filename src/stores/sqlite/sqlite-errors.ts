import { StoreUnavailableError, type StoreUnavailableReason } from '../../errors.js';

/**
 * Which SQLite result codes mean "the store cannot be used just now" (K11) rather than a real
 * failure. Extended codes (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_IOERR_WRITE`, ...) are matched by their
 * primary code. `SQLITE_CORRUPT`, constraint violations, misuse and the like are real failures.
 */
const UNAVAILABLE: Readonly<Record<string, StoreUnavailableReason>> = {
  SQLITE_BUSY: 'locked',
  SQLITE_LOCKED: 'locked',
  SQLITE_PROTOCOL: 'locked',
  SQLITE_FULL: 'full',
  SQLITE_READONLY: 'read_only',
  SQLITE_IOERR: 'io',
  SQLITE_CANTOPEN: 'io',
  SQLITE_NOMEM: 'io',
};

/** The reason a driver error makes the store unavailable, or undefined for a real failure. */
export function unavailableReason(error: unknown): StoreUnavailableReason | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const primary = code.split('_').slice(0, 2).join('_');
  return UNAVAILABLE[primary];
}

/** `error` as a StoreUnavailableError when it is one of the transient codes, else unchanged. */
export function classifySqliteError(error: unknown, where: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = unavailableReason(error);
  if (reason === undefined) return error;
  return new StoreUnavailableError(reason, where, (error as Error).message, error);
}

/** Runs a synchronous read, turning transient driver errors into StoreUnavailableError. */
export function classified<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw classifySqliteError(error, where);
  }
}
