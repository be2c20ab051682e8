import type { EffectStatus } from '../model/index.js';
import { EXIT, type CliIo } from './cli-io.js';
import { UsageError } from './cli-errors.js';
import { CLIENT_HELP, positiveInteger, text } from './client-options.js';
import { runClientVerb, type ClientVerb } from './client-verb.js';
import { formatEffect } from './run-format.js';

const USAGE = `usage: holdfast outbox [--status owed|failed|delivered|all] [--limit N] [--db PATH | --url URL] [--json]

Lists the outbox: effects claimed and not yet recorded (owed: emitted or about to be, a crash
re-emits them with the same key) and effects whose last emit failed (with their next attempt).
Read-only.
--status     owed (default: claimed and failed), failed, delivered, or all
--json       JSON lines: one effect object per line
${CLIENT_HELP}
exit codes: 0 done (even when the outbox is empty), 1 failure, 2 usage error`;

const STATUSES: Record<string, readonly EffectStatus[]> = {
  owed: ['claimed', 'failed'],
  failed: ['failed'],
  delivered: ['delivered'],
  all: [],
};

function statuses(name: string): readonly EffectStatus[] {
  if (!Object.hasOwn(STATUSES, name)) throw new UsageError(`--status must be owed, failed, delivered or all, got "${name}"`);
  return STATUSES[name]!;
}

const outboxVerb: ClientVerb = {
  name: 'outbox',
  usage: USAGE,
  access: 'read',
  options: { status: { type: 'string' }, limit: { type: 'string' } },
  check(values) {
    statuses(text(values, 'status') ?? 'owed');
    positiveInteger(values, 'limit', 100);
  },
  async run({ client, io, json, values }) {
    const effects = await client.outbox({
      status: statuses(text(values, 'status') ?? 'owed'),
      limit: positiveInteger(values, 'limit', 100),
    });
    for (const effect of effects) io.stdout(json ? `${JSON.stringify(effect)}\n` : `${formatEffect(effect)}\n`);
    return EXIT.done;
  },
};

/** `holdfast outbox`: read-only; never creates a database. */
export async function runOutboxCommand(args: string[], io: CliIo): Promise<number> {
  return runClientVerb(outboxVerb, args, io);
}
