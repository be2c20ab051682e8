import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../../src/ports/store.js';
import { postgresStore, type PostgresStoreOptions } from '../../src/postgres.js';

/*
 * Real Postgres for tests. The server is the one at HOLDFAST_TEST_PG_URL (default: the local test
 * database, trust auth). A test file asks `postgresForTests()` once (top-level await); when the
 * server does not answer, `available` is false and the file skips its Postgres tests
 * (`describe.skipIf(!pg.available)`), `postgresForTests` having printed how to enable them.
 * Every store a file makes lives in a schema of its own with a random suffix, so files and workers
 * running together never share state; `dropSchemas()` (in an afterAll) removes them.
 */

export const PG_TEST_URL = process.env.HOLDFAST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresForTests {
  /** Whether the server answered; when false, nothing below may be called but `dropSchemas` (a no-op). */
  readonly available: boolean;
  readonly url: string;
  /** A fresh, unique schema name (`hf_<label>_<random>`), dropped by `dropSchemas`. */
  schema(label?: string): string;
  /** A factory of stores, each in a fresh schema; `clock: 'caller'` unless given (the suites run on virtual time). */
  stores(options?: Partial<PostgresStoreOptions>): () => Store;
  /** Runs one statement on a connection of its own (for checks and fault injection). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops every schema `schema()` named. */
  dropSchemas(): Promise<void>;
}

let probed: Promise<boolean> | undefined;

/** Whether the test server answers (asked once per worker), with a message naming how to enable the tests when not. */
export async function postgresForTests(label = 'tests'): Promise<PostgresForTests> {
  probed ??= probe();
  const available = await probed;
  if (!available) {
    console.warn(
      `[holdfast] Postgres tests (${label}) skipped: no Postgres answered at ${PG_TEST_URL}. ` +
        'Start one, or point HOLDFAST_TEST_PG_URL at a database the tests may create schemas in ' +
        '(e.g. HOLDFAST_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test).',
    );
  }
  const named: string[] = [];
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> => {
    const client = new pg.Client({ connectionString: PG_TEST_URL });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const schema = (name = label) => {
    const unique = `hf_${name.replace(/[^a-z0-9_]/g, '_').slice(0, 30)}_${randomBytes(5).toString('hex')}`;
    named.push(unique);
    return unique;
  };
  return {
    available,
    url: PG_TEST_URL,
    schema,
    stores: (options = {}) => {
      return () => postgresStore({ connectionString: PG_TEST_URL, schema: schema(), clock: 'caller', max: 4, ...options });
    },
    query,
    async dropSchemas() {
      const names = named.splice(0);
      if (!available) return;
      for (let i = 0; i < names.length; i += 20) {
        const batch = names.slice(i, i + 20).map((n) => `"${n}"`);
        await query(`DROP SCHEMA IF EXISTS ${batch.join(', ')} CASCADE`);
      }
    },
  };
}

async function probe(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
