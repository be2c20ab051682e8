import type Database from 'better-sqlite3';

/** Prepared statements for a map of named SQL texts, prepared once per connection. */
export type Prepared<S extends Readonly<Record<string, string>>> = { readonly [K in keyof S]: Database.Statement };

export function prepareAll<S extends Readonly<Record<string, string>>>(db: Database.Database, sql: S): Prepared<S> {
  return Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)])) as Prepared<S>;
}
