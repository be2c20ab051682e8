import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SchemaTooOldError, StoreFormatError } from '../../errors.js';

/** `PRAGMA application_id` of every holdfast database: ASCII "HFst". */
export const HOLDFAST_APPLICATION_ID = 0x48467374;

export type SyncLevel = 'FULL' | 'NORMAL';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The numbered migrations shipped with this version, read from `migrations/NNNN_name.sql` beside
 * this module (or beside its source when running from the compiled build).
 */
export function loadMigrations(): Migration[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'migrations'), join(here, '..', '..', '..', '..', 'src', 'stores', 'sqlite', 'migrations')];
  const dir = candidates.find((c) => existsSync(c));
  if (dir === undefined) throw new Error(`holdfast: SQLite migrations not found (looked in ${candidates.join(', ')})`);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * How long one statement may block the event loop waiting for another process's lock. Longer
 * waits are taken asynchronously by the write batcher, from a timer.
 */
export const BUSY_WAIT_MS = 2;

/**
 * Opens (creating if needed) a holdfast SQLite database: WAL, the requested `synchronous` level,
 * and every pending migration applied in its own transaction. Opening waits up to
 * `openBusyTimeoutMs` for other processes (several may open and migrate one file at once); after
 * that the connection's busy timeout is `BUSY_WAIT_MS`, so no statement blocks the event loop for
 * long.
 *
 * Refuses, without writing anything, a file that is not SQLite, a SQLite database that belongs to
 * something else, and a holdfast database whose schema is newer than this version knows.
 */
export function openDatabase(path: string, sync: SyncLevel, openBusyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: openBusyTimeoutMs });
  try {
    const migrations = loadMigrations();
    checkIdentity(db, path, migrations);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync}`);
    db.pragma('foreign_keys = ON');
    applyMigrations(db, migrations);
    db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens an existing holdfast database for reading only: never creates, migrates or writes
 * anything of holdfast's. Refuses what `openDatabase` refuses, and a schema older than this
 * version (it cannot be migrated here).
 */
export function openDatabaseReadOnly(path: string, busyTimeoutMs: number): Database.Database {
  const db = openReadOnlyConnection(path, busyTimeoutMs);
  try {
    const migrations = loadMigrations();
    checkIdentity(db, path, migrations);
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = migrations.at(-1)?.version ?? 0;
    if (version < latest) throw new SchemaTooOldError(path, version, latest);
    db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * A read-only connection to an existing SQLite file, whatever it holds. SQLite may create the
 * `-shm`/`-wal` files it needs to read a WAL database where the directory allows. A database in a
 * read-only directory whose WAL files are absent (closed cleanly, so the file holds every commit)
 * cannot be opened in place by SQLite; it is read from a copy in memory.
 */
export function openReadOnlyConnection(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  try {
    db.pragma('user_version', { simple: true });
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    const noSharedMemory = code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN';
    if (!noSharedMemory || existsSync(`${path}-wal`)) throw error;
    return openSnapshot(path);
  }
}

/** A read-only in-memory copy of a database file (WAL mode marked off: memory has no WAL). */
function openSnapshot(path: string): Database.Database {
  const image = readFileSync(path);
  if (image.length > 19 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}

/** SQLite result codes that mean a database file's pages are damaged. */
function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CORRUPT');
}

function checkIdentity(db: Database.Database, path: string, migrations: readonly Migration[]): void {
  let appId: number;
  let tables: number;
  let version: number;
  try {
    appId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
  } catch (error) {
    if (isCorruption(error)) {
      const code = (error as { code: string }).code;
      throw new StoreFormatError(
        'corrupt_database',
        `${path} is corrupt: SQLite cannot read it (${code}); check it with holdfast doctor, then restore it from a backup or move it aside`,
      );
    }
    throw new StoreFormatError(
      'not_holdfast_database',
      `${path} is not a SQLite database (${(error as Error).message}); point holdfast at a new file or an existing holdfast database`,
    );
  }
  if (appId !== HOLDFAST_APPLICATION_ID && (appId !== 0 || tables > 0)) {
    throw new StoreFormatError(
      'not_holdfast_database',
      `${path} is a SQLite database that does not belong to holdfast (application_id ${appId}, ${tables} tables); holdfast will not write to it. Use another path`,
    );
  }
  const latest = migrations.at(-1)?.version ?? 0;
  if (version > latest) {
    throw new StoreFormatError(
      'schema_too_new',
      `${path} has holdfast schema version ${version}, newer than this holdfast knows (${latest}); upgrade holdfast to open it`,
    );
  }
}

function applyMigrations(db: Database.Database, migrations: readonly Migration[]): void {
  for (const migration of migrations) {
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`application_id = ${HOLDFAST_APPLICATION_ID}`);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
