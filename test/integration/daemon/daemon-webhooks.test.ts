// `holdfast serve` as a real process: signed GitHub webhooks become runs exactly once, bad and
// unsupported deliveries store nothing, and an urgent comment preempts a running agent turn.
import { describe, expect, it } from 'vitest';
import { issueCommentCreated, reviewCommentCreated, reviewSubmitted } from '../../support/github-payloads.js';
import { admin, cli, deliver, runSettled, startDaemonProcess, waitForEvent } from '../../support/daemon.js';

interface RunJson {
  readonly id: string;
  readonly status: string;
  readonly result?: unknown;
}

async function runCount(url: string): Promise<number> {
  const body = await admin<{ runs: RunJson[] }>(url, '/v1/runs?limit=1000');
  return body.runs.length;
}

describe('holdfast serve: GitHub webhooks', () => {
  it('a signed delivery runs once; a redelivery, a bad signature, an unsupported event and a collapsed review store nothing more', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '300' });
    const first = await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'd-1');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ created: true, key: 'repo:acme/web', type: 'pr_comment' });
    const runId = first.body!.runId as string;
    const run = await runSettled<RunJson>(daemon.url, runId);
    expect(run.status).toBe('completed');
    expect(String(run.result)).toContain('@carol answer: looks good');

    const again = await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'd-1');
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ runId, created: false });

    const forged = await deliver(daemon.url, 'issue_comment', issueCommentCreated('mallory'), 'd-2', 'sha256=' + '0'.repeat(64));
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`${daemon.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': 'd-3' },
      body: JSON.stringify(issueCommentCreated('mallory')),
    });
    expect(unsigned.status).toBe(401);
    expect((await deliver(daemon.url, 'push', { ref: 'refs/heads/main', repository: { full_name: 'acme/web' } }, 'd-4')).status).toBe(204);
    expect((await deliver(daemon.url, 'issue_comment', issueCommentCreated('holdfast-bot'), 'd-5')).status).toBe(204);

    const inline = await deliver(daemon.url, 'pull_request_review_comment', reviewCommentCreated('dana'), 'd-6');
    expect(inline.status).toBe(202);
    const collapsed = await deliver(daemon.url, 'pull_request_review', reviewSubmitted('commented', null, 'dana'), 'd-7');
    expect(collapsed.status).toBe(204);

    expect(await runCount(daemon.url)).toBe(2);

    // The same daemon serves its metrics and its dashboard.
    const counted = (text: string) =>
      text.includes('flow="answer",status="completed"} 1') && text.includes('flow="review",status="completed"} 1');
    let metrics = '';
    for (let i = 0; i < 100 && !counted(metrics); i++) {
      metrics = await (await fetch(`${daemon.url}/metrics`)).text();
      if (!counted(metrics)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(metrics).toContain('holdfast_runs_finished_total{flow="review",status="completed"} 1');
    expect(metrics).toContain('holdfast_runs_finished_total{flow="answer",status="completed"} 1');
    const page = await fetch(`${daemon.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('holdfast');
  }, 60_000);

  it('an urgent comment during a running agent turn preempts it; the turn resumes afterwards, visible in holdfast run --url', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '8000' });
    const slow = await deliver(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'p-1');
    const slowId = slow.body!.runId as string;
    await waitForEvent(daemon.url, 'turn:started', slowId);
    const urgent = await deliver(daemon.url, 'pull_request_review_comment', reviewCommentCreated('dana'), 'p-2');
    expect(urgent.status).toBe(202);
    const urgentId = urgent.body!.runId as string;
    await waitForEvent(daemon.url, 'run:parked', slowId);
    await waitForEvent(daemon.url, 'run:completed', urgentId);
    await waitForEvent(daemon.url, 'run:resumed', slowId);
    await waitForEvent(daemon.url, 'run:completed', slowId);
    const done = await admin<RunJson>(daemon.url, `/v1/runs/${slowId}`);
    expect(String(done.result)).toContain('(resumed)');

    const shown = await cli(['run', slowId.slice(0, 8), '--url', daemon.url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(slowId);
    expect(shown.stdout).toContain('completed');
    const json = await cli(['run', slowId.slice(0, 8), '--url', daemon.url, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: slowId, status: 'completed' });
  }, 90_000);
});
