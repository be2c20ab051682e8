import { ProviderFailedError, ProviderNotFoundError } from '../errors.js';
import type { Json } from '../model/index.js';
import { spawnProcessGroup, type GroupExit } from '../platform/process-group-spawn.js';
import type { TurnIdentity, TurnRequest } from '../ports/provider.js';
import { jsonlCollector, TailBuffer, textCollector } from './exec-output.js';

/** What a turn's session looks like to `sessionArg` and to argv templates. */
export interface ExecSession {
  readonly sessionId: string;
  /** True when this turn re-issues one that was interrupted. */
  readonly interrupted: boolean;
  readonly turn: TurnIdentity;
}

export interface ExecProviderOptions {
  /**
   * Program and arguments, never run through a shell. Elements may contain the templates
   * `{sessionId}`, `{interrupted}` (`1` or `0`), `{runId}`, `{turnSeq}` and `{attempt}`.
   */
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** Variables added to (or, when `undefined`, removed from) the kernel's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Grace between SIGTERM and SIGKILL when a turn is aborted. Default 2000 ms. */
  readonly killGraceMs?: number;
  /** How stdout is read; see `exec-output.ts`. Default `text`. */
  readonly output?: 'text' | 'jsonl';
  /** Env var that carries the session id, or `false` for none. Default `HOLDFAST_SESSION_ID`. */
  readonly sessionEnv?: string | false;
  /**
   * Extra arguments for the session, appended to argv: a flag name (`'--session-id'` appends
   * `['--session-id', sessionId]`) or a function of the session (e.g. `--resume <id>` only when
   * `interrupted`).
   */
  readonly sessionArg?: string | ((session: ExecSession) => readonly string[]);
  /** Called with each turn's process group id (in addition to `TurnRequest.onProcessGroup`). */
  readonly onProcessGroup?: (pgid: number, turn: TurnIdentity) => void;
  /** How much of stderr's end is kept for error messages. Default 4096 characters. */
  readonly stderrTailChars?: number;
}

/** What `execProvider` returns: a provider whose turns are child processes. */
export interface ExecProvider {
  runTurn(request: TurnRequest): Promise<Json>;
}

/**
 * A provider that runs one child process per turn, in its own process group.
 *
 * - The turn's input goes to stdin (a string as-is, any other JSON as one JSON line), then stdin is
 *   closed. stdout becomes `text` or `json` chunks and the result (see `output`); stderr becomes
 *   `stderr` chunks.
 * - The child sees `HOLDFAST_SESSION_ID` (see `sessionEnv`), `HOLDFAST_TURN_INTERRUPTED=1` when the
 *   turn re-issues an interrupted one, and `HOLDFAST_RUN_ID`, `HOLDFAST_TURN_SEQ`,
 *   `HOLDFAST_TURN_ATTEMPT`.
 * - When the program exits, anything it left running in its group is killed before the turn
 *   settles. Exit 0 resolves with the result; any other end rejects with `provider_failed`
 *   (program, exit code or signal, stderr tail); a program that does not exist rejects with
 *   `provider_not_found`.
 * - On abort: the whole group gets SIGTERM, then SIGKILL after `killGraceMs`, and the turn rejects
 *   with the signal's reason only once no process of the group is left. Output arriving after the
 *   abort is not streamed. If `onChunk` throws, the group is killed the same way and the turn
 *   rejects with that error.
 * - If the kernel process dies (even by SIGKILL), the group watchdog kills the group.
 */
export function execProvider(options: ExecProviderOptions): ExecProvider {
  const [program] = options.argv;
  if (program === undefined || program === '') throw new RangeError('execProvider: argv must name a program');
  const sessionEnv = options.sessionEnv ?? 'HOLDFAST_SESSION_ID';
  return {
    runTurn: (request) => runExecTurn(options, sessionEnv, request),
  };
}

async function runExecTurn(options: ExecProviderOptions, sessionEnv: string | false, request: TurnRequest): Promise<Json> {
  const { signal } = request;
  if (signal.aborted) throw signal.reason;
  const session: ExecSession = { sessionId: request.sessionId, interrupted: request.interrupted, turn: request.turn };
  const argv = buildArgv(options, session);
  const proc = spawnProcessGroup({
    argv,
    cwd: options.cwd,
    env: buildEnv(options, sessionEnv, session),
    killGraceMs: options.killGraceMs,
  });
  if (proc.pgid !== undefined) {
    options.onProcessGroup?.(proc.pgid, request.turn);
    request.onProcessGroup?.(proc.pgid);
  }

  let aborted = false;
  let killed: Promise<boolean> | undefined;
  let chunkError: { error: unknown } | undefined;
  const emit = (chunk: Parameters<TurnRequest['onChunk']>[0]) => {
    if (aborted || chunkError) return;
    try {
      request.onChunk(chunk);
    } catch (error) {
      // A throwing consumer fails the turn (after the group is gone) instead of crashing the
      // process from inside a stream callback.
      chunkError = { error };
      killed = proc.kill(options.killGraceMs);
    }
  };
  const stdout = options.output === 'jsonl' ? jsonlCollector(emit) : textCollector(emit);
  const stderrTail = new TailBuffer(options.stderrTailChars ?? 4096);
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (text: string) => stdout.push(text));
  proc.stdout.on('end', () => stdout.end());
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (text: string) => {
    stderrTail.push(text);
    emit({ kind: 'stderr', data: text });
  });
  // A program that exits without reading stdin makes our write fail with EPIPE; its exit status
  // says what happened, so the write error itself carries nothing.
  proc.stdin.on('error', () => {});
  proc.stdin.end(typeof request.input === 'string' ? request.input : `${JSON.stringify(request.input)}\n`);

  const onAbort = () => {
    aborted = true;
    killed = proc.kill(options.killGraceMs);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const exit = await proc.finished;
    if (killed !== undefined) {
      await killed;
      throw aborted ? signal.reason : chunkError?.error;
    }
    return settle(exit, argv, stdout.result(), stderrTail.toString());
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function settle(exit: GroupExit, argv: readonly string[], result: Json, stderrTail: string): Json {
  const program = argv[0] ?? '';
  if (exit.kind === 'spawn_failed') {
    if (exit.errno === 'ENOENT') throw new ProviderNotFoundError(program);
    throw new ProviderFailedError(`provider program "${program}" could not be started (${exit.errno}): ${exit.message}`);
  }
  if (exit.code === 0) return result;
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const tail = stderrTail.trim();
  throw new ProviderFailedError(`provider program "${program}" ${how}${tail ? `; stderr ends with:\n${tail}` : ' (no stderr output)'}`);
}

function buildArgv(options: ExecProviderOptions, session: ExecSession): string[] {
  const vars: Record<string, string> = {
    sessionId: session.sessionId,
    interrupted: session.interrupted ? '1' : '0',
    runId: session.turn.runId,
    turnSeq: String(session.turn.turnSeq),
    attempt: String(session.turn.attempt),
  };
  const argv = options.argv.map((arg) =>
    arg.replace(/\{(sessionId|interrupted|runId|turnSeq|attempt)\}/g, (_, name: string) => vars[name] ?? ''),
  );
  const extra = options.sessionArg;
  if (typeof extra === 'string') argv.push(extra, session.sessionId);
  else if (extra !== undefined) argv.push(...extra(session));
  return argv;
}

function buildEnv(options: ExecProviderOptions, sessionEnv: string | false, session: ExecSession): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  if (sessionEnv !== false) env[sessionEnv] = session.sessionId;
  if (session.interrupted) env['HOLDFAST_TURN_INTERRUPTED'] = '1';
  else delete env['HOLDFAST_TURN_INTERRUPTED'];
  env['HOLDFAST_RUN_ID'] = session.turn.runId;
  env['HOLDFAST_TURN_SEQ'] = String(session.turn.turnSeq);
  env['HOLDFAST_TURN_ATTEMPT'] = String(session.turn.attempt);
  return env;
}
