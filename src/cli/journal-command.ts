import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../platform/system-clock.js';
import { compactFinished } from '../runtime/retention.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { DEFAULT_DB, EXIT, type CliIo } from './cli-io.js';
import { parseDuration } from './duration.js';

const USAGE = `usage: holdfast journal compact [--older-than DURATION] [--db PATH] [--json]

Prunes the step journal of runs that ended more than DURATION ago (default 7d; 0 for every
ended run): each keeps its summary (status, result, error, timings) and its idempotence key, so
resubmitting the key still returns it. Runs a few at a time, so a running kernel's commits
wait only briefly. Crash-safe: a run is compacted whole or not at all.
DURATION  milliseconds, or a number with ms, s, m, h or d
--json    one JSON object: {"runs", "steps", "bytes"}
exit codes: 0 done, 1 failure, 2 usage error`;

/** `holdfast journal compact`: retention on demand (D5). */
export async function runJournalCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(`${USAGE}\n`);
    return EXIT.done;
  }
  if (sub !== 'compact') {
    io.stderr(`holdfast journal: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`}\n${USAGE}\n`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { db: { type: 'string' }, 'older-than': { type: 'string' }, json: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`holdfast journal compact: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values } = parsed;
  const olderThan = parseDuration(values['older-than'] ?? '7d');
  if (olderThan === undefined) {
    io.stderr(`holdfast journal compact: --older-than must be a duration like 30s, 12h or 7d, got "${values['older-than']}"\n${USAGE}\n`);
    return EXIT.usage;
  }
  const path = resolve(io.cwd, values.db ?? DEFAULT_DB);
  if (!existsSync(path)) {
    io.stderr(`holdfast journal compact: no database at ${path}; pass --db with the path of an existing holdfast database\n`);
    return EXIT.failure;
  }
  const store = sqliteStore({ path });
  try {
    const totals = await compactFinished(store, systemClock, olderThan);
    io.stdout(
      values.json
        ? `${JSON.stringify(totals)}\n`
        : `compacted ${totals.runs} runs: ${totals.steps} journal entries, ${totals.bytes} bytes\n`,
    );
    return EXIT.done;
  } finally {
    await store.close();
  }
}
