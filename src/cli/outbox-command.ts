import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EffectRecord, EffectStatus } from '../model/index.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { DEFAULT_DB, EXIT, type CliIo } from './cli-io.js';

const USAGE = `usage: holdfast outbox [--status owed|failed|delivered|all] [--limit N] [--db PATH] [--json]

Lists the outbox: effects claimed and not yet recorded (owed: emitted or about to be, a crash
re-emits them with the same key) and effects whose last emit failed (with their next attempt).
--status  owed (default: claimed and failed), failed, delivered, or all
--json    one JSON object per line (JSON lines)
exit codes: 0 done (even when the outbox is empty), 1 failure, 2 usage error`;

const STATUSES: Record<string, readonly EffectStatus[] | undefined> = {
  owed: ['claimed', 'failed'],
  failed: ['failed'],
  delivered: ['delivered'],
  all: undefined,
};

/** `holdfast outbox`: read-only; never creates a database. */
export async function runOutboxCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        db: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`holdfast outbox: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.done;
  }
  const statusName = values.status ?? 'owed';
  if (!Object.hasOwn(STATUSES, statusName)) {
    io.stderr(`holdfast outbox: --status must be owed, failed, delivered or all, got "${statusName}"\n${USAGE}\n`);
    return EXIT.usage;
  }
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    io.stderr(`holdfast outbox: --limit must be a positive integer, got "${values.limit}"\n${USAGE}\n`);
    return EXIT.usage;
  }
  const path = resolve(io.cwd, values.db ?? DEFAULT_DB);
  if (!existsSync(path)) {
    io.stderr(`holdfast outbox: no database at ${path}; pass --db with the path of an existing holdfast database\n`);
    return EXIT.failure;
  }
  const store = sqliteStore({ path });
  try {
    const status = STATUSES[statusName];
    const effects = await store.listEffects({ ...(status ? { status } : {}), limit });
    for (const effect of effects) io.stdout(values.json ? `${JSON.stringify(effect)}\n` : `${formatEffect(effect)}\n`);
    return EXIT.done;
  } finally {
    await store.close();
  }
}

function formatEffect(e: EffectRecord): string {
  const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const tail =
    e.status === 'failed'
      ? `next attempt ${e.nextAttemptAt === null ? 'never' : when(e.nextAttemptAt)}  ${e.error?.code}: ${e.error?.message}`
      : e.status === 'delivered'
        ? `artifact ${JSON.stringify(e.artifact)}`
        : `claimed ${when(e.claimedAt)}`;
  const origins = e.origins.length ? `  origins ${e.origins.join(',')}` : '';
  return `${e.key}  ${e.name}  ${e.status}  run ${e.runId}  attempts ${e.attempts}${origins}  ${tail}`;
}
