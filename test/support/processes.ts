// Real-process helpers for fault tests: start a TypeScript fixture as a node process, wait for a
// line it prints, signal it, wait for it to exit, read a SQLite file from outside, and tell
// whether a pid is still alive (a zombie counts as gone: PID 1 may be slow to reap).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { onTestFinished } from 'vitest';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface Fixture {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout has a line containing `text` (rejects if the process exits first). */
  line(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with how the process ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `test/fixtures/<name>` under tsx with `args` and extra `env`. The process is SIGKILLed when
 * the test finishes, whatever happened.
 */
export function startFixture(name: string, args: readonly string[], env: Record<string, string> = {}): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, name), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
      child.kill('SIGKILL');
    }
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited: () => ended,
    line: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`timed out waiting for "${text}" from ${name}; stdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        const check = () => {
          if (out.includes(text)) {
            clearTimeout(deadline);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        void ended.then(({ code, signal }) => {
          if (out.includes(text)) return;
          clearTimeout(deadline);
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) before printing "${text}"; stderr:\n${err}`));
        });
        check();
      }),
  };
}

/** Polls `check` every 20 ms until it holds; fails with `diagnose()` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, diagnose: () => string = () => '', timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}. ${diagnose()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a read-only query on a SQLite file from outside the process that writes it. */
export function query<T>(db: string, sql: string, ...params: unknown[]): T[] {
  if (!existsSync(db)) return [];
  const conn = new Database(db, { readonly: true, timeout: 5_000 });
  try {
    return conn.prepare(sql).all(...params) as T[];
  } finally {
    conn.close();
  }
}

/** True while a process with this pid exists and is not a zombie (state Z counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Lines of a log file, each split on spaces (empty when the file does not exist yet). */
export function logLines(file: string): string[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
}
