import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreFormatError, sqliteStore } from 'holdfast';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hf-dbfile-')), 'state.db');

describe('opening a database file', () => {
  it('refuses a file that is not SQLite, naming the path, and leaves it byte for byte unchanged', () => {
    const path = fresh();
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(path);
    expect(() => sqliteStore({ path })).toThrow(StoreFormatError);
    expect(() => sqliteStore({ path })).toThrow(expect.objectContaining({ code: 'not_holdfast_database', message: expect.stringContaining(path) }));
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses another application's SQLite database and writes nothing to it", () => {
    const path = fresh();
    const other = new Database(path);
    other.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (12.5);");
    other.close();
    const before = readFileSync(path);
    expect(() => sqliteStore({ path })).toThrow(expect.objectContaining({ code: 'not_holdfast_database', message: expect.stringContaining('does not belong to holdfast') }));
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
    expect(() => sqliteStore({ path })).toThrow(expect.objectContaining({ code: 'schema_too_new', message: expect.stringMatching(/newer than this holdfast knows.*upgrade holdfast/) }));
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
});
