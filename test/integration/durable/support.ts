// What the durable-execution process tests share: fresh files, reading the fixtures' event logs
// and receiver files, ending fixture processes, and a diagnosis for failed waits.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventLines, payload, type EventLine } from '../../support/fixture-logs.js';
import { query, type Fixture } from '../../support/processes.js';

export { eventLines, payload, type EventLine };

/** A fresh directory with the usual file names in it. */
export function freshFiles(prefix: string): { dir: string; db: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), `hf-durable-${prefix}-`));
  return { dir, db: join(dir, 'state.db'), log: join(dir, 'events.log') };
}

/** Event lines of one kind (the fixture's first word), optionally of one process. */
export function linesOf(log: string, kind: string, pid?: number): EventLine[] {
  return eventLines(log).filter((e) => e.kind === kind && (pid === undefined || e.pid === pid));
}

/** Payloads of logged kernel events of one name. */
export function eventsOf<T>(log: string, name: string, pid?: number): T[] {
  return linesOf(log, name, pid).map((e) => payload<T>(e));
}

/** The non-empty lines of a receiver file, each split on spaces. */
export function receiverLines(file: string): string[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
}

/** How many lines of `lines` start with each first field. */
export function countByFirst(lines: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [first] of lines) counts.set(first ?? '', (counts.get(first ?? '') ?? 0) + 1);
  return counts;
}

/** SIGKILLs a fixture (a no-op if it is gone already) and waits for its exit. */
export async function kill(fixture: Fixture): Promise<void> {
  if (fixture.child.exitCode === null && fixture.child.signalCode === null) fixture.child.kill('SIGKILL');
  await fixture.exited();
}

/** SIGTERMs a fixture (orderly stop) and resolves with its exit code. */
export async function terminate(fixture: Fixture): Promise<number | null> {
  if (fixture.child.exitCode !== null || fixture.child.signalCode !== null) return fixture.child.exitCode;
  fixture.child.kill('SIGTERM');
  return (await fixture.exited()).code;
}

/** Resolves after `ms` (a test-side pause, never an assertion). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Runs, waits and effects of the file, the log and the fixtures' stderr, for failure messages. */
export function diagnosis(db: string, log: string, fixtures: readonly Fixture[]): () => string {
  return () => {
    const table = (sql: string) => JSON.stringify(query(db, sql));
    const logText = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-60).join('\n') : '(no log)';
    return (
      `\nruns: ${table('SELECT id, key, flow, status, attempts, parent_id, error_code, result FROM runs ORDER BY seq')}` +
      `\nwaits: ${table('SELECT * FROM waits')}\neffects: ${table('SELECT key, status, attempts, artifact FROM effects')}` +
      `\nlog (last 60 lines):\n${logText}\n` +
      fixtures.map((f) => `stderr of ${f.pid}:\n${f.stderr()}`).join('\n')
    );
  };
}
