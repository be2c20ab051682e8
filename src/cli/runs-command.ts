import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { RUN_STATUSES, type OperatorAction, type RunRecord, type RunStatus, type StepAttempt, type StepRecord } from '../model/index.js';
import type { Store } from '../ports/store.js';
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
      const view = await runView(store, run);
      if (values.json) io.stdout(`${JSON.stringify(view)}\n`);
      else io.stdout(formatRunView(view));
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

/** One run as `holdfast run` shows it: journal, failed attempts, operator actions, and its tree of children. */
interface RunView extends RunRecord {
  readonly steps: StepRecord[];
  readonly failedAttempts: StepAttempt[];
  readonly actions: OperatorAction[];
  readonly children: RunView[];
}

async function runView(store: Store, run: RunRecord, depth = 0): Promise<RunView> {
  const [steps, failedAttempts, actions, children] = await Promise.all([
    store.getSteps(run.id),
    store.getStepAttempts(run.id),
    store.operatorActions(run.id),
    depth < 8 ? store.childrenOf(run.id) : Promise.resolve([]),
  ]);
  return { ...run, steps, failedAttempts, actions, children: await Promise.all(children.map((c) => runView(store, c, depth + 1))) };
}

function formatRunView(view: RunView, indent = ''): string {
  const when = (ms: number) => new Date(ms).toISOString();
  const lines = [`${indent}${formatRun(view)}`];
  if (view.wait) {
    const until = view.wait.wakeAt === null ? `until run ${view.wait.onRun} ends` : `until ${when(view.wait.wakeAt)}`;
    lines.push(`${indent}  waiting (${view.wait.kind}) ${until}`);
  }
  if (view.deadlineAt !== null) lines.push(`${indent}  deadline ${when(view.deadlineAt)}`);
  if (view.compacted) lines.push(`${indent}  journal compacted`);
  for (const step of view.steps) lines.push(`${indent}  #${step.seq} ${step.name} (epoch ${step.epoch}) ${JSON.stringify(step.result)}`);
  for (const a of view.failedAttempts) {
    const next = a.retryAt === null ? 'no retry' : `retry at ${when(a.retryAt)}`;
    lines.push(`${indent}  #${a.seq} ${a.name} attempt ${a.attempt} failed: ${a.error.code}: ${a.error.message} (${next})`);
  }
  for (const action of view.actions) lines.push(`${indent}  operator ${action.action} ${action.detail} at ${when(action.at)}`);
  for (const child of view.children) lines.push(`${indent}  child:`, formatRunView(child, `${indent}    `).trimEnd());
  return `${lines.join('\n')}\n`;
}

function formatRun(run: RunRecord): string {
  const outcome = run.error ? `${run.error.code}: ${run.error.message}` : run.result === undefined ? '' : JSON.stringify(run.result);
  return `${run.id}  ${run.key}  ${run.flow}  ${run.priority}  ${run.status}  attempts=${run.attempts}  ${outcome}`.trimEnd();
}
