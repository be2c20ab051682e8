// The supervisor of `holdfast serve` with `workers: 2` (S1), with real processes: a SIGKILLed
// worker is restarted and its keys recovered; a worker that cannot start reaches the give-up path;
// a hung worker is reported, never restarted for being slow.
import { describe, expect, it } from 'vitest';
import { issueCommentCreated } from '../../support/github-payloads.js';
import { admin, agentPids, daemonDir, deliver, startDaemonProcess, submitCommand, waitFor } from '../../support/daemon.js';
import { FIXTURES, isAlive, startFixture, until } from '../../support/processes.js';
import { join } from 'node:path';

interface Worker {
  readonly slot: number;
  readonly pid: number | null;
  readonly state: string;
  readonly restarts: number;
}

async function workers(url: string): Promise<Worker[]> {
  return (await admin<{ workers: Worker[] }>(url, '/v1/status')).workers;
}

describe('holdfast serve: supervisor', () => {
  it('a SIGKILLed worker is restarted and the run it held completes', async () => {
    const daemon = await startDaemonProcess({ HF_WORKERS: '2', HF_AGENT_MS: '3000' });
    const ready = await waitFor(
      'two workers running',
      () => workers(daemon.url),
      (w) => w.length === 2 && w.every((x) => x.state === 'running'),
    );
    const { body } = await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 's-1');
    const runId = body!.runId as string;
    const owner = await waitFor(
      'the run to start on a worker',
      async () => (await admin<{ keys: { key: string; owner: { ownerId: string } | null }[] }>(daemon.url, '/v1/status')).keys,
      (keys) => keys.some((k) => k.key === 'repo:acme/web' && k.owner !== null),
    );
    const ownerId = owner.find((k) => k.key === 'repo:acme/web')!.owner!.ownerId;
    const victim = ready.find((w) => ownerId.includes(`/${w.pid}/`))!;
    expect(victim).toBeDefined();
    process.kill(victim.pid!, 'SIGKILL');
    const after = await waitFor(
      'the worker restarted',
      () => workers(daemon.url),
      (w) => w[victim.slot]!.restarts === 1 && w[victim.slot]!.state === 'running' && w[victim.slot]!.pid !== victim.pid,
    );
    expect(after[victim.slot]!.pid).not.toBe(victim.pid);
    const done = await waitFor(
      'the run completed',
      () => admin<{ status: string; attempts: number }>(daemon.url, `/v1/runs/${runId}`),
      (r) => r.status === 'completed',
      60_000,
    );
    expect(done.attempts).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('SIGKILL of the daemon takes its workers and their provider processes with it within 2 s', async () => {
    const daemon = await startDaemonProcess({ HF_WORKERS: '2', HF_AGENT_MS: '20000' });
    const ready = await waitFor(
      'two workers running',
      () => workers(daemon.url),
      (w) => w.length === 2 && w.every((x) => x.state === 'running'),
    );
    await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'k-1');
    const agents = await waitFor(
      'the agent started',
      async () => agentPids(daemon.pidDir),
      (pids) => pids.length === 1,
    );
    daemon.fixture.child.kill('SIGKILL');
    await daemon.fixture.exited();
    const pids = [...ready.map((w) => w.pid!), ...agents];
    await until(
      'no worker or agent process is alive',
      () => pids.every((pid) => !isAlive(pid)),
      () => pids.filter(isAlive).join(','),
      2_000,
    );
  }, 60_000);

  it('a worker that crashes at every start reaches the give-up path: the daemon exits 1 and says why', async () => {
    const where = daemonDir();
    const daemon = startFixture('holdfast-cli.ts', ['serve', '--config', join(FIXTURES, 'daemon', 'holdfast.config.ts')], {
      HF_DB: where.db,
      HF_WORKERS: '1',
      HF_CRASH_WORKER: '1',
    });
    const { code } = await daemon.exited();
    expect(code).toBe(1);
    expect(daemon.stderr()).toMatch(/giving up/);
    expect(daemon.stderr()).toContain('this worker cannot start (test)');
  }, 60_000);

  it('a worker whose event loop is blocked is reported hung and is not restarted', async () => {
    const daemon = await startDaemonProcess({ HF_WORKERS: '1' });
    const [before] = await waitFor(
      'the worker running',
      () => workers(daemon.url),
      (w) => w[0]?.state === 'running',
    );
    const submitted = await submitCommand(daemon.url, { key: 'spin:1', flow: 'block', input: { ms: 5_000 } });
    expect(submitted.status).toBe(202);
    const hung = await waitFor(
      'the worker reported hung',
      () => workers(daemon.url),
      (w) => w[0]?.state === 'hung',
    );
    expect(hung[0]!.pid).toBe(before!.pid);
    expect(daemon.fixture.stderr()).toContain('worker hung; leaving it alone');
    const back = await waitFor(
      'the worker responsive again',
      () => workers(daemon.url),
      (w) => w[0]?.state === 'running',
      20_000,
    );
    expect(back[0]).toMatchObject({ pid: before!.pid, restarts: 0 });
  }, 60_000);

  it('with killHung, a worker whose event loop is blocked is killed and restarted', async () => {
    const daemon = await startDaemonProcess({ HF_WORKERS: '1', HF_KILL_HUNG: '1' });
    const [before] = await waitFor(
      'the worker running',
      () => workers(daemon.url),
      (w) => w[0]?.state === 'running',
    );
    const submitted = await submitCommand(daemon.url, { key: 'spin:2', flow: 'block', input: { ms: 8_000 } });
    expect(submitted.status).toBe(202);
    const after = await waitFor(
      'the hung worker killed and restarted',
      () => workers(daemon.url),
      (w) => (w[0]?.restarts ?? 0) >= 1 && w[0]?.pid !== before!.pid,
      20_000,
    );
    expect(after[0]!.pid).not.toBe(before!.pid);
    expect(daemon.fixture.stderr()).toContain('worker hung; killing it (killHung)');
    expect(isAlive(before!.pid!)).toBe(false);
  }, 60_000);
});
