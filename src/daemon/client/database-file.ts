import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import {
  DatabaseCorruptError,
  DatabaseIsDirectoryError,
  DatabaseMissingError,
  DatabaseUnreadableError,
  StoreFormatError,
} from '../../errors.js';
import { HOLDFAST_APPLICATION_ID, openReadOnlyConnection } from '../../stores/sqlite/open-database.js';

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const OPEN_TIMEOUT_MS = 5_000;

/**
 * Checks that `path` names an existing file that starts like a SQLite database, without creating
 * or writing anything. Throws what an operator needs to hear: `database_missing` (naming a missing
 * directory when that is why), `database_is_directory`, `database_unreadable`, `corrupt_database`
 * (not a SQLite header), `not_holdfast_database` (an empty file).
 */
export function checkDatabaseFile(path: string): void {
  const stats = statOrExplain(path);
  if (stats.isDirectory()) throw new DatabaseIsDirectoryError(path);
  if (!stats.isFile()) throw new DatabaseCorruptError(path, 'it is not a regular file');
  if (stats.size === 0) {
    throw new StoreFormatError(
      'not_holdfast_database',
      `${path} is empty: no holdfast database was ever written there; pass --db with the path of an existing holdfast database`,
    );
  }
  const header = Buffer.alloc(SQLITE_HEADER.length);
  let read = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new DatabaseUnreadableError(path, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  if (read < header.length || !header.equals(SQLITE_HEADER)) {
    throw new DatabaseCorruptError(path, 'its first bytes are not a SQLite header (it is not a database, or it was overwritten)');
  }
}

function statOrExplain(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const directory = dirname(path);
      const parent = statSync(directory, { throwIfNoEntry: false });
      if (parent === undefined) throw new DatabaseMissingError(path, `the directory ${directory} does not exist`);
      if (!parent.isDirectory()) throw new DatabaseMissingError(path, `${directory} is a file, not a directory`);
      throw new DatabaseMissingError(path);
    }
    throw new DatabaseUnreadableError(path, code ?? String(error));
  }
}

/** SQLite result codes that mean the file's bytes are damaged or are not a database. */
export function isCorruptionError(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || code === 'corrupt_database')) {
      return true;
    }
  }
  return false;
}

/** What `holdfast doctor` found in a database file. */
export interface DatabaseCheck {
  readonly path: string;
  /** Both checks answered `ok`. */
  readonly ok: boolean;
  /** `PRAGMA quick_check`: `['ok']`, or the problems found. */
  readonly quickCheck: string[];
  /** `PRAGMA integrity_check`: `['ok']`, or the problems found. */
  readonly integrityCheck: string[];
  /** It carries holdfast's application id. */
  readonly holdfast: boolean;
  /** Its holdfast schema version (`PRAGMA user_version`), when it could be read. */
  readonly schemaVersion: number | null;
  /** Why the file could not be checked at all (a corrupt header, pages SQLite cannot read). */
  readonly problem: string | null;
}

/**
 * Runs SQLite's `quick_check` and `integrity_check` on a database file, read-only (nothing is
 * created, repaired or written). A file that cannot even be opened as SQLite is reported, not
 * thrown; a missing path or a directory throws as `checkDatabaseFile` does.
 */
export function checkDatabaseIntegrity(path: string): DatabaseCheck {
  const failed = (problem: string): DatabaseCheck => ({
    path,
    ok: false,
    quickCheck: [],
    integrityCheck: [],
    holdfast: false,
    schemaVersion: null,
    problem,
  });
  try {
    checkDatabaseFile(path);
  } catch (error) {
    if (error instanceof DatabaseCorruptError) return failed(error.message);
    throw error;
  }
  let db;
  try {
    db = openReadOnlyConnection(path, OPEN_TIMEOUT_MS);
  } catch (error) {
    if (isCorruptionError(error)) return failed(corruptProblem(path, error));
    throw error;
  }
  try {
    const lines = (pragma: string) => (db.pragma(pragma) as Record<string, unknown>[]).map((row) => String(Object.values(row)[0]));
    const quickCheck = lines('quick_check');
    const integrityCheck = lines('integrity_check');
    const ok = quickCheck.length === 1 && quickCheck[0] === 'ok' && integrityCheck.length === 1 && integrityCheck[0] === 'ok';
    return {
      path,
      ok,
      quickCheck,
      integrityCheck,
      holdfast: db.pragma('application_id', { simple: true }) === HOLDFAST_APPLICATION_ID,
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
      problem: ok ? null : `${path} is corrupt: SQLite's checks found problems; restore it from a backup or move it aside`,
    };
  } catch (error) {
    if (isCorruptionError(error)) return failed(corruptProblem(path, error));
    throw error;
  } finally {
    db.close();
  }
}

function corruptProblem(path: string, error: unknown): string {
  return new DatabaseCorruptError(path, `SQLite cannot read it (${String((error as { code?: unknown }).code)})`).message;
}
