import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { dbClient } from '../daemon/client/db-client.js';
import type { HoldfastClient } from '../daemon/client/holdfast-client.js';
import { httpClient } from '../daemon/client/http-client.js';
import { postgresClient } from '../daemon/client/postgres-client.js';
import { isPostgresUrl } from '../daemon/store-location.js';
import { DEFAULT_DB, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';

export type VerbOptions = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Options every client verb takes. */
export const CLIENT_OPTIONS = {
  db: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies VerbOptions;

/** The lines every client verb's usage ends with. */
export const CLIENT_HELP = `--db PATH    a holdfast database file (default ${DEFAULT_DB}); never created by this command;
             or a Postgres database, postgres://user@host:5432/db?schema=holdfast
--url URL    the admin API of holdfast serve instead (default: HOLDFAST_URL, when no --db is given)
--token T    its admin token (default: HOLDFAST_ADMIN_TOKEN)
RUN_ID       a run id, or a unique prefix of one (the 8 characters the timeline prints)`;

/** Where a verb reads and writes: a database file or Postgres URL (`path`), or the admin API of a running daemon. */
export type ClientTarget =
  { readonly kind: 'db'; readonly path: string } | { readonly kind: 'url'; readonly url: string; readonly token: string | undefined };

/** Parses a verb's arguments (its own options plus CLIENT_OPTIONS); a bad one throws UsageError. */
export function parseVerbArgs(args: readonly string[], options: VerbOptions, allowPositionals: boolean) {
  try {
    const parsed = parseArgs({ args: [...args], options: { ...CLIENT_OPTIONS, ...options }, allowPositionals, strict: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The target of a verb: `--url` (or `HOLDFAST_URL` when no `--db` is given) selects the admin API,
 * else `--db` or the default database path (relative to the working directory).
 */
export function clientTarget(values: OptionValues, io: CliIo): ClientTarget {
  const db = text(values, 'db');
  const url = text(values, 'url');
  if (db === '') throw new UsageError('--db is empty; pass the path of the state database');
  if (url === '') throw new UsageError('--url is empty; pass the address of the admin API, like http://127.0.0.1:7420');
  if (db !== undefined && url !== undefined) throw new UsageError('give --db or --url, not both');
  const envUrl = io.env?.HOLDFAST_URL;
  const chosenUrl = url ?? (db === undefined && envUrl ? envUrl : undefined);
  if (chosenUrl !== undefined) {
    const token = text(values, 'token') ?? (io.env?.HOLDFAST_ADMIN_TOKEN || undefined);
    return { kind: 'url', url: chosenUrl, token };
  }
  if (text(values, 'token') !== undefined) throw new UsageError('--token applies to --url only');
  return { kind: 'db', path: db !== undefined && isPostgresUrl(db) ? db : resolve(io.cwd, db ?? DEFAULT_DB) };
}

/**
 * Opens the client for a target. On a database, `read` opens it read-only (never created, a
 * read-only file can be inspected) and `write` opens it for a verb that records something.
 */
export function openClient(target: ClientTarget, access: 'read' | 'write', purpose: string): HoldfastClient {
  if (target.kind === 'url') return httpClient({ url: target.url, ...(target.token === undefined ? {} : { token: target.token }) });
  if (isPostgresUrl(target.path)) return postgresClient({ url: target.path, access });
  return dbClient({ path: target.path, access, purpose });
}

export function text(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A `--limit`-like option: a positive integer, or `fallback` when absent. */
export function positiveInteger(values: OptionValues, name: string, fallback: number): number {
  const value = text(values, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  }
  return n;
}
