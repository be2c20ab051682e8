import { createRequire } from 'node:module';
import type pg from 'pg';
import { InvalidInputError } from '../../errors.js';

let loaded: typeof pg | undefined;

/**
 * The `pg` driver, loaded on first use rather than imported: it is an optional peer dependency,
 * so an application that stores in SQLite can load every holdfast module without installing it.
 * Throws a typed error saying what to install when it is missing.
 */
export function pgDriver(): typeof pg {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('pg') as typeof pg;
    return loaded;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new InvalidInputError(
      'the Postgres store needs the `pg` driver, which is not installed: run `npm install pg` in your application (SQLite needs nothing)',
      'driver_missing',
    );
  }
}
