import { EXIT, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';
import { CLIENT_HELP, text, type OptionValues } from './client-options.js';
import { printJson, reportUsage, runClientVerb, type ClientVerb } from './client-verb.js';
import { parseDuration } from './duration.js';

const USAGE = `usage: holdfast journal compact [--older-than DURATION] [--db PATH | --url URL] [--json]

Prunes the step journal of runs that ended more than DURATION ago (default 7d; 0 for every
ended run): each keeps its summary (status, result, error, timings) and its idempotence key, so
resubmitting the key still returns it. Runs a few at a time, so a running kernel's commits
wait only briefly. Crash-safe: a run is compacted whole or not at all; killed part way, what was
compacted stays compacted and running it again takes the rest.
DURATION     milliseconds, or a number with ms, s, m, h or d
--json       one JSON object: {"runs", "steps", "bytes"}
${CLIENT_HELP}
exit codes: 0 done (even when nothing was old enough), 1 failure, 2 usage error`;

function olderThan(values: OptionValues): number {
  const given = text(values, 'older-than') ?? '7d';
  const ms = parseDuration(given);
  if (ms === undefined) throw new UsageError(`--older-than must be a duration like 30s, 12h or 7d, got "${given}"`);
  return ms;
}

const compactVerb: ClientVerb = {
  name: 'journal compact',
  usage: USAGE,
  access: 'write',
  options: { 'older-than': { type: 'string' } },
  check: (values) => void olderThan(values),
  async run({ client, io, json, values }) {
    const totals = await client.compactJournal(olderThan(values));
    if (json) printJson(io, totals);
    else io.stdout(`compacted ${totals.runs} runs: ${totals.steps} journal entries, ${totals.bytes} bytes\n`);
    return EXIT.done;
  },
};

/** `holdfast journal compact`: retention on demand (D5). */
export async function runJournalCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(`${USAGE}\n`);
    return EXIT.done;
  }
  if (sub !== 'compact') {
    const what = sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${sub}"`;
    return reportUsage(io, 'journal', USAGE, new UsageError(`${what} (compact)`), args.includes('--json'));
  }
  return runClientVerb(compactVerb, rest, io);
}
