import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'crash-kernel.ts');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runKernel(
  db: string,
  effects: string,
  ids: string[],
  opts: { killAt?: string; killAfterMs?: number; delayMs?: number } = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, db, effects, String(opts.delayMs ?? 0), ids.join(',')], {
      env: { ...process.env, KILL_AT: opts.killAt ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.killAfterMs !== undefined && stdout.includes('submitted') && !child.killed) {
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
        child.once('exit', () => clearTimeout(timer));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** How many times each "<id> step-N" side effect happened. */
function effectCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Step names committed per command id, read straight from the database file. */
function committedSteps(db: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (!existsSync(db)) return out;
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.prepare(`SELECT r.idempotency_key AS idem, s.name AS name FROM steps s JOIN runs r ON r.seq = s.run_seq`).all() as {
      idem: string;
      name: string;
    }[];
    for (const row of rows) {
      const id = row.idem.replace(/^cmd-/, '');
      if (!out.has(id)) out.set(id, new Set());
      out.get(id)!.add(row.name);
    }
  } catch {
    // The kill may land before the schema exists: nothing committed.
  } finally {
    conn.close();
  }
  return out;
}

function freshFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'hf-crash-'));
  return { db: join(dir, 'state.db'), effects: join(dir, 'effects.log') };
}

/** After recovery: every command completed, committed steps ran exactly once, others at most twice. */
function checkAfterRecovery(ids: string[], effects: string, committedAtKill: Map<string, Set<string>>, finalOut: string) {
  const counts = effectCounts(effects);
  for (const id of ids) {
    for (let i = 1; i <= 5; i++) {
      const n = counts.get(`${id} step-${i}`) ?? 0;
      if (committedAtKill.get(id)?.has(`step-${i}`)) expect(n, `${id} step-${i} was committed before the kill`).toBe(1);
      else expect(n, `${id} step-${i}`).toBeGreaterThanOrEqual(1);
      expect(n, `${id} step-${i} ran more than once after the in-flight one`).toBeLessThanOrEqual(2);
    }
  }
  const line = finalOut.split('\n').find((l) => l.startsWith('results '));
  expect(line, 'the restarted kernel printed results').toBeDefined();
  const results = JSON.parse(line!.slice('results '.length)) as string[];
  expect(results).toEqual(ids.map((id) => [1, 2, 3, 4, 5].map((i) => `${id}:${i}`).join(',')));
}

describe('crash recovery with real SIGKILL', () => {
  const points: [string, (c: Map<string, number>) => void][] = [
    [
      'inflight:3',
      (c) => {
        expect([1, 2, 4, 5].map((i) => c.get(`a1 step-${i}`))).toEqual([1, 1, 1, 1]);
        expect(c.get('a1 step-3')).toBe(2); // the in-flight step ran again: at-least-once
      },
    ],
    [
      'inflight:1',
      (c) => {
        expect(c.get('a1 step-1')).toBe(2);
        expect([2, 3, 4, 5].map((i) => c.get(`a1 step-${i}`))).toEqual([1, 1, 1, 1]);
      },
    ],
    ['committed:2', (c) => expect([1, 2, 3, 4, 5].map((i) => c.get(`a1 step-${i}`))).toEqual([1, 1, 1, 1, 1])],
    ['committed:5', (c) => expect([1, 2, 3, 4, 5].map((i) => c.get(`a1 step-${i}`))).toEqual([1, 1, 1, 1, 1])],
  ];

  for (const [killAt, check] of points) {
    it(`a run SIGKILLed at ${killAt} resumes from its last committed step`, async () => {
      const { db, effects } = freshFiles();
      const crashed = await runKernel(db, effects, ['a1'], { killAt });
      expect(crashed.signal).toBe('SIGKILL');
      const committed = committedSteps(db);
      const restarted = await runKernel(db, effects, ['a1']);
      expect(restarted.code, restarted.stderr).toBe(0);
      check(effectCounts(effects));
      checkAfterRecovery(['a1'], effects, committed, restarted.stdout);
    });
  }

  it('50 random kill instants: zero lost commands, zero committed steps re-run', async () => {
    const ids = ['a1', 'a2', 'b1'];
    const rounds = 50;
    let killedMidway = 0;
    const runRound = async (round: number) => {
      const { db, effects } = freshFiles();
      // Steps take ~2 ms; the kill lands anywhere from before the first commit to after the last.
      const crashed = await runKernel(db, effects, ids, { delayMs: 2, killAfterMs: (round * 7) % 45 });
      const committed = committedSteps(db);
      const total = [...committed.values()].reduce((n, s) => n + s.size, 0);
      if (crashed.signal === 'SIGKILL' && total > 0 && total < ids.length * 5) killedMidway++;
      const restarted = await runKernel(db, effects, ids);
      expect(restarted.code, restarted.stderr).toBe(0);
      checkAfterRecovery(ids, effects, committed, restarted.stdout);
    };
    for (let round = 0; round < rounds; round += 2) await Promise.all([runRound(round), runRound(round + 1)]);
    // The kills must actually have landed mid-run for the test to mean something.
    expect(killedMidway).toBeGreaterThan(rounds / 3);
  }, 240_000);
});
