import { checkDatabaseFile } from '../daemon/client/database-file.js';
import { InvalidInputError } from '../errors.js';
import { createLanes } from '../lanes/service.js';
import { currentProcess, probeProcessAlive } from '../platform/process-liveness.js';
import { systemClock } from '../platform/system-clock.js';
import type { Store } from '../ports/store.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { isPostgresUrl, openPostgresLocation } from '../daemon/store-location.js';
import { reportFailure } from './cli-errors.js';
import { clientTarget, openClient } from './client-options.js';
import { acquireVerb } from './lane/acquire.js';
import { dbPath, EXIT, parseVerbArgs, UsageError, type LaneIo, type Verb, type VerbContext } from './lane/common.js';
import { compactVerb, exportVerb, importVerb } from './lane/journal.js';
import { adoptVerb, heartbeatVerb, releaseVerb } from './lane/lease-ops.js';
import { haltVerb, spawnVerb } from './lane/intents.js';
import { scavengeVerb } from './lane/scavenge.js';
import { formatLaneStatuses, liveVerb, statusVerb } from './lane/views.js';

const VERBS: Record<string, Verb> = {
  acquire: acquireVerb,
  release: releaseVerb,
  heartbeat: heartbeatVerb,
  adopt: adoptVerb,
  halt: haltVerb,
  spawn: spawnVerb,
  live: liveVerb,
  status: statusVerb,
  scavenge: scavengeVerb,
  compact: compactVerb,
  export: exportVerb,
  import: importVerb,
};

const USAGE = [
  'usage: holdfast lane <verb> [options]',
  ...Object.values(VERBS).map((v) => `  ${v.usage}`),
  'Every verb works on a database file (--db, default .holdfast/state.db); a lease is taken and',
  'kept by the process that holds it, so only `lane status` is also served over --url (or',
  'HOLDFAST_URL when no --db is given). live, status and export only read: they open the file',
  'read-only and never create it; the others create it when it does not exist.',
  '--json: one JSON object (export --jsonl: the journal as JSON lines)',
  'exit codes: 0 done, 3 refused or nothing matched, 2 usage error, 1 other failure',
].join('\n');

/**
 * `holdfast lane ...`: operate lane leases on a state database (default `.holdfast/state.db` in
 * the current directory). Returns the exit code. Every verb that writes does so in one store
 * transaction, so a killed CLI process leaves either its whole record or nothing.
 */
export async function runLaneCommand(args: string[], io: LaneIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
    return name === undefined ? EXIT.usage : EXIT.done;
  }
  const verb = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
  if (verb === undefined) {
    io.stderr(`holdfast lane: unknown verb ${JSON.stringify(name)}\n${USAGE}\n`);
    return EXIT.usage;
  }
  let store: Store | undefined;
  let json = rest.includes('--json');
  try {
    const { values, positionals } = parseVerbArgs(verb, rest);
    json = values.json === true;
    if (values.help === true) {
      io.stdout(`usage: ${verb.usage}\n`);
      return EXIT.done;
    }
    const overUrl = values.url !== undefined || (values.db === undefined && Boolean(io.env?.HOLDFAST_URL) && verb === statusVerb);
    if (overUrl) {
      if (verb !== statusVerb)
        throw new UsageError(`lane ${name} works on a database file only (--db); over --url only lane status is served`);
      return await laneStatusOverUrl({ io, json, values, positionals });
    }
    if (values.token !== undefined) throw new UsageError('--token applies to --url only');
    if (typeof values.db === 'string' && isPostgresUrl(values.db)) store = openPostgresLocation(values.db);
    else {
      const path = dbPath(values, io.cwd);
      if (verb.readOnly) checkDatabaseFile(path);
      store = sqliteStore({ path, readOnly: verb.readOnly === true });
    }
    const { host, pid } = currentProcess();
    const lanes = createLanes({ store, clock: systemClock, host, pid, isProcessAlive: probeProcessAlive });
    return await verb.run({ lanes, io, json, values, positionals });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      io.stderr(`holdfast lane ${name}: ${error.message}\nusage: ${verb.usage}\n`);
      return EXIT.usage;
    }
    return reportFailure(io, `lane ${name}`, error, json);
  } finally {
    await store?.close();
  }
}

/** `lane status --url`: the daemon's view of the live leases (the default beat window). */
async function laneStatusOverUrl(ctx: Omit<VerbContext, 'lanes'>): Promise<number> {
  if (ctx.values['window-minutes'] !== undefined) throw new UsageError('--window-minutes applies to --db only');
  const client = openClient(clientTarget(ctx.values, ctx.io), 'read', 'holdfast lane status');
  try {
    const statuses = await client.lanes();
    ctx.io.stdout(ctx.json ? `${JSON.stringify({ leases: statuses })}\n` : `${formatLaneStatuses(statuses)}\n`);
    return EXIT.done;
  } finally {
    await client.close();
  }
}
