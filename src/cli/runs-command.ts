import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../model/index.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import { DEFAULT_DB, EXIT, type CliIo } from './cli-io.js';

const RUNS_USAGE = `usage: holdfast runs [--db PATH] [--key KEY] [--status STATUS[,STATUS]] [--limit N] [--json]
       holdfast run RUN_ID [--db PATH] [--json]`;

/** `holdfast runs`: lists runs; `holdfast run ID`: one run with its step journal. Read-only. */
export async function runRunsCommand(verb: 'runs' | 'run', args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: verb === 'run',
      options: {
        db: { type: 'string' },
        key: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    io.stderr(`holdfast ${verb}: ${(error as Error).message}\n${RUNS_USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const statuses = values.status?.split(',').filter(Boolean) ?? [];
  const badStatus = statuses.find((s) => !RUN_STATUSES.includes(s as RunStatus));
  if (badStatus !== undefined) {
    io.stderr(`holdfast ${verb}: unknown --status "${badStatus}" (one of ${RUN_STATUSES.join(', ')})\n${RUNS_USAGE}\n`);
    return EXIT.usage;
  }
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    io.stderr(`holdfast ${verb}: --limit must be a positive integer, got "${values.limit}"\n${RUNS_USAGE}\n`);
    return EXIT.usage;
  }
  if (verb === 'run' && positionals.length !== 1) {
    io.stderr(`holdfast run: give exactly one RUN_ID\n${RUNS_USAGE}\n`);
    return EXIT.usage;
  }
  const store = sqliteStore({ path: resolve(io.cwd, values.db ?? DEFAULT_DB) });
  try {
    if (verb === 'run') {
      const run = await store.getRun(positionals[0]!);
      if (!run) {
        io.stderr(`holdfast run: no run with id ${positionals[0]} in ${store.description}\n`);
        return EXIT.refused;
      }
      const steps = await store.getSteps(run.id);
      const actions = await store.operatorActions(run.id);
      if (values.json) io.stdout(`${JSON.stringify({ ...run, steps, actions })}\n`);
      else {
        io.stdout(`${formatRun(run)}\n`);
        for (const step of steps) io.stdout(`  #${step.seq} ${step.name} (epoch ${step.epoch}) ${JSON.stringify(step.result)}\n`);
        for (const action of actions) io.stdout(`  operator ${action.action} ${action.detail} at ${new Date(action.at).toISOString()}\n`);
      }
      return EXIT.done;
    }
    const runs = await store.listRuns({ key: values.key, status: statuses as RunStatus[], limit });
    if (values.json) for (const run of runs) io.stdout(`${JSON.stringify(run)}\n`);
    else for (const run of runs) io.stdout(`${formatRun(run)}\n`);
    return EXIT.done;
  } finally {
    await store.close();
  }
}

function formatRun(run: RunRecord): string {
  const outcome = run.error ? `${run.error.code}: ${run.error.message}` : run.result === undefined ? '' : JSON.stringify(run.result);
  return `${run.id}  ${run.key}  ${run.flow}  ${run.priority}  ${run.status}  attempts=${run.attempts}  ${outcome}`.trimEnd();
}
