import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HoldfastError } from '../../src/errors.js';
import type { Json } from '../../src/model/index.js';
import { isDeadState, listProcessGroup, parseProcStat } from '../../src/platform/proc-table.js';
import type { ProviderChunk, TurnRequest } from '../../src/ports/provider.js';
import { execProvider } from '../../src/providers/exec-provider.js';

const node = process.execPath;
const streamingChild = fileURLToPath(new URL('../fixtures/streaming-child.js', import.meta.url));
const execParent = fileURLToPath(new URL('../fixtures/exec-parent.ts', import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** A turn request that records its chunks and process group; `until` awaits streamed text. */
function turnRequest(overrides: Partial<TurnRequest> = {}) {
  const chunks: ProviderChunk[] = [];
  const pgids: number[] = [];
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const request: TurnRequest = {
    turn: { runId: 'run-1', turnSeq: 3, attempt: 1, epoch: 7 },
    input: 'hello',
    sessionId: 'sess-42',
    interrupted: false,
    signal: new AbortController().signal,
    onChunk: (chunk) => {
      chunks.push(chunk);
      if (chunk.kind === 'text' && typeof chunk.data === 'string') text += chunk.data;
      for (const w of [...waiters]) {
        const m = text.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    },
    onProcessGroup: (pgid) => pgids.push(pgid),
    ...overrides,
  };
  const until = (re: RegExp, timeoutMs = 5000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const m = text.match(re);
      if (m) return resolve(m);
      const timer = setTimeout(() => reject(new Error(`no output matching ${re} within ${timeoutMs} ms; got: ${text}`)), timeoutMs);
      waiters.push({ re, resolve: (match) => (clearTimeout(timer), resolve(match)) });
    });
  return { request, chunks, pgids, until, text: () => text };
}

function isPidAlive(pid: number): boolean {
  try {
    const entry = parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return entry !== undefined && !isDeadState(entry.state);
  } catch {
    return false;
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the turn to reject');
    },
    (err: unknown) => err,
  );
}

describe('execProvider (real child processes)', () => {
  it('streams stdout while the child runs; abort kills the whole group, grandchild included, before rejecting', async () => {
    const ac = new AbortController();
    const t = turnRequest({ signal: ac.signal });
    const turn = execProvider({ argv: [node, streamingChild], killGraceMs: 1000 }).runTurn(t.request);
    const [, grandchild] = await t.until(/grandchild (\d+)/);
    await t.until(/tick 3\n/);
    const pgid = t.pgids[0]!;
    expect(t.pgids).toHaveLength(1);
    expect(listProcessGroup(pgid).length).toBeGreaterThanOrEqual(3); // watchdog, child, grandchild
    expect(isPidAlive(Number(grandchild))).toBe(true);

    const reason = new Error('preempted');
    ac.abort(reason);
    expect(await rejection(turn)).toBe(reason);
    expect(listProcessGroup(pgid)).toEqual([]);
    expect(isPidAlive(Number(grandchild))).toBe(false);
  });

  it('a turn that exits 0 resolves with its stdout, and what it left in its group is killed', async () => {
    const t = turnRequest({ input: { question: 'life' } });
    const script = [
      "const { spawn } = require('node:child_process');",
      "spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }).unref();",
      "let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => console.log('got ' + s.trim()));",
    ].join('\n');
    const result = await execProvider({ argv: [node, '-e', script] }).runTurn(t.request);
    expect(result).toBe('got {"question":"life"}');
    expect(t.text()).toBe('got {"question":"life"}\n');
    expect(listProcessGroup(t.pgids[0]!)).toEqual([]);
  });

  it('jsonl mode streams each line as a json chunk and resolves with the type:"result" line', async () => {
    const t = turnRequest();
    const lines = [{ type: 'start' }, 'not json', { type: 'result', result: 'done', n: 2 }, { type: 'trailer' }];
    const script = `for (const l of ${JSON.stringify(lines)}) console.log(typeof l === 'string' ? l : JSON.stringify(l));`;
    const result = await execProvider({ argv: [node, '-e', script], output: 'jsonl' }).runTurn(t.request);
    expect(result).toEqual({ type: 'result', result: 'done', n: 2 });
    expect(t.chunks).toEqual([
      { kind: 'json', data: { type: 'start' } },
      { kind: 'text', data: 'not json' },
      { kind: 'json', data: { type: 'result', result: 'done', n: 2 } },
      { kind: 'json', data: { type: 'trailer' } },
    ]);
    const plain = await execProvider({ argv: [node, '-e', 'console.log(1); console.log(JSON.stringify([2]))'], output: 'jsonl' }).runTurn(
      turnRequest().request,
    );
    expect(plain).toEqual([2]);
  });

  it('passes the session id by env and argv template, the interrupted flag, and the turn identity', async () => {
    const show =
      'console.log(JSON.stringify({ argv: process.argv.slice(1), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("HOLDFAST_") || k === "AGENT_SESSION")) }))';
    const provider = execProvider({
      argv: [node, '-e', show, '--', '--session={sessionId}', 'interrupted={interrupted}', '{runId}/{turnSeq}/{attempt}'],
      output: 'jsonl',
      sessionEnv: 'AGENT_SESSION',
      sessionArg: (s) => (s.interrupted ? ['--resume', s.sessionId] : []),
      env: { HOLDFAST_EXTRA: 'x' },
    });
    const first = (await provider.runTurn(turnRequest().request)) as { argv: Json[]; env: Record<string, Json> };
    expect(first.argv).toEqual(['--session=sess-42', 'interrupted=0', 'run-1/3/1']);
    expect(first.env).toEqual({
      AGENT_SESSION: 'sess-42',
      HOLDFAST_EXTRA: 'x',
      HOLDFAST_RUN_ID: 'run-1',
      HOLDFAST_TURN_SEQ: '3',
      HOLDFAST_TURN_ATTEMPT: '1',
    });

    const resumed = (await provider.runTurn(turnRequest({ interrupted: true }).request)) as { argv: Json[]; env: Record<string, Json> };
    expect(resumed.argv).toEqual(['--session=sess-42', 'interrupted=1', 'run-1/3/1', '--resume', 'sess-42']);
    expect(resumed.env['HOLDFAST_TURN_INTERRUPTED']).toBe('1');

    const byDefault = await execProvider({
      argv: [node, '-e', 'console.log(process.env.HOLDFAST_SESSION_ID, process.argv.slice(1).join(" "))', '--'],
      sessionArg: '--sid',
    }).runTurn(turnRequest().request);
    expect(byDefault).toBe('sess-42 --sid sess-42');
  });

  it('a non-zero exit rejects with provider_failed naming the program, the code and the stderr tail', async () => {
    const t = turnRequest();
    const script = "process.stderr.write('x'.repeat(10000) + '\\nfatal: no credentials\\n'); process.exit(3)";
    const err = await rejection(execProvider({ argv: [node, '-e', script] }).runTurn(t.request));
    expect(err).toBeInstanceOf(HoldfastError);
    expect((err as HoldfastError).code).toBe('provider_failed');
    expect((err as Error).message).toContain(`"${node}" exited with code 3`);
    expect((err as Error).message).toContain('fatal: no credentials');
    expect((err as Error).message.length).toBeLessThan(4400);
    expect(t.chunks.some((c) => c.kind === 'stderr')).toBe(true);

    const killed = await rejection(
      execProvider({ argv: [node, '-e', "process.kill(process.pid, 'SIGTERM')"] }).runTurn(turnRequest().request),
    );
    expect((killed as Error).message).toContain('was killed by SIGTERM');
  });

  it('a program that does not exist rejects with provider_not_found and leaves nothing running', async () => {
    const t = turnRequest();
    const err = await rejection(execProvider({ argv: ['holdfast-no-such-program', '--x'] }).runTurn(t.request));
    expect((err as HoldfastError).code).toBe('provider_not_found');
    expect((err as Error).message).toContain('"holdfast-no-such-program"');
    expect((err as Error).message).toContain('PATH');
    expect(listProcessGroup(t.pgids[0]!)).toEqual([]);
  });

  it('a child that ignores SIGTERM is SIGKILLed after killGraceMs; an already-aborted signal starts nothing', async () => {
    const ac = new AbortController();
    const t = turnRequest({ signal: ac.signal });
    const script = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)";
    const turn = execProvider({ argv: [node, '-e', script], killGraceMs: 300 }).runTurn(t.request);
    await t.until(/ready/);
    const started = performance.now();
    ac.abort(new Error('cancel'));
    expect(((await rejection(turn)) as Error).message).toBe('cancel');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(listProcessGroup(t.pgids[0]!)).toEqual([]);

    const pre = turnRequest({ signal: AbortSignal.abort(new Error('too late')) });
    expect(((await rejection(execProvider({ argv: [node, streamingChild] }).runTurn(pre.request))) as Error).message).toBe('too late');
    expect(pre.pgids).toEqual([]);
  });

  it('an abort that lands while the group is still starting ends it promptly, not after the SIGTERM grace', async () => {
    for (const delayMs of [0, 5, 20, 40]) {
      const ac = new AbortController();
      const t = turnRequest({ signal: ac.signal });
      const turn = execProvider({ argv: [node, streamingChild], killGraceMs: 10_000 }).runTurn(t.request);
      await new Promise((r) => setTimeout(r, delayMs));
      const started = performance.now();
      ac.abort(new Error('early'));
      expect(((await rejection(turn)) as Error).message).toBe('early');
      expect(performance.now() - started, `abort ${delayMs} ms after start`).toBeLessThan(5_000);
      expect(listProcessGroup(t.pgids[0]!)).toEqual([]);
    }
  });

  it('an onChunk that throws fails the turn with that error after killing the group', async () => {
    const boom = new Error('consumer broke');
    const pgids: number[] = [];
    const t = turnRequest({
      onChunk: () => {
        throw boom;
      },
      onProcessGroup: (pgid) => pgids.push(pgid),
    });
    expect(await rejection(execProvider({ argv: [node, streamingChild] }).runTurn(t.request))).toBe(boom);
    expect(listProcessGroup(pgids[0]!)).toEqual([]);
  });

  it('when the kernel process is SIGKILLed, its provider group dies too (watchdog lifeline)', async () => {
    const parent = spawn(node, ['--import', tsxLoader, execParent], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const seen = await new Promise<{ pgid: number; grandchild: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parent fixture did not report in time: ${out}`)), 15_000);
      parent.stdout.setEncoding('utf8');
      parent.stdout.on('data', (d: string) => {
        out += d;
        const pgid = /pgid (\d+)/.exec(out);
        const grandchild = /grandchild (\d+)/.exec(out);
        if (pgid && grandchild && /tick 1\n/.test(out)) {
          clearTimeout(timer);
          resolve({ pgid: Number(pgid[1]), grandchild: Number(grandchild[1]) });
        }
      });
    });
    expect(listProcessGroup(seen.pgid).length).toBeGreaterThanOrEqual(3);
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await exited;

    let left = listProcessGroup(seen.pgid);
    for (let waited = 0; left.length > 0 && waited < 3000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = listProcessGroup(seen.pgid);
    }
    expect(left).toEqual([]);
    expect(isPidAlive(seen.grandchild)).toBe(false);
  });
});
