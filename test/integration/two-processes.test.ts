import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'shared-file-kernel.ts');

function start(
  db: string,
  log: string,
  from: number,
  to: number,
  env: Record<string, string> = {},
): { child: ChildProcess; submitted: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, db, log, String(from), String(to)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const submitted = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('submitted')) resolve();
    });
    child.once('exit', () => reject(new Error(`kernel process ${child.pid} exited before submitting`)));
  });
  return { child, submitted };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function until(what: string, check: () => boolean, diagnose: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; store state: ${diagnose()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const scenarios: { name: string; env: Record<string, string>; ttlMs: number }[] = [
  { name: 'the survivor recognises the dead owner on this host and takes over at once', env: {}, ttlMs: 5_000 },
  {
    name: 'owners on different hosts: the survivor takes over only after the lease TTL expires',
    env: { SEPARATE_HOSTS: '1', OWNER_TTL_MS: '1500' },
    ttlMs: 1_500,
  },
];

describe.each(scenarios)('two processes on one SQLite file', ({ name, env, ttlMs }) => {
  it(`200 commands over 10 keys run exactly once, never two at a time per key, and after a SIGKILL ${name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-two-'));
    const db = join(dir, 'state.db');
    const log = join(dir, 'runs.log');
    // Create the schema first so both processes open an initialised file.
    new Database(db).close();
    const procA = start(db, log, 0, 100, env);
    const procB = start(db, log, 100, 200, env);
    const [a, b] = [procA.child, procB.child];
    onTestFinished(() => {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    });
    // Every command is durably recorded before the kill is armed: nothing the test counts can be
    // lost by the client dying before it submitted.
    await Promise.all([procA.submitted, procB.submitted]);
    const count = (status: string): number => {
      try {
        const conn = new Database(db, { readonly: true, timeout: 5000 });
        try {
          return (conn.prepare('SELECT count(*) AS n FROM runs WHERE status = ?').get(status) as { n: number }).n;
        } finally {
          conn.close();
        }
      } catch {
        return 0;
      }
    };
    const diagnose = (): string => {
      const conn = new Database(db, { readonly: true, timeout: 5000 });
      try {
        const statuses = conn.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status').all();
        const owners = conn.prepare('SELECT * FROM owners').all();
        return JSON.stringify({ statuses, owners, a: a.pid, b: b.pid, bAlive: b.exitCode === null && b.signalCode === null });
      } finally {
        conn.close();
      }
    };
    await until('60 runs completed', () => count('completed') >= 60, diagnose);
    a.kill('SIGKILL');
    await exited(a);
    const killedAt = performance.now();
    const ownedByDead = (): number => {
      const conn = new Database(db, { readonly: true, timeout: 5000 });
      try {
        return (conn.prepare('SELECT count(*) AS n FROM owners WHERE owner_id LIKE ?').get(`%/${a.pid}/%`) as { n: number }).n;
      } finally {
        conn.close();
      }
    };
    const heldByDeadAtKill = ownedByDead();
    await until(
      'all 200 commands completed by the survivor',
      () => count('completed') === 200 && count('queued') + count('running') === 0 && count('failed') === 0,
      diagnose,
    );
    const tookOverAfterMs = performance.now() - killedAt;
    if (env.SEPARATE_HOSTS && heldByDeadAtKill > 0) {
      // Its keys could only pass over by expiry, and every take-over bumped the epoch.
      expect(tookOverAfterMs).toBeGreaterThanOrEqual(ttlMs * 0.5);
    }
    b.kill('SIGTERM');
    await exited(b);
    const conn2 = new Database(db, { readonly: true });
    const epochs = conn2.prepare('SELECT key, epoch FROM owners').all() as { key: string; epoch: number }[];
    conn2.close();
    expect(epochs.every((o) => o.epoch >= 1)).toBe(true);

    const conn = new Database(db, { readonly: true });
    const runs = conn.prepare('SELECT id, key, idempotency_key AS idem, status, attempts FROM runs').all() as {
      id: string;
      key: string;
      idem: string;
      status: string;
      attempts: number;
    }[];
    conn.close();
    expect(runs).toHaveLength(200);
    expect(new Set(runs.map((r) => r.idem)).size).toBe(200);

    // Executions per run, from the side-effect log. A run in flight in the killed process may have
    // started twice (its uncommitted step ran again); every other run started exactly once.
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const starts = new Map<string, number>();
    for (const [kind, id] of lines) if (kind === 'start') starts.set(id!, (starts.get(id!) ?? 0) + 1);
    expect(starts.size).toBe(200);
    const rerun = [...starts.values()].filter((n) => n > 1);
    expect(rerun.every((n) => n === 2)).toBe(true);
    expect(rerun.length).toBeLessThanOrEqual(4); // at most the killed process's concurrency
    const deadPid = String(a.pid);
    for (const [id, n] of starts) {
      if (n > 1) expect(lines.some(([kind, rid, , , pid]) => kind === 'start' && rid === id && pid === deadPid)).toBe(true);
    }

    // Never two runs of one key at the same time: per key, every execution interval ends before the
    // next begins. An execution cut short by the SIGKILL has no end; it ends at the kill at the latest,
    // and the survivor only takes the key after that.
    const byKey = new Map<string, { start: number; end: number; id: string }[]>();
    const open = new Map<string, { start: number; key: string; pid: string }>();
    for (const [kind, id, key, at, pid] of lines) {
      if (kind === 'start') open.set(`${id}:${pid}`, { start: Number(at), key: key!, pid: pid! });
      else {
        const begun = open.get(`${id}:${pid}`)!;
        open.delete(`${id}:${pid}`);
        if (!byKey.has(key!)) byKey.set(key!, []);
        byKey.get(key!)!.push({ start: begun.start, end: Number(at), id: id! });
      }
    }
    for (const [, unfinished] of open) expect(unfinished.pid).toBe(deadPid);
    for (const [key, intervals] of byKey) {
      intervals.sort((x, y) => x.start - y.start);
      for (let i = 1; i < intervals.length; i++) {
        expect(intervals[i]!.start, `key ${key}: ${intervals[i]!.id} started before ${intervals[i - 1]!.id} ended`).toBeGreaterThanOrEqual(
          intervals[i - 1]!.end,
        );
      }
    }
  }, 120_000);
});
