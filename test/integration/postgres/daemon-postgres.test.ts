// `holdfast serve` on Postgres: two daemons (standing in for two machines) share one database
// through `store: 'postgres://...'`. A webhook delivered to either runs once; an urgent comment
// delivered to the daemon that does not own the key preempts the agent turn on the one that does
// (through LISTEN/NOTIFY), and the turn resumes; the CLI reads the same runs with `--db postgres://`,
// and the dashboard is served.
import { afterAll, describe, expect, it } from 'vitest';
import { issueCommentCreated, reviewCommentCreated } from '../../support/github-payloads.js';
import { admin, cli, deliver, runSettled, startDaemonProcess, waitForEvent, type RunningDaemon } from '../../support/daemon.js';
import { postgresForTests } from '../../support/postgres.js';

const pg = await postgresForTests('daemon');
afterAll(() => pg.dropSchemas());

interface StatusJson {
  readonly keys: readonly { readonly key: string; readonly owner: unknown }[];
}

/** Which of the daemons holds the key's owner lease (owner ids carry the process id). */
async function owning(daemons: readonly RunningDaemon[], key: string): Promise<RunningDaemon> {
  const status = await admin<StatusJson>(daemons[0]!.url, '/v1/status');
  const owner = JSON.stringify(status.keys.find((k) => k.key === key)?.owner ?? null);
  const found = daemons.find((d) => owner.includes(`/${d.fixture.pid}/`));
  if (!found) throw new Error(`no daemon owns ${key}: owner ${owner}`);
  return found;
}

describe.skipIf(!pg.available)('holdfast serve on Postgres', () => {
  it('two daemons on one database: runs once, cross-daemon preemption through NOTIFY, CLI and dashboard on the same data', async () => {
    const schema = pg.schema('daemon');
    const url = `${pg.url}?schema=${schema}`;
    const first = await startDaemonProcess({ HF_DB: url, HF_AGENT_MS: '8000' });
    const second = await startDaemonProcess({ HF_DB: url, HF_AGENT_MS: '8000' });
    const daemons = [first, second];

    const slow = await deliver(first.url, 'issue_comment', issueCommentCreated('carol'), 'pg-1');
    expect(slow.status).toBe(202);
    const slowId = slow.body!.runId as string;
    const again = await deliver(second.url, 'issue_comment', issueCommentCreated('carol'), 'pg-1');
    expect(again.body).toMatchObject({ runId: slowId, created: false });
    await waitForEvent(first.url, 'turn:started', slowId);

    const owner = await owning(daemons, 'repo:acme/web');
    const other = owner === first ? second : first;
    const [lease] = await pg.query<{ channel: string }>(`SELECT channel FROM "${schema}".owners WHERE key = $1`, ['repo:acme/web']);
    expect(lease?.channel).toMatch(/^pg-notify:/);

    const urgent = await deliver(other.url, 'pull_request_review_comment', reviewCommentCreated('dana'), 'pg-2');
    expect(urgent.status).toBe(202);
    const urgentId = urgent.body!.runId as string;
    await waitForEvent(other.url, 'run:parked', slowId);
    await waitForEvent(other.url, 'run:completed', urgentId);
    await waitForEvent(other.url, 'run:resumed', slowId);
    const done = await runSettled<{ status: string; result?: unknown }>(other.url, slowId);
    expect(done.status).toBe('completed');
    expect(String(done.result)).toContain('(resumed)');

    const shown = await cli(['run', slowId.slice(0, 8), '--db', url, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: slowId, status: 'completed' });
    const runs = await cli(['runs', '--db', url, '--json']);
    expect(runs.code).toBe(0);
    expect(runs.stdout.trim().split('\n')).toHaveLength(2);

    const submitted = await cli(['submit', '--db', url, '--key', 'repo:acme/api', '--flow', 'answer', '--input', '{"author":"erin"}']);
    expect(submitted.code).toBe(0);
    const submittedId = submitted.stdout.split(/\s/)[0]!;
    expect((await runSettled<{ status: string }>(first.url, submittedId)).status).toBe('completed');

    const page = await fetch(`${second.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('holdfast');
  }, 120_000);
});
