import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { isProcessGroupAlive, killProcessGroup } from './process-group.js';
import { lineReader } from './line-reader.js';
import { platformScript } from './shipped-file.js';

/** How a process group's main program ended. */
export type GroupExit =
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  /** The program could not be started (`errno` is e.g. `ENOENT`, `EACCES`). Nothing was left running. */
  | { readonly kind: 'spawn_failed'; readonly errno: string; readonly message: string };

export interface SpawnGroupOptions {
  /** Program and arguments. Never interpreted by a shell. */
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** The complete environment of the child (not merged with this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** SIGTERM → SIGKILL grace used when reaping what the program left behind. Default 2000 ms. */
  readonly killGraceMs?: number;
}

/** A program running as the leader-side of its own process group, under the group watchdog. */
export interface GroupedProcess {
  /** The process group id (the watchdog's pid). Undefined when the watchdog could not start. */
  readonly pgid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Settles once the program has ended, every process left in its group has been killed
   * (SIGTERM, SIGKILL after the grace) and all output has been read. Never rejects.
   */
  readonly finished: Promise<GroupExit>;
  /**
   * Kills the whole group (SIGTERM, then SIGKILL after `graceMs`) and resolves once no live
   * process of it remains (`false` if something survived SIGKILL; see `killProcessGroup`).
   */
  kill(graceMs?: number): Promise<boolean>;
}

/**
 * Starts `argv` in a new process group through the group watchdog (`group-watchdog.js`), which
 * SIGKILLs the group if this process dies, even by SIGKILL: the watchdog holds one end of a socket
 * whose other end only this process holds, and the OS closes it when this process exits.
 *
 * stdin/stdout/stderr are pipes to this process, shared directly with the program.
 */
export function spawnProcessGroup(options: SpawnGroupOptions): GroupedProcess {
  const [program] = options.argv;
  if (program === undefined || program === '') throw new RangeError('argv must name a program');
  const graceMs = options.killGraceMs ?? 2000;
  const child = spawn(process.execPath, [watchdogScript(), ...options.argv], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  const lifeline = child.stdio[3] as Readable;
  let report: GroupExit | undefined;
  const reports = lineReader((line) => (report = readReport(line) ?? report));
  lifeline.setEncoding('utf8');
  lifeline.on('data', (text: string) => reports.push(text));
  lifeline.on('error', () => {}); // EOF/reset when the watchdog dies; the exit status says how.

  let reaped: Promise<unknown> = Promise.resolve();
  let killing: Promise<boolean> | undefined;
  const finished = new Promise<GroupExit>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      // The watchdog itself did not start: node missing, or a cwd that does not exist.
      const cwdMissing = options.cwd !== undefined && !existsSync(options.cwd);
      resolve({
        kind: 'spawn_failed',
        errno: cwdMissing ? 'ENOCWD' : (err.code ?? 'UNKNOWN'),
        message: cwdMissing ? `working directory ${options.cwd} does not exist` : err.message,
      });
    });
    child.once('exit', () => {
      // The program has ended; anything it left in its group goes too.
      if (pgid !== undefined && isProcessGroupAlive(pgid)) reaped = killProcessGroup(pgid, { graceMs });
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      void Promise.all([reaped, killing]).then(() => resolve(report ?? { kind: 'exited', code, signal }));
    });
  });
  return {
    pgid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    finished,
    kill(killGrace = graceMs) {
      if (pgid === undefined) return Promise.resolve(true);
      killing ??= killProcessGroup(pgid, { graceMs: killGrace });
      return killing;
    },
  };
}

function readReport(line: string): GroupExit | undefined {
  let msg: { event?: string; code?: unknown; signal?: unknown; message?: unknown };
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (msg.event === 'exit') {
    return {
      kind: 'exited',
      code: typeof msg.code === 'number' ? msg.code : null,
      signal: typeof msg.signal === 'string' ? (msg.signal as NodeJS.Signals) : null,
    };
  }
  if (msg.event === 'spawn_error') {
    return { kind: 'spawn_failed', errno: String(msg.code), message: String(msg.message) };
  }
  return undefined;
}

/** The watchdog script (see platformScript). */
export function watchdogScript(): string {
  return platformScript('group-watchdog.js');
}
