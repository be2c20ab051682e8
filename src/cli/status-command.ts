import { EXIT, type CliIo } from './cli-io.js';
import { CLIENT_HELP } from './client-options.js';
import { printJson, runClientVerb, type ClientVerb } from './client-verb.js';
import { formatStatus } from './status-format.js';

const USAGE = `usage: holdfast status [--db PATH | --url URL] [--json]

Every key with live work: its owner, epoch and lease expiry, its mailbox (queued runs by
priority), the running run, parked runs and waiting runs with their wake time; then totals.
Read-only.
--json       one JSON object: {"source", "at", "keys": [...], "totals", "truncated"}
${CLIENT_HELP}
exit codes: 0 done, 1 failure, 2 usage error`;

const statusVerb: ClientVerb = {
  name: 'status',
  usage: USAGE,
  access: 'read',
  options: {},
  async run({ client, io, json }) {
    const status = await client.status();
    if (json) printJson(io, status);
    else io.stdout(formatStatus(status));
    return EXIT.done;
  },
};

/** `holdfast status`: what an operator looks at first. */
export async function runStatusCommand(args: string[], io: CliIo): Promise<number> {
  return runClientVerb(statusVerb, args, io);
}
