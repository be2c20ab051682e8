// Shared by the CLI and admin API tests: the CLI in this process, a database with runs in every
// state under a live kernel, and the admin API served over HTTP on port 0.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { createKernel, defineFlow, sqliteStore, TerminalError, type Kernel, type Store } from 'holdfast';
import { main } from '../../../src/cli/main.js';
import { storeClient } from '../../../src/daemon/client/store-client.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import type { Random } from '../../../src/ports/clock.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process (the same code path as the binary), capturing its output. */
export async function cli(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main([...args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd, env });
  return { code, stdout, stderr };
}

/** JSON lines as values. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export function tempDir(prefix = 'hf-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run ids `00000001-...`, `00000002-...` in submit order: prefixes are predictable. */
export function countingRandom(): Random {
  let n = 0;
  return {
    next: () => 0.5,
    uuid: () => {
      n += 1;
      return `${n.toString(16).padStart(8, '0')}-7e57-4000-8000-${n.toString(16).padStart(12, '0')}`;
    },
  };
}

const blockUntilAborted = ({ signal }: { signal: AbortSignal }) =>
  new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));

export const FLOWS = [
  defineFlow('ok', async (ctx, input: { n?: number } | null) => ctx.step('double', () => (input?.n ?? 1) * 2)),
  defineFlow('bad', async (ctx) =>
    ctx.step('explode', () => {
      throw new TerminalError('the remote refused', 'remote_refused');
    }),
  ),
  defineFlow('sleeper', async (ctx) => {
    await ctx.step('before', () => 'slept');
    await ctx.sleep(3_600_000);
    return 'woke';
  }),
  defineFlow('blocker', async (ctx) => ctx.step('block', blockUntilAborted)),
  defineFlow('replier', async (ctx) => ctx.effect('reply', () => ({ comment: 'c-1' }), { key: 'reply:7' })),
  defineFlow('parent', async (ctx) => {
    const child = await ctx.spawn('ok', { n: 5 });
    return ctx.join<number>(child);
  }),
];

/** The runs a seeded database holds, by what they are. */
export interface SeededRuns {
  readonly completed: string;
  readonly failed: string;
  readonly waiting: string;
  readonly running: string;
  readonly queuedNormal: string;
  readonly queuedBackground: string;
  readonly cancelled: string;
  readonly replied: string;
  readonly parent: string;
}

export interface SeededDatabase {
  readonly path: string;
  readonly store: Store;
  readonly kernel: Kernel;
  readonly runs: SeededRuns;
  /** Stops the kernel (its running run is requeued) and closes the store. */
  stop(): Promise<void>;
}

/**
 * A SQLite file with runs in every state under a live kernel: completed, failed (remote_refused),
 * waiting on a timer (repo:c), running (repo:d, blocked until cancelled) with a normal and a
 * background run queued behind it, cancelled, one with a delivered effect, a parent with a child.
 */
export async function seedDatabase(path: string): Promise<SeededDatabase> {
  const store = sqliteStore({ path });
  const kernel = createKernel({ store, flows: FLOWS, random: countingRandom(), pollIntervalMs: 200 });
  await kernel.start();
  const started = (id: string) => kernel.once('run:started', (e) => e.runId === id);
  const completed = await kernel.submit({ key: 'repo:a', flow: 'ok', input: { n: 21 }, idempotencyKey: 'delivery-1' });
  await completed.result();
  const failed = await kernel.submit({ key: 'repo:b', flow: 'bad' });
  await failed.result().catch(() => undefined);
  const waitingSeen = kernel.once('run:waiting', (e) => e.key === 'repo:c');
  const waiting = await kernel.submit({ key: 'repo:c', flow: 'sleeper' });
  await waitingSeen;
  const running = await kernel.submit({ key: 'repo:d', flow: 'blocker' });
  await started(running.id);
  const queuedNormal = await kernel.submit({ key: 'repo:d', flow: 'ok' });
  const queuedBackground = await kernel.submit({ key: 'repo:d', flow: 'ok', priority: 'background' });
  const cancelled = await kernel.submit({ key: 'repo:e', flow: 'blocker' });
  await started(cancelled.id);
  await kernel.cancel(cancelled.id);
  await cancelled.result().catch(() => undefined);
  const replied = await kernel.submit({ key: 'repo:f', flow: 'replier' });
  await replied.result();
  const parent = await kernel.submit({ key: 'repo:g', flow: 'parent' });
  await parent.result();
  const runs: SeededRuns = {
    completed: completed.id,
    failed: failed.id,
    waiting: waiting.id,
    running: running.id,
    queuedNormal: queuedNormal.id,
    queuedBackground: queuedBackground.id,
    cancelled: cancelled.id,
    replied: replied.id,
    parent: parent.id,
  };
  return {
    path,
    store,
    kernel,
    runs,
    async stop() {
      await kernel.stop({ timeoutMs: 5_000 });
      await store.close();
    },
  };
}

/** An admin API app served on 127.0.0.1, on a free port. */
export async function serveApp(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve({ server, port: info.port }));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The client a daemon would give its admin routes: reads from the store, acts through the kernel. */
export function daemonStyleClient(seeded: SeededDatabase) {
  return storeClient({ store: seeded.store, kernel: seeded.kernel, clock: systemClock });
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const HOLDFAST_BIN = join(ROOT, 'bin', 'holdfast.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `bin/holdfast.js` runs the compiled CLI: builds `dist/` (`tsc -p tsconfig.build.json`, as
 * `npm run build` does) when it is older than the sources, so the binary under test is this code.
 */
export function ensureBuiltBinary(): string {
  const compiled = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const fresh = () => existsSync(compiled) && statSync(compiled).mtimeMs >= newestSource(join(ROOT, 'src'));
  if (!fresh()) {
    spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
    if (!existsSync(compiled)) throw new Error('tsc -p tsconfig.build.json did not produce dist/src/cli/main.js');
  }
  return HOLDFAST_BIN;
}

/** Runs a command line in bash (for pipes), bounded; resolves with its exit code and output. */
export function runShell(
  script: string,
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${options.timeoutMs ?? 30_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
