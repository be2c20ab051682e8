import type { HoldfastClient } from '../daemon/client/holdfast-client.js';
import { EXIT, type CliIo } from './cli-io.js';
import { reportFailure, UsageError } from './cli-errors.js';
import { clientTarget, openClient, parseVerbArgs, type ClientTarget, type OptionValues, type VerbOptions } from './client-options.js';

export interface VerbContext {
  readonly client: HoldfastClient;
  readonly io: CliIo;
  /** `--json` was given: the verb prints JSON (its usage says whether one object or JSON lines). */
  readonly json: boolean;
  readonly values: OptionValues;
  readonly positionals: string[];
}

/** A verb that works through a HoldfastClient, on `--db` or `--url` alike. */
export interface ClientVerb {
  /** As the user types it (`runs`, `journal compact`), for messages. */
  readonly name: string;
  /** The whole usage text, shown by `--help` and after a usage error. */
  readonly usage: string;
  readonly options: VerbOptions;
  readonly allowPositionals?: boolean;
  /** `read` verbs open a database read-only; `write` verbs open it for writing. */
  readonly access: 'read' | 'write';
  /** Checks the arguments before anything is opened (throws UsageError). */
  check?(values: OptionValues, positionals: readonly string[], target: ClientTarget): void;
  /** Runs the verb; returns its exit code. Errors thrown are reported by the runner. */
  run(ctx: VerbContext): Promise<number>;
}

/**
 * Runs a client verb: parses its arguments, answers `--help` (exit 0), reports usage errors
 * (exit 2, with the usage), opens the client on the target, runs the verb, reports a failure as
 * `exitCodeOf` says, and always closes the client.
 */
export async function runClientVerb(verb: ClientVerb, args: readonly string[], io: CliIo): Promise<number> {
  let json = args.includes('--json');
  let client: HoldfastClient | undefined;
  try {
    const { values, positionals } = parseVerbArgs(args, verb.options, verb.allowPositionals ?? false);
    json = values.json === true;
    if (values.help === true) {
      io.stdout(`${verb.usage}\n`);
      return EXIT.done;
    }
    const target = clientTarget(values, io);
    verb.check?.(values, positionals, target);
    client = openClient(target, verb.access, `holdfast ${verb.name}`);
    return await verb.run({ client, io, json, values, positionals });
  } catch (error) {
    if (error instanceof UsageError) return reportUsage(io, verb.name, verb.usage, error, json);
    return reportFailure(io, verb.name, error, json);
  } finally {
    await client?.close();
  }
}

/** A usage error: the message and the usage on stderr (or one JSON line with `--json`); exit 2. */
export function reportUsage(io: CliIo, name: string, usage: string, error: UsageError, json: boolean): number {
  io.stderr(
    json
      ? `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`
      : `holdfast ${name}: ${error.message}\n${usage}\n`,
  );
  return EXIT.usage;
}

/** Writes one JSON value as one line. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value)}\n`);
}
