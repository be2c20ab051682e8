import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HoldfastError } from '../errors.js';
import type { CancelMode } from '../model/index.js';
import { createKernel } from '../runtime/kernel.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { DEFAULT_DB, EXIT, type CliIo } from './cli-io.js';

const USAGE = `usage: holdfast retry RUN_ID [--db PATH] [--json]
       holdfast cancel RUN_ID [--mode abort-drop|abort-keep] [--db PATH] [--json]

retry   re-opens a failed or cancelled run: it is queued again and resumes from its last
        committed step; its idempotence key keeps naming it
cancel  asks the owner to stop a queued or running run: abort-drop (default) ends it cancelled,
        abort-keep interrupts it and queues it again
--json  one JSON object: {"runId", "status"} (the run's status after the request)
exit codes: 0 done, 1 failure, 2 usage error, 3 no such run, or the run cannot be retried`;

/**
 * `holdfast retry` and `holdfast cancel`: operator actions on one run, recorded durably and then
 * told to the owning process over its wake channel (through a kernel that is never started, a
 * pure client). Refuses to create a database that does not exist.
 */
export async function runOperatorCommand(verb: 'retry' | 'cancel', args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { db: { type: 'string' }, mode: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    io.stderr(`holdfast ${verb}: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.done;
  }
  const usage = (message: string) => {
    io.stderr(`holdfast ${verb}: ${message}\n${USAGE}\n`);
    return EXIT.usage;
  };
  if (positionals.length !== 1) return usage('give exactly one RUN_ID');
  if (verb === 'retry' && values.mode !== undefined) return usage('--mode applies to cancel only');
  const mode = (values.mode ?? 'abort-drop') as CancelMode;
  if (mode !== 'abort-drop' && mode !== 'abort-keep') return usage(`--mode must be abort-drop or abort-keep, got "${values.mode}"`);
  const path = resolve(io.cwd, values.db ?? DEFAULT_DB);
  if (!existsSync(path)) {
    io.stderr(`holdfast ${verb}: no database at ${path}; pass --db with the path of an existing holdfast database\n`);
    return EXIT.failure;
  }
  const runId = positionals[0]!;
  const store = sqliteStore({ path });
  try {
    const kernel = createKernel({ store, flows: [] });
    const status = verb === 'retry' ? await kernel.retry(runId) : await kernel.cancel(runId, { mode });
    io.stdout(values.json ? `${JSON.stringify({ runId, status })}\n` : `${runId} ${status}\n`);
    return EXIT.done;
  } catch (error) {
    if (error instanceof HoldfastError && (error.code === 'run_not_found' || error.code === 'run_not_retryable')) {
      io.stderr(`holdfast ${verb}: ${error.message}\n`);
      return EXIT.refused;
    }
    throw error;
  } finally {
    await store.close();
  }
}
