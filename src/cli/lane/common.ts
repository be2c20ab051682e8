import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Lanes } from '../../lanes/service.js';
import type { LiveLease } from '../../model/lane.js';
import { DEFAULT_DB, type CliIo as LaneIo } from '../cli-io.js';
import { UsageError } from '../cli-errors.js';

/** Shared pieces of the `holdfast lane` verbs: exit codes, option parsing, output. */

export { EXIT, DEFAULT_DB } from '../cli-io.js';
export type { CliIo as LaneIo } from '../cli-io.js';

export interface VerbContext {
  readonly lanes: Lanes;
  readonly io: LaneIo;
  readonly json: boolean;
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export interface Verb {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly allowPositionals?: boolean;
  /** Reads only: the database is opened read-only and never created. */
  readonly readOnly?: boolean;
  /** Runs the verb; returns the exit code. */
  run(ctx: VerbContext): Promise<number>;
}

export const COMMON_OPTIONS = {
  db: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export { UsageError } from '../cli-errors.js';

export function parseVerbArgs(verb: Verb, args: string[]) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...verb.options },
      allowPositionals: verb.allowPositionals ?? false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function dbPath(values: VerbContext['values'], cwd: string): string {
  const db = values.db;
  if (db === '' || db === true) throw new UsageError('--db is empty; pass the path of the state database');
  return resolve(cwd, typeof db === 'string' ? db : DEFAULT_DB);
}

export function text(values: VerbContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: VerbContext['values'], name: string): string {
  const v = text(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function number(values: VerbContext['values'], name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} ${JSON.stringify(v)} is not ${what}`);
  return n;
}

export function leaseId(values: VerbContext['values']): number | undefined {
  return number(values, 'lease', (n) => Number.isInteger(n) && n > 0, 'a lease id (a positive integer)');
}

export function emit(ctx: VerbContext, json: unknown, human: string): void {
  ctx.io.stdout(ctx.json ? `${JSON.stringify(json)}\n` : `${human}\n`);
}

export function describeLease(l: LiveLease): string {
  const tree = l.tree.length === 0 ? '(no tree)' : l.tree.map((p) => (p === '' ? '*' : p)).join(', ');
  return `#${l.id} lane "${l.lane}" gen ${l.generation} ${l.mode} [${tree}] holder ${l.holder} (${l.host}:${l.pid})${l.runId ? ` run ${l.runId}` : ''}`;
}

export function minutes(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}
