// Loads holdfast's Postgres store from the source tree (`src/postgres.ts`). The module is loaded by
// URL at run time, so this benchmark compiles and runs, reporting holdfast as not measured, in a
// tree where the store is missing or broken.
import type { Store } from '../../src/index.js';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly schema: string;
}
export type PostgresStoreFactory = (options: PostgresStoreOptions) => Store;

const entry = new URL('../../src/postgres.js', import.meta.url).href;

/** `postgresStore` from src/postgres.ts, or the reason it cannot be used. */
export async function loadPostgresStore(): Promise<{ postgresStore: PostgresStoreFactory } | { reason: string }> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(entry)) as Record<string, unknown>;
  } catch (error) {
    return { reason: `src/postgres.ts could not be loaded (${firstLine(error)})` };
  }
  if (typeof mod.postgresStore !== 'function') return { reason: 'src/postgres.ts does not export postgresStore' };
  return { postgresStore: mod.postgresStore as PostgresStoreFactory };
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}
