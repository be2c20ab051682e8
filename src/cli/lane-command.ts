import { HoldfastError, InvalidInputError } from '../errors.js';
import { createLanes } from '../lanes/service.js';
import { currentProcess, probeProcessAlive } from '../platform/process-liveness.js';
import { systemClock } from '../platform/system-clock.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { acquireVerb } from './lane/acquire.js';
import { dbPath, EXIT, parseVerbArgs, type LaneIo, type Verb } from './lane/common.js';
import { compactVerb, exportVerb, importVerb } from './lane/journal.js';
import { adoptVerb, heartbeatVerb, releaseVerb } from './lane/lease-ops.js';
import { haltVerb, spawnVerb } from './lane/intents.js';
import { liveVerb, statusVerb } from './lane/views.js';

const VERBS: Record<string, Verb> = {
  acquire: acquireVerb,
  release: releaseVerb,
  heartbeat: heartbeatVerb,
  adopt: adoptVerb,
  halt: haltVerb,
  spawn: spawnVerb,
  live: liveVerb,
  status: statusVerb,
  compact: compactVerb,
  export: exportVerb,
  import: importVerb,
};

const USAGE = [
  'usage: holdfast lane <verb> [options]',
  ...Object.values(VERBS).map((v) => `  ${v.usage}`),
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
  let store: ReturnType<typeof sqliteStore> | undefined;
  try {
    const { values, positionals } = parseVerbArgs(verb, rest);
    if (values.help === true) {
      io.stdout(`usage: ${verb.usage}\n`);
      return EXIT.done;
    }
    store = sqliteStore({ path: dbPath(values, io.cwd) });
    const { host, pid } = currentProcess();
    const lanes = createLanes({ store, clock: systemClock, host, pid, isProcessAlive: probeProcessAlive });
    return await verb.run({ lanes, io, json: values.json === true, values, positionals });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      io.stderr(`holdfast lane ${name}: ${error.message}\nusage: ${verb.usage}\n`);
      return EXIT.usage;
    }
    const code = error instanceof HoldfastError ? ` [${error.code}]` : '';
    io.stderr(`holdfast lane ${name}: ${(error as Error).message}${code}\n`);
    return EXIT.failure;
  } finally {
    await store?.close();
  }
}
