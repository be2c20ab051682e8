import { InvalidInputError } from '../errors.js';
import type { Store } from '../ports/store.js';
import { postgresStore } from '../stores/postgres/postgres-store.js';

/** Whether a store location (`--db`, a config's `store`) names a Postgres database rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A Postgres URL with its password replaced by `***`, for messages and logs. */
export function redactedUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * Opens the Postgres store a `postgres://user@host:port/db?schema=name` URL names. `schema` is
 * holdfast's (default `holdfast`) and is taken out of the URL; every other parameter goes to the
 * driver as it is. Nothing connects until the store is first used (then it migrates its schema).
 */
export function openPostgresLocation(url: string): Store {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`${redactedUrl(url)} is not a valid Postgres URL; write it as postgres://user@host:5432/database`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return postgresStore({ connectionString: parsed.toString(), ...(schema === undefined ? {} : { schema }) });
}
