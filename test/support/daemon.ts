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
