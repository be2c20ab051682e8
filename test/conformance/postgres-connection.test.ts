import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StaleEpochError, StoreUnavailableError } from '../../src/errors.js';
import { postgresStore } from '../../src/postgres.js';
import { classifyPgError } from '../../src/stores/postgres/pg-errors.js';
import { loadPgMigrations } from '../../src/stores/postgres/pg-migrations.js';
import type { Store } from '../../src/ports/store.js';
import { postgresForTests } from '../support/postgres.js';
import { command } from './store-fixtures.js';

/*
 * What the Postgres store adds to the port: migrations that several processes may run at once,
 * refusal of a schema that is not holdfast's, errors classified as StoreUnavailableError (and
 * retried where nothing was written), ownership of the pool, and the epoch fence holding between
 * two connection pools (two hosts) racing for real.
 */
const pg_ = await postgresForTests('connection');

describe.skipIf(!pg_.available)('Postgres store: connection, migrations, errors', () => {
  afterAll(() => pg_.dropSchemas());
  const open = (schema: string, more: Partial<Parameters<typeof postgresStore>[0]> = {}): Store =>
    postgresStore({ connectionString: pg_.url, schema, clock: 'caller', max: 3, ...more });

  it('stores starting together on one fresh schema migrate it once, under the advisory lock', async () => {
    const schema = pg_.schema('migrate');
    const stores = Array.from({ length: 5 }, () => open(schema));
    const runs = await Promise.all(stores.map((s, i) => s.enqueue(command({ id: `r${i}` }))));
    expect(runs.every((r) => r.created)).toBe(true);
    const versions = await pg_.query<{ version: number }>(`SELECT version FROM "${schema}".holdfast_migrations ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual(loadPgMigrations().map((m) => m.version));
    expect(versions.length).toBeGreaterThanOrEqual(8);
    expect(await stores[0]!.listRuns({})).toHaveLength(5);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("refuses a schema that holds another application's tables, and one migrated by a newer holdfast, writing nothing", async () => {
    const foreign = pg_.schema('foreign');
    await pg_.query(`CREATE SCHEMA "${foreign}"; CREATE TABLE "${foreign}".invoices (id int)`);
    const store = open(foreign);
    await expect(store.getRun('x')).rejects.toMatchObject({ code: 'not_holdfast_database' });
    const tables = await pg_.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1`, [foreign]);
    expect(tables.map((t) => t.t)).toEqual(['invoices']);
    await store.close();

    const newer = pg_.schema('newer');
    const first = open(newer);
    await first.getRun('x');
    await first.close();
    await pg_.query(`INSERT INTO "${newer}".holdfast_migrations (version, name) VALUES (9999, 'future')`);
    const second = open(newer);
    await expect(second.getRun('x')).rejects.toMatchObject({ code: 'schema_too_new' });
    await second.close();
  });

  it('an unreachable server is StoreUnavailableError (disconnected), nothing else', async () => {
    const store = postgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'unreachable',
      connectTimeoutMs: 2_000,
    });
    const error = await store.enqueue(command()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: 'disconnected', code: 'store_unavailable' });
    await store.close();
  });

  it('connections terminated by the server (pg_terminate_backend) between and during calls: the calls go on, written once', async () => {
    const app = `hf-terminate-${process.pid}`;
    const schema = pg_.schema('terminate');
    const store = open(schema, { applicationName: app });
    await store.enqueue(command({ id: 'before' }));
    const terminate = () => pg_.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
    await terminate();
    expect((await store.enqueue(command({ id: 'after-idle-kill' }))).created).toBe(true);

    // Hold the runs table so the next enqueue waits inside its transaction, then kill its backend.
    const admin = new pg.Client({ connectionString: pg_.url });
    await admin.connect();
    await admin.query(`BEGIN; LOCK TABLE "${schema}".runs IN ACCESS EXCLUSIVE MODE`);
    const blocked = store.enqueue(command({ id: 'killed-mid-transaction', idempotencyKey: 'mid' }));
    await waitFor(
      async () =>
        (await pg_.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app])).length > 0,
    );
    await terminate();
    await admin.query('COMMIT');
    await admin.end();
    expect((await blocked).created).toBe(true);
    expect((await store.listRuns({})).map((r) => r.id)).toEqual(['before', 'after-idle-kill', 'killed-mid-transaction']);
    await store.close();
  });

  it('a statement past statement_timeout is StoreUnavailableError (locked), its transaction rolled back', async () => {
    const schema = pg_.schema('timeout');
    const store = open(schema, { statementTimeoutMs: 300 });
    await store.enqueue(command({ id: 'first' }));
    const admin = new pg.Client({ connectionString: pg_.url });
    await admin.connect();
    await admin.query(`BEGIN; LOCK TABLE "${schema}".runs IN ACCESS EXCLUSIVE MODE`);
    const error = await store.enqueue(command({ id: 'timed-out' })).catch((e: unknown) => e);
    await admin.query('ROLLBACK');
    await admin.end();
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: 'locked' });
    expect(await store.getRun('timed-out')).toBeUndefined();
    await store.close();
  });

  it('a server that refuses writes (a standby after a failover: read-only transactions) is StoreUnavailableError (read_only)', async () => {
    const schema = pg_.schema('read_only');
    const writable = open(schema);
    await writable.enqueue(command({ id: 'r' }));
    await writable.close();
    const pool = new pg.Pool({ connectionString: pg_.url, max: 2, options: '-c default_transaction_read_only=on' });
    const store = postgresStore({ pool, schema, clock: 'caller' });
    expect((await store.getRun('r'))?.id).toBe('r');
    const error = await store.enqueue(command({ id: 'refused' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: 'read_only' });
    await store.close();
    await pool.end();
  });

  it('close() ends the pool the store created, never a pool passed in; pool options go on that pool', async () => {
    const pool = new pg.Pool({ connectionString: pg_.url, max: 2 });
    expect(() => postgresStore({ pool, schema: 'x', max: 3 })).toThrow(/configure max on that pool/);
    const store = postgresStore({ pool, schema: pg_.schema('pool'), clock: 'caller' });
    await store.enqueue(command({ id: 'r' }));
    await store.close();
    await expect(store.getRun('r')).rejects.toMatchObject({ code: 'store_closed' });
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('a take-over waits for a fenced write in flight: it cannot complete while a step of the old epoch may still commit', async () => {
    const schema = pg_.schema('fence_wait');
    const [hostA, hostB] = [
      open(schema, { applicationName: `hf-a-${process.pid}` }),
      open(schema, { applicationName: `hf-b-${process.pid}` }),
    ];
    await hostA.enqueue(command({ id: 'r', key: 'k' }));
    const a = await hostA.acquireOwner({ key: 'k', ownerId: 'a', now: 0, ttlMs: 10_000, channel: null });
    await hostA.claimNext({ key: 'k', ownerId: 'a', epoch: a!.epoch, now: 0 });
    // Another transaction holds step #0's slot uncommitted: A's commit of step #0 waits for it,
    // after it has checked the fence.
    const admin = new pg.Client({ connectionString: pg_.url });
    await admin.connect();
    await admin.query(
      `BEGIN; INSERT INTO "${schema}".steps (run_seq, seq, name, result, epoch, committed_at)
       SELECT seq, 0, 'placeholder', 'null', 0, 0 FROM "${schema}".runs WHERE id = 'r'`,
    );
    const waitingIn = async (app: string) =>
      (await pg_.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app])).length > 0;
    let settled = false;
    const commit = hostA.commitStep({ key: 'k', ownerId: 'a', epoch: a!.epoch, runId: 'r', seq: 0, name: 's0', result: 'a', now: 1 });
    let takeover: ReturnType<Store['acquireOwner']>;
    try {
      await waitFor(() => waitingIn(`hf-a-${process.pid}`));
      takeover = hostB.acquireOwner({ key: 'k', ownerId: 'b', now: 1, ttlMs: 10_000, channel: null, takeOverFrom: 'a' });
      void takeover.then(() => (settled = true));
      await waitFor(async () => settled || (await waitingIn(`hf-b-${process.pid}`)));
      expect(settled).toBe(false); // the take-over waits for A's fenced transaction
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
    expect(await commit).toMatchObject({ seq: 0, name: 's0', epoch: a!.epoch });
    const b = await takeover;
    expect(b).toMatchObject({ ownerId: 'b', epoch: a!.epoch + 1 });
    const claimed = await hostB.claimNext({ key: 'k', ownerId: 'b', epoch: b!.epoch, now: 2 });
    expect(claimed.claimed?.steps.map((s) => [s.seq, s.name, s.epoch])).toEqual([[0, 's0', a!.epoch]]);
    await expect(
      hostA.commitStep({ key: 'k', ownerId: 'a', epoch: a!.epoch, runId: 'r', seq: 1, name: 's1', result: 'a', now: 3 }),
    ).rejects.toBeInstanceOf(StaleEpochError);
    await hostA.close();
    await hostB.close();
  });

  it('a take-over racing a stale owner that commits steps from another pool: no stale step lands after it', async () => {
    const schema = pg_.schema('fence');
    const [hostA, hostB] = [open(schema), open(schema)];
    for (let round = 0; round < 15; round++) {
      const key = `k${round}`;
      await hostA.enqueue(command({ id: `run-${round}`, key }));
      const a = await hostA.acquireOwner({ key, ownerId: 'a', now: 0, ttlMs: 10_000, channel: null });
      const fenceA = { key, ownerId: 'a', epoch: a!.epoch };
      await hostA.claimNext({ ...fenceA, now: 0 });
      const commits = (async () => {
        for (let seq = 0; ; seq++) {
          try {
            await hostA.commitStep({ ...fenceA, runId: `run-${round}`, seq, name: `s${seq}`, result: seq, now: 1 });
          } catch (error) {
            expect(error).toBeInstanceOf(StaleEpochError);
            return seq;
          }
        }
      })();
      const b = await hostB.acquireOwner({ key, ownerId: 'b', now: 1, ttlMs: 10_000, channel: null, takeOverFrom: 'a' });
      const claimed = await hostB.claimNext({ key, ownerId: 'b', epoch: b!.epoch, now: 2 });
      const committedByA = await commits;
      const journal = await hostB.getSteps(`run-${round}`);
      expect(journal.every((s) => s.epoch === a!.epoch)).toBe(true);
      expect(journal).toHaveLength(committedByA);
      expect(claimed.claimed?.steps).toEqual(journal); // nothing of A's committed after B's take-over and claim
    }
    await hostA.close();
    await hostB.close();
  });
});

describe('Postgres store: which driver errors are StoreUnavailableError', () => {
  it.each([
    ['40001', 'serialization failure', 'locked'],
    ['40P01', 'deadlock detected', 'locked'],
    ['55P03', 'lock not available', 'locked'],
    ['57014', 'canceling statement due to statement timeout', 'locked'],
    ['08006', 'connection failure', 'disconnected'],
    ['08001', 'could not establish connection', 'disconnected'],
    ['57P01', 'terminating connection due to administrator command', 'disconnected'],
    ['57P03', 'the database system is starting up', 'disconnected'],
    ['53300', 'too many clients already', 'disconnected'],
    ['53100', 'could not extend file: No space left on device', 'full'],
    ['25006', 'cannot execute INSERT in a read-only transaction', 'read_only'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432', 'disconnected'],
    ['ECONNRESET', 'read ECONNRESET', 'disconnected'],
    [undefined, 'Connection terminated unexpectedly', 'disconnected'],
    [undefined, 'Client has encountered a connection error and is not queryable', 'disconnected'],
  ])('%s (%s) -> %s', (code, message, reason) => {
    const error = classifyPgError(Object.assign(new Error(message), { code }), 'postgres://db');
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason, code: 'store_unavailable' });
  });

  it.each([
    ['23505', 'duplicate key value violates unique constraint'],
    ['42P01', 'relation does not exist'],
    ['22P02', 'invalid input syntax'],
  ])('%s (%s) is a real failure, passed through unchanged', (code, message) => {
    const error = Object.assign(new Error(message), { code });
    expect(classifyPgError(error, 'postgres://db')).toBe(error);
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not met');
}
