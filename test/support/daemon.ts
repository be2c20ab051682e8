// Runs `holdfast serve` as a real process on the test config (test/fixtures/daemon), and talks to
// it: signed webhooks, the admin API, the CLI against --url.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, startFixture, type Fixture } from './processes.js';
import { signGithub } from './github-payloads.js';

export const DAEMON_CONFIG = join(FIXTURES, 'daemon', 'holdfast.config.ts');
export const SECRET = 'test-secret';

export interface RunningDaemon {
  readonly fixture: Fixture;
  readonly url: string;
  readonly db: string;
  readonly pidDir: string;
  readonly dir: string;
}

/** A fresh directory for one test's database and agent pid files. */
export function daemonDir(): { dir: string; db: string; pidDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-daemon-'));
  const pidDir = mkdtempSync(join(dir, 'pids-'));
  return { dir, db: join(dir, 'state.db'), pidDir };
}

/** Starts the daemon and waits for its `listening on` line. */
export async function startDaemonProcess(
  env: Record<string, string> = {},
  where: { db: string; pidDir: string; dir: string } = daemonDir(),
): Promise<RunningDaemon> {
  const fixture = startFixture('holdfast-cli.ts', ['serve', '--config', DAEMON_CONFIG], {
    HF_DB: where.db,
    HF_PID_DIR: where.pidDir,
    ...env,
  });
  await fixture.line('listening on ', 60_000);
  const url = /listening on (\S+)/.exec(fixture.stdout())![1]!;
  return { fixture, url, ...where };
}

/** POSTs a GitHub delivery signed with the test secret (or `signature`). */
export async function deliver(
  url: string,
  event: string,
  payload: unknown,
  delivery: string,
  signature?: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signature ?? signGithub(SECRET, body),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** GET a JSON admin route. */
export async function admin<T = Record<string, unknown>>(url: string, path: string, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Runs the CLI from source as a real process and returns its output and exit code. */
export async function cli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fixture = startFixture('holdfast-cli.ts', args, env);
  const { code } = await fixture.exited();
  return { code, stdout: fixture.stdout(), stderr: fixture.stderr() };
}

/** Pids of every agent process the daemon ever started (recorded by the agent itself). */
export function agentPids(pidDir: string): number[] {
  return readdirSync(pidDir).map(Number);
}

/** Polls `read` every 100 ms until `ok` holds; fails naming `what` and the last value after `timeoutMs`. */
export async function waitFor<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/** Waits until the daemon's event feed holds an event `type` of run `runId`. */
export async function waitForEvent(url: string, type: string, runId: string): Promise<void> {
  await waitFor(
    `${type} of run ${runId}`,
    async () => (await admin<{ events: { type: string; runId: string | null }[] }>(url, '/v1/events?after=0&limit=1000')).events,
    (events) => events.some((e) => e.type === type && e.runId === runId),
  );
}

/** Waits until run `id` has ended (completed, failed or cancelled) and returns it as the admin API shows it. */
export async function runSettled<T extends { status: string } = { status: string; result?: unknown; attempts: number }>(
  url: string,
  id: string,
): Promise<T> {
  return waitFor(
    `run ${id} to end`,
    () => admin<T>(url, `/v1/runs/${id}`),
    (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
  );
}

/** POSTs a generic command to `/v1/commands`; returns the HTTP status and the run id it was given. */
export async function submitCommand(url: string, command: Record<string, unknown>): Promise<{ status: number; runId: string }> {
  const response = await fetch(`${url}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(command),
  });
  return { status: response.status, runId: ((await response.json()) as { runId: string }).runId };
}
