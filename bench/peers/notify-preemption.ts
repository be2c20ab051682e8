// Cross-process preemption through LISTEN/NOTIFY: process B (the owner) runs a long step on a key;
// process A (the submitter, another kernel on the same Postgres schema, standing in for another
// machine) records an urgent command for that key. Measured from the urgent enqueue's COMMIT in A
// to (a) the step's signal aborted in B and (b) the urgent run's first step in B. Timestamps are
// `performance.timeOrigin + performance.now()` in each process; the processes' clocks are compared
// with pings first and the offset is reported, not corrected.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PreemptKind } from '../../src/index.js';
import { now, sleep, within } from './unit.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const script = fileURLToPath(new URL('./notify-process.ts', import.meta.url));
const WARMUP = 3;
const SAMPLE_TIMEOUT_MS = 10_000;

type Line = Record<string, unknown>;

export interface NotifyPreemptionResult {
  preempt: PreemptKind;
  samples: number;
  /** Urgent commit in A → the long step's signal aborted in B. */
  abortMs: number[];
  /** Urgent commit in A → the urgent run's first step in B. */
  startMs: number[];
  /** Each process's clock minus this one's, from the ping with the shortest round trip. */
  clockOffsetMs: { owner: number; submitter: number };
}

/** A child process speaking one JSON object per line: answers in order, plus unasked `event` lines. */
class LineProcess {
  private readonly child: ChildProcess;
  private readonly waiting: ((line: Line) => void)[] = [];
  private readonly events: Line[] = [];
  private readonly eventWaiters = new Set<() => void>();
  private readonly exited: Promise<void>;
  readonly ready: Promise<void>;
  failure: string | undefined;

  constructor(role: 'owner' | 'submitter', url: string, schema: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, role, url, schema], { cwd: here, stdio: ['pipe', 'pipe', 'inherit'] });
    let onReady!: () => void;
    let onFatal!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => ((onReady = resolve), (onFatal = reject)));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        onFatal(new Error(`the ${role} process exited (code ${code}) before it was ready`));
        resolve();
      }),
    );
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      const line = JSON.parse(text) as Line;
      if (line.ready) onReady();
      else if (typeof line.fatal === 'string') onFatal(new Error(`${role}: ${line.fatal}`));
      else if (line.event === 'error') this.failure ??= `${role}: ${String(line.error)}`;
      else if (typeof line.event === 'string') {
        this.events.push(line);
        for (const wake of this.eventWaiters) wake();
      } else this.waiting.shift()?.(line);
    });
  }

  request(line: string): Promise<Line> {
    const reply = new Promise<Line>((resolve, reject) =>
      this.waiting.push((r) => (typeof r.error === 'string' ? reject(new Error(r.error)) : resolve(r))),
    );
    this.child.stdin!.write(`${line}\n`);
    return within(reply, SAMPLE_TIMEOUT_MS, `an answer to "${line}"`);
  }

  /** The first event (received so far or later) with this name and key. */
  event(name: string, key: string): Promise<Line> {
    const find = () => this.events.find((e) => e.event === name && e.key === key);
    const found = new Promise<Line>((resolve) => {
      const check = () => {
        const e = find();
        if (!e) return;
        this.eventWaiters.delete(check);
        resolve(e);
      };
      this.eventWaiters.add(check);
      check();
    });
    return within(found, SAMPLE_TIMEOUT_MS, `event ${name} for ${key}`);
  }

  /** This process's clock minus ours, from the ping with the shortest round trip. */
  async clockOffset(pings = 20): Promise<number> {
    let best = { offset: NaN, rtt: Infinity };
    for (let i = 0; i < pings; i++) {
      const sent = now();
      const reply = await this.request('ping');
      const received = now();
      if (received - sent < best.rtt) best = { offset: (reply.at as number) - (sent + received) / 2, rtt: received - sent };
    }
    return best.offset;
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function measureNotifyPreemption(
  url: string,
  schema: string,
  samples: number,
  preempt: PreemptKind,
): Promise<NotifyPreemptionResult> {
  const owner = new LineProcess('owner', url, schema);
  let submitter: LineProcess | undefined;
  try {
    await within(owner.ready, 60_000, 'the owner process to start');
    submitter = new LineProcess('submitter', url, schema);
    await within(submitter.ready, 60_000, 'the submitter process to start');
    const result: NotifyPreemptionResult = {
      preempt,
      samples,
      abortMs: [],
      startMs: [],
      clockOffsetMs: { owner: await owner.clockOffset(), submitter: await submitter.clockOffset() },
    };
    for (let i = 0; i < WARMUP + samples; i++) {
      const key = `notify-${process.pid}-${i}`;
      await owner.request(`long ${key}`);
      await sleep(5 + Math.random() * 20);
      const committed = (await submitter.request(`submit ${key} ${preempt}`)).at as number;
      const [aborted, urgent] = await Promise.all([owner.event('aborted', key), owner.event('urgent', key), owner.event('drained', key)]);
      const failure = owner.failure ?? submitter.failure;
      if (failure) throw new Error(failure);
      if (i < WARMUP) continue;
      result.abortMs.push((aborted.at as number) - committed);
      result.startMs.push((urgent.at as number) - committed);
    }
    return result;
  } finally {
    await submitter?.close();
    await owner.close();
  }
}
