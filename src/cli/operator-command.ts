import type { CancelMode } from '../model/index.js';
import { EXIT, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';
import { CLIENT_HELP, text, type OptionValues } from './client-options.js';
import { printJson, runClientVerb, type ClientVerb } from './client-verb.js';

const USAGE = `usage: holdfast retry RUN_ID [--db PATH | --url URL] [--json]
       holdfast cancel RUN_ID [--mode abort-drop|abort-keep] [--db PATH | --url URL] [--json]

retry   re-opens a failed or cancelled run: it is queued again and resumes from its last
        committed step; its idempotence key keeps naming it
cancel  asks the owner to stop a queued or running run: abort-drop (default) ends it cancelled,
        abort-keep interrupts it and queues it again
Both are recorded durably first, then the owning process is told (over its wake channel, or by
the daemon behind --url); killed before the answer, the request may or may not be recorded, and
asking again is safe.
--json       one JSON object: {"runId", "status"} (the full run id, its status after the request)
${CLIENT_HELP}
exit codes: 0 done, 1 failure, 2 usage error, 3 no such run (or an ambiguous prefix), or the run
cannot be retried`;

function checkArgs(verb: 'retry' | 'cancel', values: OptionValues, positionals: readonly string[]): void {
  if (positionals.length !== 1) throw new UsageError('give exactly one RUN_ID (or a unique prefix of one)');
  if (verb === 'retry' && values.mode !== undefined) throw new UsageError('--mode applies to cancel only');
  cancelMode(values);
}

function cancelMode(values: OptionValues): CancelMode {
  const mode = text(values, 'mode') ?? 'abort-drop';
  if (mode !== 'abort-drop' && mode !== 'abort-keep') throw new UsageError(`--mode must be abort-drop or abort-keep, got "${mode}"`);
  return mode;
}

const verbs: Record<'retry' | 'cancel', ClientVerb> = {
  retry: {
    name: 'retry',
    usage: USAGE,
    access: 'write',
    options: { mode: { type: 'string' } },
    allowPositionals: true,
    check: (values, positionals) => checkArgs('retry', values, positionals),
    async run({ client, io, json, positionals }) {
      const outcome = await client.retry(positionals[0]!);
      if (json) printJson(io, outcome);
      else io.stdout(`${outcome.runId} ${outcome.status}\n`);
      return EXIT.done;
    },
  },
  cancel: {
    name: 'cancel',
    usage: USAGE,
    access: 'write',
    options: { mode: { type: 'string' } },
    allowPositionals: true,
    check: (values, positionals) => checkArgs('cancel', values, positionals),
    async run({ client, io, json, values, positionals }) {
      const outcome = await client.cancel(positionals[0]!, cancelMode(values));
      if (json) printJson(io, outcome);
      else io.stdout(`${outcome.runId} ${outcome.status}\n`);
      return EXIT.done;
    },
  },
};

/**
 * `holdfast retry` and `holdfast cancel`: operator actions on one run. On `--db`, through a kernel
 * that is never started (a pure client): it records the request and tells the owning process over
 * its wake channel. Refuses to create a database that does not exist.
 */
export async function runOperatorCommand(verb: 'retry' | 'cancel', args: string[], io: CliIo): Promise<number> {
  return runClientVerb(verbs[verb], args, io);
}
