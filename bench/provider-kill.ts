// Provider process-group figures:
//   1. abort → "group gone" (the turn's rejection, which waits until no process of the group is
//      left) for the streaming child with its grandchild;
//   2. the group watchdog's added spawn latency: time to the first stdout byte of a tiny node
//      program spawned directly (detached) vs through spawnProcessGroup.
// Run from the repository root: npx tsx bench/provider-kill.ts [samples]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listProcessGroup } from '../src/platform/proc-table.js';
import { spawnProcessGroup } from '../src/platform/process-group-spawn.js';
import { execProvider } from '../src/providers/exec-provider.js';

const samples = Number(process.argv[2] ?? 30);
const node = process.execPath;
const streamingChild = fileURLToPath(new URL('../test/fixtures/streaming-child.js', import.meta.url));
const hello = ['-e', 'process.stdout.write("x")'];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

async function abortToGone(): Promise<number> {
  const ac = new AbortController();
  let pgid = 0;
  let text = '';
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const turn = execProvider({ argv: [node, streamingChild] }).runTurn({
    turn: { runId: 'bench', turnSeq: 1, attempt: 0, epoch: 1 },
    input: '',
    sessionId: 'bench',
    interrupted: false,
    signal: ac.signal,
    onChunk: (c) => {
      text += typeof c.data === 'string' ? c.data : '';
      if (/tick 1\n/.test(text)) ready();
    },
    onProcessGroup: (g) => (pgid = g),
  });
  await started;
  const t0 = performance.now();
  ac.abort(new Error('bench'));
  await turn.catch(() => {});
  const elapsed = performance.now() - t0;
  if (listProcessGroup(pgid).length > 0) throw new Error(`group ${pgid} still has processes after rejection`);
  return elapsed;
}

function firstByte(start: () => { stdout: NodeJS.ReadableStream; done: Promise<unknown> }): Promise<number> {
  const t0 = performance.now();
  const { stdout, done } = start();
  return new Promise((resolve) => {
    let t = 0;
    stdout.once('data', () => (t = performance.now() - t0));
    stdout.resume();
    void done.then(() => resolve(t));
  });
}

const direct = () => {
  const child = spawn(node, hello, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  return { stdout: child.stdout, done: new Promise((resolve) => child.once('close', resolve)) };
};
const grouped = () => {
  const proc = spawnProcessGroup({ argv: [node, ...hello] });
  proc.stdin.end();
  return { stdout: proc.stdout, done: proc.finished };
};

const directMs: number[] = [];
const groupedMs: number[] = [];
for (let i = 0; i < samples; i++) {
  directMs.push(await firstByte(direct));
  groupedMs.push(await firstByte(grouped));
}
const killMs: number[] = [];
for (let i = 0; i < samples; i++) killMs.push(await abortToGone());

console.log(`node ${process.version}, ${samples} samples each`);
console.log(`spawn → first stdout byte, direct:          ${fmt(directMs)}`);
console.log(`spawn → first stdout byte, via watchdog:    ${fmt(groupedMs)}`);
console.log(`watchdog added latency (p50 difference):    ${(pct(groupedMs, 50) - pct(directMs, 50)).toFixed(1)} ms`);
console.log(`abort → group gone (child + grandchild):    ${fmt(killMs)}`);
