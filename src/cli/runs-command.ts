import { RUN_STATUSES, type RunStatus } from '../model/index.js';
import { EXIT, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';
import { CLIENT_HELP, positiveInteger, text } from './client-options.js';
import { printJson, runClientVerb, type ClientVerb } from './client-verb.js';
import { formatRun, formatRunDetail } from './run-format.js';

const RUNS_USAGE = `usage: holdfast runs [--key KEY] [--status STATUS[,STATUS]] [--limit N] [--db PATH | --url URL] [--json]

Lists runs in arrival order (default the first 100), optionally of one key and some statuses
(${RUN_STATUSES.join(', ')}). Read-only.
--json       JSON lines: one run object per line
${CLIENT_HELP}
exit codes: 0 done (even when no run matches), 1 failure, 2 usage error`;

const RUN_USAGE = `usage: holdfast run RUN_ID [--db PATH | --url URL] [--json]

Shows one run: its step journal, its wait and deadline, failed attempts, operator actions and its
tree of children. Read-only.
--json       one JSON object: the run with "steps", "failedAttempts", "actions", "children"
${CLIENT_HELP}
exit codes: 0 done, 1 failure, 2 usage error, 3 no run has that id, or the prefix names several`;

const runsVerb: ClientVerb = {
  name: 'runs',
  usage: RUNS_USAGE,
  access: 'read',
  options: { key: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
  check(values) {
    statuses(text(values, 'status'));
    positiveInteger(values, 'limit', 100);
  },
  async run({ client, io, json, values }) {
    const runs = await client.listRuns({
      key: text(values, 'key'),
      status: statuses(text(values, 'status')),
      limit: positiveInteger(values, 'limit', 100),
    });
    for (const run of runs) io.stdout(json ? `${JSON.stringify(run)}\n` : `${formatRun(run)}\n`);
    return EXIT.done;
  },
};

const runVerb: ClientVerb = {
  name: 'run',
  usage: RUN_USAGE,
  access: 'read',
  options: {},
  allowPositionals: true,
  check(_values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give exactly one RUN_ID (or a unique prefix of one)');
  },
  async run({ client, io, json, positionals }) {
    const view = await client.getRun(positionals[0]!);
    if (json) printJson(io, view);
    else io.stdout(formatRunDetail(view));
    return EXIT.done;
  },
};

/** `holdfast runs`: lists runs; `holdfast run ID`: one run with its step journal. Read-only. */
export async function runRunsCommand(verb: 'runs' | 'run', args: string[], io: CliIo): Promise<number> {
  return runClientVerb(verb === 'runs' ? runsVerb : runVerb, args, io);
}

function statuses(value: string | undefined): RunStatus[] {
  const names =
    value
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const bad = names.find((s) => !(RUN_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined) throw new UsageError(`unknown --status "${bad}" (one of ${RUN_STATUSES.join(', ')})`);
  return names as RunStatus[];
}
