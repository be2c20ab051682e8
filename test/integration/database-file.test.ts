import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreFormatError, sqliteStore } from 'holdfast';
import { HOLDFAST_APPLICATION_ID, loadMigrations } from '../../src/stores/sqlite/open-database.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hf-dbfile-')), 'state.db');

describe('opening a database file', () => {
  it('refuses a file that is not SQLite, naming the path, and leaves it byte for byte unchanged', () => {
    const path = fresh();
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(path);
    expect(() => sqliteStore({ path })).toThrow(StoreFormatError);
    expect(() => sqliteStore({ path })).toThrow(
      expect.objectContaining({ code: 'not_holdfast_database', message: expect.stringContaining(path) }),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses another application's SQLite database and writes nothing to it", () => {
    const path = fresh();
    const other = new Database(path);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (12.5);');
    other.close();
    const before = readFileSync(path);
    expect(() => sqliteStore({ path })).toThrow(
      expect.objectContaining({ code: 'not_holdfast_database', message: expect.stringContaining('does not belong to holdfast') }),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'invoices' }]);
    check.close();
  });

  it('refuses a holdfast database with a newer schema, telling the user to upgrade', async () => {
    const path = fresh();
    await sqliteStore({ path }).close();
    const db = new Database(path);
    const version = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${version + 1}`);
    db.close();
    const before = readFileSync(path);
    expect(() => sqliteStore({ path })).toThrow(
      expect.objectContaining({
        code: 'schema_too_new',
        message: expect.stringMatching(/newer than this holdfast knows.*upgrade holdfast/),
      }),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('creates a new file with its directory, and reopens it idempotently with every migration applied once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hf-dbfile-')), 'nested', 'dir', 'state.db');
    const first = sqliteStore({ path });
    await first.enqueue({ id: 'r1', key: 'k', flow: 'f', input: 1, idempotencyKey: 'i1', priority: 'normal', preempt: null, now: 1 });
    await first.close();
    const second = sqliteStore({ path, synchronous: 'NORMAL' });
    expect((await second.getRun('r1'))?.input).toBe(1);
    await second.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(0x48467374);
    db.close();
  });

  it('upgrades a database written by an older schema, keeping its runs and step journal', async () => {
    const path = fresh();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const migration of loadMigrations().filter((m) => m.version <= 3)) {
      old.exec(migration.sql);
      old.pragma(`user_version = ${migration.version}`);
    }
    old.pragma(`application_id = ${HOLDFAST_APPLICATION_ID}`);
    old.exec(`INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, status, attempts, created_at)
      VALUES ('r-old', 'k', 'f', '{"n":1}', 'i-old', 'normal', 1, 'running', 1, 5)`);
    old.exec(
      `INSERT INTO steps (run_id, seq, name, result, epoch, committed_at) VALUES ('r-old', 0, 'first', '"a"', 1, 6), ('r-old', 1, 'second', '{"b":2}', 1, 7)`,
    );
    old.close();
    const store = sqliteStore({ path });
    expect((await store.getSteps('r-old')).map((st) => [st.seq, st.name, st.result])).toEqual([
      [0, 'first', 'a'],
      [1, 'second', { b: 2 }],
    ]);
    expect(await store.getRun('r-old')).toMatchObject({ status: 'running', input: { n: 1 }, parked: false, cancelRequested: null });
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(loadMigrations().at(-1)!.version);
    check.close();
  });
});
