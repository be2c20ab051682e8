import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { StoreFormatError } from '../../errors.js';

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The numbered migrations shipped with this version, read from `migrations/NNNN_name.sql` beside
 * this module (or beside its source when running from the compiled build, which does not copy
 * them).
 */
export function loadPgMigrations(): PgMigration[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'migrations'), join(here, '..', '..', '..', '..', 'src', 'stores', 'postgres', 'migrations')];
  const dir = candidates.find((c) => existsSync(c));
  if (dir === undefined) throw new Error(`holdfast: Postgres migrations not found (looked in ${candidates.join(', ')})`);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(join(dir, f), 'utf8') }));
}

/** The table, in the store's schema, that records which migrations were applied. */
const MIGRATIONS_TABLE = 'holdfast_migrations';

/**
 * Brings `schema` up to the shipped migrations, in one transaction on `client`, under a
 * transaction-scoped advisory lock named after the schema: processes that start together wait for
 * each other here, and each finds what the one before it applied. Creates the schema if missing.
 *
 * Process dies before the COMMIT: nothing of the migration is applied (DDL is transactional in
 * Postgres), and the next start applies it. After: every pending migration is applied and
 * recorded in `holdfast_migrations`.
 *
 * Refuses, writing nothing, a schema that already holds tables but no migrations table (it
 * belongs to something else) and a schema migrated by a newer holdfast.
 */
export async function migrateSchema(client: pg.ClientBase, schema: string, where: string): Promise<void> {
  const migrations = loadPgMigrations();
  const quoted = quoteIdentifier(schema);
  // Up to date already (every start but the first): nothing to lock or write, so a read-only
  // server (a standby after a failover) still serves reads.
  if (await upToDate(client, schema, migrations)) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`holdfast:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    const applied = await appliedVersions(client, schema, where);
    const latest = migrations.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...applied);
    if (newest > latest) {
      throw new StoreFormatError(
        'schema_too_new',
        `${where} has holdfast schema version ${newest}, newer than this holdfast knows (${latest}); upgrade holdfast to use it`,
      );
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Whether every shipped migration is recorded in the schema, and nothing newer; read only. */
async function upToDate(client: pg.ClientBase, schema: string, migrations: readonly PgMigration[]): Promise<boolean> {
  const table = `${quoteIdentifier(schema)}.${MIGRATIONS_TABLE}`;
  const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]);
  if (exists.rows[0]?.found == null) return false;
  const rows = await client.query<{ version: number }>(`SELECT version FROM ${table}`);
  const applied = new Set(rows.rows.map((r) => Number(r.version)));
  return applied.size === migrations.length && migrations.every((m) => applied.has(m.version));
}

/** The versions applied to the schema, creating the record table in a schema that has no tables yet. */
async function appliedVersions(client: pg.ClientBase, schema: string, where: string): Promise<Set<number>> {
  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')`,
    [schema],
  );
  const names = tables.rows.map((r) => r.name);
  if (!names.includes(MIGRATIONS_TABLE)) {
    if (names.length > 0) {
      throw new StoreFormatError(
        'not_holdfast_database',
        `${where}: schema "${schema}" holds ${names.length} table(s) that do not belong to holdfast (${names.slice(0, 5).join(', ')}); holdfast will not write to it. Pass another schema`,
      );
    }
    await client.query(
      `CREATE TABLE ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    return new Set();
  }
  const rows = await client.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE}`);
  return new Set(rows.rows.map((r) => Number(r.version)));
}

/** `name` as a quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
