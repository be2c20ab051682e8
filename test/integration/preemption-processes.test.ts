import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listProcessGroup } from '../../src/platform/proc-table.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'preempt-kernel.ts');
type Event = { event: string; at?: number; [field: string]: unknown };

/** A kernel process driven over stdin, its events read as JSON lines from stdout. */
class KernelProcess {
  readonly events: Event[] = [];
  readonly child: ChildProcess;
  private waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env },
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Event;
      this.events.push(event);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(event)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    onTestFinished(() => {
      this.child.kill('SIGKILL');
    });
  }

  waitFor(event: string, match: (e: Event) => boolean = () => true, timeoutMs = 20_000): Promise<Event> {
    const seen = this.events.find((e) => e.event === event && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${event}; saw ${this.events.map((e) => e.event).join(', ')}`)),
        timeoutMs,
      );
      this.waiters.push({ match: (e) => e.event === event && match(e), resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  sequence(names: string[]): string[] {
    return this.events
      .filter((e) => names.includes(e.event))
      .map((e) => `${e.event}${e.event === 'turn:started' && e.interrupted ? '(interrupted)' : ''}`);
  }
}

function submitFromAnotherProcess(db: string, id: string, kind: string, hold = false): Promise<Event> {
  const submitter = new KernelProcess(['submit', db, id, kind, ...(hold ? ['hold'] : [])]);
  return submitter.waitFor('submitted');
}

async function groupGone(pgid: number, timeoutMs = 3_000): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  let left = listProcessGroup(pgid);
  while (left.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = listProcessGroup(pgid);
  }
  return left;
}

function runStatus(db: string, idem: string): string | undefined {
  const conn = new Database(db, { readonly: true, timeout: 5_000 });
  try {
    return (conn.prepare('SELECT status FROM runs WHERE idempotency_key = ?').get(idem) as { status: string } | undefined)?.status;
  } finally {
    conn.close();
  }
}

async function ownerWithTurnInFlight() {
  const db = join(mkdtempSync(join(tmpdir(), 'hf-preempt-')), 'state.db');
  const owner = new KernelProcess(['serve', db]);
  await owner.waitFor('ready');
  owner.send('submit-work w1');
  const proc = await owner.waitFor('turn:process');
  const pgid = proc.pgid as number;
  // The watchdog, the agent child and its grandchild are all up before anything is preempted.
  const deadline = performance.now() + 5_000;
  while (listProcessGroup(pgid).length < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(listProcessGroup(pgid).length).toBeGreaterThanOrEqual(3);
  return { db, owner, pgid };
}

describe('preemption with real processes (execProvider children, SQLite, a second process)', () => {
  it('steal from another process interrupts the turn at once (poll set to a minute), kills its group, and resumes the session', async () => {
    const { db, owner, pgid } = await ownerWithTurnInFlight();
    const submitted = await submitFromAnotherProcess(db, 'u1', 'steal');
    const preempted = await owner.waitFor('turn:preempted');
    // Woken over the socket, not by the 60 s poll.
    expect((preempted.at as number) - (submitted.at as number)).toBeLessThan(2_000);
    await owner.waitFor('turn:aborted');
    expect(await groupGone(pgid)).toEqual([]);
    const done = await owner.waitFor('run:completed', (e) => String(e.result).startsWith('w1'));
    expect(done.result).toMatch(/^w1: \d+ lines$/);
    expect(owner.sequence(['run:interrupted', 'run:parked', 'run:completed', 'run:resumed', 'turn:started'])).toEqual([
      'turn:started',
      'run:interrupted',
      'run:parked',
      'run:completed',
      'run:resumed',
      'turn:started(interrupted)',
      'run:completed',
    ]);
    const turns = owner.events.filter((e) => e.event === 'turn:started');
    expect(turns[1]!.sessionId).toBe(turns[0]!.sessionId);
    const reissued = owner.events.filter((e) => e.event === 'turn:process').at(-1)!.pgid as number;
    expect(await groupGone(reissued)).toEqual([]);
    owner.send('stop');
    expect((await owner.exited).code).toBe(0);
  });

  it('abort-keep requeues the run; kernel stop() then interrupts its next turn and leaves nothing running', async () => {
    const { db, owner, pgid } = await ownerWithTurnInFlight();
    await submitFromAnotherProcess(db, 'u2', 'abort-keep');
    await owner.waitFor('run:requeued');
    expect(await groupGone(pgid)).toEqual([]);
    await owner.waitFor('run:completed'); // the urgent reply
    const second = await owner.waitFor('turn:process', (e) => e.pgid !== pgid);
    const turnStarts = owner.events.filter((e) => e.event === 'turn:started');
    expect(turnStarts.map((e) => e.interrupted)).toEqual([false, false]); // re-run, not a re-issue
    owner.send('stop');
    await owner.waitFor('stopped');
    expect((await owner.exited).code).toBe(0);
    expect(await groupGone(second.pgid as number)).toEqual([]);
    expect(runStatus(db, 'work-w1')).toBe('queued');
  });

  it('abort-drop ends the run cancelled and kills its group', async () => {
    const { db, owner, pgid } = await ownerWithTurnInFlight();
    await submitFromAnotherProcess(db, 'u3', 'abort-drop');
    const cancelled = await owner.waitFor('run:cancelled');
    expect(cancelled.error).toMatchObject({ code: 'preempted' });
    expect(await groupGone(pgid)).toEqual([]);
    await owner.waitFor('run:completed');
    expect(runStatus(db, 'work-w1')).toBe('cancelled');
    expect(runStatus(db, 'reply-u3')).toBe('completed');
    owner.send('stop');
    await owner.exited;
  });

  it('SIGKILL of the kernel mid-turn leaves no process of the turn group behind', async () => {
    const { db, owner, pgid } = await ownerWithTurnInFlight();
    owner.child.kill('SIGKILL');
    await owner.exited;
    expect(await groupGone(pgid)).toEqual([]);
    expect(runStatus(db, 'work-w1')).toBe('running'); // recovered by the next owner
  });

  it('a kernel killed while a run is parked restarts with the urgent burst first, then resumes the parked run from its frame (K8)', async () => {
    const { db, owner, pgid } = await ownerWithTurnInFlight();
    await submitFromAnotherProcess(db, 'u4', 'steal', true);
    await owner.waitFor('run:parked');
    await owner.waitFor('run:started', (e) => e.flow === 'reply');
    owner.child.kill('SIGKILL');
    await owner.exited;
    expect(await groupGone(pgid)).toEqual([]);
    expect(runStatus(db, 'work-w1')).toBe('waiting'); // parked: a `preempted` wait, claimable after the urgent burst

    writeFileSync(`${db}.release`, '');
    const restarted = new KernelProcess(['serve', db]);
    const done = await restarted.waitFor('run:completed', (e) => String(e.result).startsWith('w1'));
    expect(done.result).toMatch(/^w1: /);
    expect(restarted.sequence(['run:started', 'run:resumed', 'turn:started', 'run:completed'])).toEqual([
      'run:started',
      'run:completed',
      'run:started',
      'run:resumed',
      'turn:started(interrupted)',
      'run:completed',
    ]);
    expect(restarted.events.find((e) => e.event === 'run:started')!.flow).toBe('reply');
    expect(runStatus(db, 'reply-u4')).toBe('completed');
    restarted.send('stop');
    await restarted.exited;
  });

  it('a provider program that does not exist fails the run with a clear error and does not hold the key', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'hf-preempt-')), 'state.db');
    const owner = new KernelProcess(['serve', db]);
    await owner.waitFor('ready');
    owner.send('submit-work m1 broken');
    const failed = await owner.waitFor('run:failed');
    expect(failed.error).toMatchObject({ code: 'provider_not_found' });
    expect(String((failed.error as { message: string }).message)).toContain('/nonexistent/agent-cli');
    await owner.waitFor('owner:released');
    owner.send('stop');
    await owner.exited;
  });
});
