// What the fleet tests share: kernel processes standing in for machines on one Postgres schema
// (test/fixtures/fleet/fleet-kernel.ts), the deduping receiver their effects reach, the logs they
// append, and reads of the schema from outside.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { timedLines } from '../../support/fixture-logs.js';
import { isAlive, startFixture, until, type Fixture } from '../../support/processes.js';
import { PG_TEST_URL } from '../../support/postgres.js';

export const FLEET_KERNEL = 'fleet/fleet-kernel.ts';

/** One line a fleet process logged. */
export interface LogLine {
  readonly pid: number;
  readonly at: number;
  readonly what: string;
  readonly data: Record<string, unknown>;
}

/** Every line the fleet processes appended under `dir`, each process's lines in append order. */
export function fleetLog(dir: string): LogLine[] {
  return readdirSync(dir)
    .filter((f) => /^\d+\.log$/.test(f))
    .flatMap((f) => {
      const pid = Number(f.slice(0, -4));
      return timedLines(join(dir, f)).map((l) => ({ pid, at: l.at, what: l.what, data: l.data }));
    });
}

/** The state letter of /proc/<pid>/stat ('T' once SIGSTOP took effect, '' when gone). */
export function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return '';
  }
}

/** A kernel process of the fleet, and what was done to it. */
export interface Member {
  readonly fixture: Fixture;
  readonly pid: number;
  state: 'running' | 'stopped' | 'killed' | 'exited';
}

/**
 * The kernel processes of one test on one schema. Every member logs to `dir`, connects with
 * application_name `app` (so a test can find its backends), and is SIGKILLed when the test ends.
 */
export class Fleet {
  readonly members: Member[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'hf-fleet-'));

  constructor(
    readonly schema: string,
    readonly app: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts a member; resolves once it printed `ready` (migrated and serving). */
  async start(env: Record<string, string> = {}): Promise<Member> {
    const fixture = startFixture(FLEET_KERNEL, [this.schema, this.dir], {
      PG_URL: PG_TEST_URL,
      APP: this.app,
      MARKERS: this.dir,
      ...this.env,
      ...env,
    });
    const member: Member = { fixture, pid: fixture.pid, state: 'running' };
    this.members.push(member);
    await fixture.line('ready', 60_000);
    return member;
  }

  live(): Member[] {
    return this.members.filter((m) => m.state === 'running' || m.state === 'stopped');
  }

  async kill(member: Member): Promise<void> {
    if (member.state === 'stopped') process.kill(member.pid, 'SIGCONT');
    member.fixture.child.kill('SIGKILL');
    await member.fixture.exited();
    member.state = 'killed';
  }

  async pause(member: Member): Promise<void> {
    member.state = 'stopped';
    process.kill(member.pid, 'SIGSTOP');
    await until('the process to be stopped', () => procState(member.pid) === 'T');
  }

  resume(member: Member): void {
    process.kill(member.pid, 'SIGCONT');
    member.state = 'running';
  }

  /** Orderly stop of every live member (SIGTERM: the kernel stops, the store closes); resolves with their exit codes. */
  async stopAll(): Promise<(number | null)[]> {
    const live = this.live();
    for (const m of live) {
      if (m.state === 'stopped') this.resume(m);
      m.fixture.child.kill('SIGTERM');
    }
    const codes = await Promise.all(live.map(async (m) => (await m.fixture.exited()).code));
    for (const m of live) m.state = 'exited';
    return codes;
  }

  log(): LogLine[] {
    return fleetLog(this.dir);
  }

  /** Stderr of every member, for failure messages. */
  stderr(): string {
    return this.members.map((m) => `stderr of ${m.pid} (${m.state}):\n${m.fixture.stderr().slice(-2_000)}`).join('\n');
  }
}

/** One POST the receiver got. */
export interface Delivery {
  readonly effectKey: string;
  readonly attempt: number;
  readonly epoch: number;
  readonly runId: string;
  readonly pid: number;
  /** Whether this delivery was the first of its effect key (the receiver acted on it). */
  readonly accepted: boolean;
  readonly receipt: string;
}

/**
 * The external system of the fleet tests: it keeps every delivery and acts on an effect key only
 * the first time (a repeat gets the first receipt back). Closed when the test ends.
 */
export async function dedupingReceiver(): Promise<{ url: string; deliveries: Delivery[]; receipts: Map<string, string> }> {
  const deliveries: Delivery[] = [];
  const receipts = new Map<string, string>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const sent = JSON.parse(body) as Omit<Delivery, 'accepted' | 'receipt'>;
      const accepted = !receipts.has(sent.effectKey);
      if (accepted) receipts.set(sent.effectKey, `receipt-${receipts.size + 1}`);
      const receipt = receipts.get(sent.effectKey)!;
      deliveries.push({ ...sent, accepted, receipt });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipt }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.keepAliveTimeout = 1_000;
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no TCP address');
  return { url: `http://127.0.0.1:${address.port}/effects`, deliveries, receipts };
}

/** The `hf_<tag>_` prefix of every NOTIFY channel of a schema (see notify-wake.ts). */
export function channelPrefix(schema: string): string {
  return `hf_${createHash('sha256').update(schema).digest('hex').slice(0, 8)}_`;
}

/** A pool on the test server for reads from outside the fleet, ended when the test ends. */
export function outsidePool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_TEST_URL, max: 2, application_name: 'fleet-test-observer' });
  pool.on('error', () => undefined);
  onTestFinished(() => pool.end());
  return pool;
}

/** Polls the async `check` every 50 ms until it holds; fails with `diagnose()` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, diagnose: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}. ${diagnose()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether a pid is gone (a zombie counts as gone). */
export const gone = (pid: number): boolean => !isAlive(pid);
