// The lifetime guards of `holdfast serve` (S3), with real signals: SIGTERM mid-turn exits 143 and
// the next start resumes the run; SIGINT exits 130; a second signal during teardown is ignored;
// SIGKILL of the daemon leaves no provider process alive.
import { describe, expect, it } from 'vitest';
import { issueCommentCreated } from '../../support/github-payloads.js';
import { admin, agentPids, daemonDir, deliver, runSettled, startDaemonProcess, submitCommand, waitForEvent } from '../../support/daemon.js';
import { isAlive, until } from '../../support/processes.js';

/** The agent records its pid as it starts, just after the turn started. */
async function agentsStarted(pidDir: string): Promise<number[]> {
  await until(
    'the agent process started',
    () => agentPids(pidDir).length === 1,
    () => '',
    10_000,
  );
  return agentPids(pidDir);
}

/** Submits a run of the `stubborn` flow (a step that ignores its abort signal) and waits for it to start. */
async function startStubbornRun(url: string, ms = 30_000): Promise<string> {
  const { runId } = await submitCommand(url, { key: 'stubborn:1', flow: 'stubborn', input: { ms } });
  await waitForEvent(url, 'run:started', runId);
  return runId;
}

describe('holdfast serve: lifetime guards', () => {
  it('SIGTERM mid-turn exits 143 with the run kept; the next start resumes and completes it', async () => {
    const where = daemonDir();
    const first = await startDaemonProcess({ HF_AGENT_MS: '20000' }, where);
    const { body } = await deliver(first.url, 'issue_comment', issueCommentCreated('carol'), 't-1');
    const runId = body!.runId as string;
    await waitForEvent(first.url, 'turn:started', runId);
    const agents = await agentsStarted(where.pidDir);
    first.fixture.child.kill('SIGTERM');
    expect(await first.fixture.exited()).toEqual({ code: 143, signal: null });
    expect(first.fixture.stderr()).toContain('shutting down');
    await until(
      'the agent process is gone',
      () => agents.every((pid) => !isAlive(pid)),
      () => agents.join(','),
      2_000,
    );

    const second = await startDaemonProcess({ HF_AGENT_MS: '200' }, where);
    expect((await runSettled(second.url, runId)).status).toBe('completed');
    const run = await admin<{ steps: { name: string }[] }>(second.url, `/v1/runs/${runId}`);
    expect(run.steps.map((s) => s.name)).toEqual(['read', 'turn:agent', 'reply']);
    second.fixture.child.kill('SIGINT');
    expect(await second.fixture.exited()).toEqual({ code: 130, signal: null });
  }, 90_000);

  it('a second SIGTERM during teardown is logged and ignored', async () => {
    // The step ignores its abort signal, so the teardown waits out the interrupt grace (2 s).
    const daemon = await startDaemonProcess();
    await startStubbornRun(daemon.url);
    daemon.fixture.child.kill('SIGTERM');
    await until(
      'the teardown started',
      () => daemon.fixture.stderr().includes('shutting down'),
      () => daemon.fixture.stderr(),
      5_000,
    );
    daemon.fixture.child.kill('SIGTERM');
    expect(await daemon.fixture.exited()).toEqual({ code: 143, signal: null });
    expect(daemon.fixture.stderr()).toContain('already shutting down; signal ignored');
  }, 60_000);

  it('a teardown longer than shutdown.timeoutMs exits anyway, and the next start finishes the run', async () => {
    const where = daemonDir();
    const daemon = await startDaemonProcess({ HF_SHUTDOWN_MS: '300' }, where);
    const runId = await startStubbornRun(daemon.url, 1_000);
    daemon.fixture.child.kill('SIGTERM');
    expect(await daemon.fixture.exited()).toEqual({ code: 143, signal: null });
    expect(daemon.fixture.stderr()).toContain('teardown took longer than shutdown.timeoutMs');
    const next = await startDaemonProcess({}, where);
    expect((await runSettled(next.url, runId)).status).toBe('completed');
  }, 60_000);

  it('SIGKILL of the daemon mid-turn leaves no provider process alive within 2 s', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '20000' });
    const { body } = await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 't-3');
    await waitForEvent(daemon.url, 'turn:started', body!.runId as string);
    const agents = await agentsStarted(daemon.pidDir);
    expect(agents.every(isAlive)).toBe(true);
    daemon.fixture.child.kill('SIGKILL');
    await daemon.fixture.exited();
    await until(
      'no agent process is alive',
      () => agents.every((pid) => !isAlive(pid)),
      () => agents.join(','),
      2_000,
    );
  }, 60_000);
});
