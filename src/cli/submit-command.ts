import { PREEMPT_KINDS, PRIORITIES, type Json, type PreemptKind, type Priority } from '../model/index.js';
import type { SubmitOptions } from '../runtime/submit-command.js';
import { EXIT, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';
import { CLIENT_HELP, text, type OptionValues } from './client-options.js';
import { printJson, runClientVerb, type ClientVerb } from './client-verb.js';
import { parseDuration } from './duration.js';

const USAGE = `usage: holdfast submit --key KEY --flow FLOW [--input JSON] [--priority urgent|normal|background]
                       [--preempt steal|abort-keep|abort-drop] [--idempotency-key ID]
                       [--deadline DURATION] [--db PATH | --url URL] [--json]

Records one command durably; the process that owns KEY runs it (holdfast serve, or a kernel on
the same database, told at once for urgent commands, at its next poll otherwise). Submitting the
same --idempotency-key again returns the first run and runs nothing twice; killed before the
answer, the command may or may not be recorded, and submitting again with the same key is safe.
On --db the flow name is not checked (the owning process registers its flows); over --url the
daemon rejects a flow it does not have.
--input      the command's input as JSON (default null)
--preempt    only with --priority urgent: what happens to a run in flight for KEY (default steal)
--deadline   the run fails with code "deadline" if it has not ended this long after the submit
             (milliseconds, or a number with ms, s, m, h or d)
--json       one JSON object: {"runId", "created"} (created false: the key named an earlier run)
${CLIENT_HELP}
exit codes: 0 done, 1 failure, 2 usage error (or input the kernel rejects), 3 refused: the
idempotence key names a different command`;

function required(values: OptionValues, name: string): string {
  const value = text(values, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

function command(values: OptionValues): SubmitOptions {
  const inputText = text(values, 'input');
  let input: Json = null;
  if (inputText !== undefined) {
    try {
      input = JSON.parse(inputText) as Json;
    } catch (error) {
      throw new UsageError(`--input must be JSON (${(error as Error).message}), got ${JSON.stringify(inputText)}`);
    }
  }
  const priority = text(values, 'priority');
  if (priority !== undefined && !(PRIORITIES as readonly string[]).includes(priority)) {
    throw new UsageError(`--priority must be one of ${PRIORITIES.join(', ')}, got "${priority}"`);
  }
  const preempt = text(values, 'preempt');
  if (preempt !== undefined && !(PREEMPT_KINDS as readonly string[]).includes(preempt)) {
    throw new UsageError(`--preempt must be one of ${PREEMPT_KINDS.join(', ')}, got "${preempt}"`);
  }
  if (preempt !== undefined && priority !== 'urgent') throw new UsageError('--preempt applies to --priority urgent only');
  const deadline = text(values, 'deadline');
  const deadlineMs = deadline === undefined ? undefined : parseDuration(deadline);
  if (deadline !== undefined && (deadlineMs === undefined || deadlineMs <= 0)) {
    throw new UsageError(`--deadline must be a positive duration like 30s, 15m or 2h, got "${deadline}"`);
  }
  const idempotencyKey = text(values, 'idempotency-key');
  if (idempotencyKey !== undefined && idempotencyKey === '') throw new UsageError('--idempotency-key is empty');
  return {
    key: required(values, 'key'),
    flow: required(values, 'flow'),
    input,
    ...(priority === undefined ? {} : { priority: priority as Priority }),
    ...(preempt === undefined ? {} : { preempt: preempt as PreemptKind }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(deadlineMs === undefined ? {} : { deadlineMs: Math.round(deadlineMs) }),
  };
}

const submitVerb: ClientVerb = {
  name: 'submit',
  usage: USAGE,
  access: 'write',
  options: {
    key: { type: 'string' },
    flow: { type: 'string' },
    input: { type: 'string' },
    priority: { type: 'string' },
    preempt: { type: 'string' },
    'idempotency-key': { type: 'string' },
    deadline: { type: 'string' },
  },
  check: (values) => void command(values),
  async run({ client, io, json, values }) {
    const accepted = await client.submit(command(values));
    if (json) printJson(io, accepted);
    else io.stdout(`${accepted.runId} ${accepted.created ? 'queued' : 'already submitted (the idempotence key names it)'}\n`);
    return EXIT.done;
  },
};

/** `holdfast submit`: one command for one key. */
export async function runSubmitCommand(args: string[], io: CliIo): Promise<number> {
  return runClientVerb(submitVerb, args, io);
}
