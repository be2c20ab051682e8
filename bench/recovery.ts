// Recovery after a crash: a kernel process holds 1,000 keys, each with one run in flight (its first
// step committed, its second running), and is SIGKILLed. A new process is started on the same
// file; the figure is the time from spawning it to every run's second step committed, Node's
// start-up included. Both processes run the compiled package (dist/, rebuilt first when a source
// file is newer), as users do. The dead owner is on this host, so its keys are taken over at once.
// Aim: < 1 s.
//
//   npx tsx bench/recovery.ts [keys]
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, table } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const FIXTURE = join(here, 'fixtures', 'recovery-kernel.mjs');
export const AIM_MS = 1_000;

export interface RecoveryResult {
  keys: number;
  totalMs: number;
  startupMs: number;
  afterStartMs: number;
}

/** Rebuilds dist/ when any file under src/ is newer than the compiled entry point. */
export function ensureBuilt(): void {
  const entry = join(root, 'dist', 'src', 'index.js');
  let built = 0;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    built = 0;
  }
  const newest = (readdirSync(join(root, 'src'), { recursive: true }) as string[])
    .map((f) => statSync(join(root, 'src', f)).mtimeMs)
    .reduce((a, b) => Math.max(a, b), 0);
  if (newest > built)
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
}

function run(mode: 'seed' | 'recover', db: string, keys: number, waitFor: string) {
  const child = spawn(process.execPath, [FIXTURE, mode, db, String(keys)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const seen = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(waitFor)) resolve(out);
    });
    child.once('exit', (code, signal) =>
      out.includes(waitFor) ? undefined : reject(new Error(`${mode} exited (${signal ?? code}) before "${waitFor}": ${out}`)),
    );
  });
  return { child, seen };
}

export async function measureRecovery(keys = 1_000): Promise<RecoveryResult> {
  ensureBuilt();
  const tmp = scratch('recovery');
  const db = tmp.file('holdfast.db');
  try {
    const seeded = run('seed', db, keys, 'ready');
    await seeded.seen;
    seeded.child.kill('SIGKILL');
    await new Promise((resolve) => seeded.child.once('exit', resolve));
    const spawnedAt = Date.now();
    const recovering = run('recover', db, keys, 'done');
    const out = await recovering.seen;
    const started = Number(/started (\d+)/.exec(out)?.[1]);
    const done = Number(/done (\d+)/.exec(out)?.[1]);
    recovering.child.kill('SIGTERM');
    await new Promise((resolve) => recovering.child.once('exit', resolve));
    return { keys, totalMs: done - spawnedAt, startupMs: started - spawnedAt, afterStartMs: done - started };
  } finally {
    tmp.dispose();
  }
}

export function formatRecovery(r: RecoveryResult): string {
  return [
    `recovery after SIGKILL: ${r.keys} keys, one run in flight each; new process spawned -> every run's next step committed`,
    table(
      ['keys', 'total ms', 'spawn -> kernel started', 'started -> all committed', `aim < ${AIM_MS} ms`],
      [[String(r.keys), String(r.totalMs), String(r.startupMs), String(r.afterStartMs), r.totalMs < AIM_MS ? 'met' : 'NOT met']],
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const keys = Number(process.argv[2] ?? 1_000);
  console.log(formatRecovery(await measureRecovery(keys)));
}
