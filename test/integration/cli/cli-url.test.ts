import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRoutes } from '../../../src/daemon/admin/admin-routes.js';
import type { HoldfastStatus, RunDetail } from '../../../src/daemon/client/holdfast-client.js';
import { cli, daemonStyleClient, jsonLines, seedDatabase, serveApp, tempDir, type SeededDatabase } from './cli-harness.js';

const TOKEN = 'admin-token-for-tests';

describe('holdfast CLI on --url: the same verbs over the admin API', () => {
  let dir: string;
  let seeded: SeededDatabase;
  let open: { url: string; close(): Promise<void> };
  let guarded: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    dir = tempDir('hf-cli-url-');
    seeded = await seedDatabase(join(dir, 'state.db'));
    const client = daemonStyleClient(seeded);
    open = await serveApp(createAdminRoutes({ client }));
    guarded = await serveApp(createAdminRoutes({ client, adminToken: TOKEN }));
  });
  afterAll(async () => {
    await open.close();
    await guarded.close();
    await seeded.stop();
  });

  it('status, runs, run and outbox answer as they do on --db', async () => {
    const db = seeded.path;
    const status = await cli(dir, ['status', '--url', open.url, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const overUrl = JSON.parse(status.stdout) as HoldfastStatus;
    const onDb = JSON.parse((await cli(dir, ['status', '--db', db, '--json'])).stdout) as HoldfastStatus;
    expect(overUrl.source).toBe(`sqlite:${db}`); // the daemon's own view
    expect(overUrl.keys.map((k) => [k.key, k.queued, k.running?.id ?? null])).toEqual(
      onDb.keys.map((k) => [k.key, k.queued, k.running?.id ?? null]),
    );
    expect(overUrl.totals).toEqual(onDb.totals);

    const runs = await cli(dir, ['runs', '--url', open.url, '--status', 'completed', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(jsonLines(runs.stdout)).toEqual(jsonLines((await cli(dir, ['runs', '--db', db, '--status', 'completed', '--json'])).stdout));

    const run = await cli(dir, ['run', seeded.runs.parent.slice(0, 8), '--url', open.url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as RunDetail).children).toHaveLength(1);
    const ambiguous = await cli(dir, ['run', '0000000', '--url', open.url]);
    expect([ambiguous.code, ambiguous.stderr]).toEqual([3, expect.stringContaining('run_id_ambiguous')]);
    const none = await cli(dir, ['run', 'ffff', '--url', open.url]);
    expect([none.code, none.stderr]).toEqual([3, expect.stringContaining('no run with id ffff')]);

    const delivered = jsonLines<{ key: string }>((await cli(dir, ['outbox', '--status', 'delivered', '--url', open.url, '--json'])).stdout);
    expect(delivered.map((e) => e.key)).toEqual(['reply:7']);
    const lanes = await cli(dir, ['lane', 'status', '--url', open.url, '--json']);
    expect([lanes.code, JSON.parse(lanes.stdout)]).toEqual([0, { leases: [] }]);
  });

  it('submit, cancel, retry and journal compact act through the serving kernel', async () => {
    const submitArgs = [
      'submit',
      '--key',
      'repo:u',
      '--flow',
      'ok',
      '--input',
      '{"n":3}',
      '--idempotency-key',
      'url-1',
      '--url',
      open.url,
      '--json',
    ];
    const submitted = await cli(dir, submitArgs);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { runId, created } = JSON.parse(submitted.stdout) as { runId: string; created: boolean };
    expect(created).toBe(true);
    expect(await seeded.kernel.handle(runId).result()).toBe(6);
    const again = await cli(dir, submitArgs);
    expect(JSON.parse(again.stdout)).toEqual({ runId, created: false });
    const conflict = await cli(dir, ['submit', '--key', 'repo:u', '--flow', 'bad', '--idempotency-key', 'url-1', '--url', open.url]);
    expect([conflict.code, conflict.stderr]).toEqual([3, expect.stringContaining('idempotency_conflict')]);
    const unknown = await cli(dir, ['submit', '--key', 'repo:u', '--flow', 'nope', '--url', open.url]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no flow named "nope"')]);

    const ended = seeded.kernel.once('run:cancelled', (e) => e.runId === seeded.runs.running);
    const cancel = await cli(dir, ['cancel', seeded.runs.running.slice(0, 8), '--mode', 'abort-drop', '--url', open.url, '--json']);
    expect([cancel.code, JSON.parse(cancel.stdout)]).toEqual([0, { runId: seeded.runs.running, status: 'running' }]);
    await ended;
    const retry = await cli(dir, ['retry', seeded.runs.cancelled.slice(0, 8), '--url', open.url, '--json']);
    expect([retry.code, JSON.parse(retry.stdout)]).toEqual([0, { runId: seeded.runs.cancelled, status: 'queued' }]);
    const notRetryable = await cli(dir, ['retry', seeded.runs.completed, '--url', open.url]);
    expect([notRetryable.code, notRetryable.stderr]).toEqual([3, expect.stringContaining('run_not_retryable')]);
    const compact = await cli(dir, ['journal', 'compact', '--older-than', '30d', '--url', open.url, '--json']);
    expect([compact.code, JSON.parse(compact.stdout)]).toEqual([0, { runs: 0, steps: 0, bytes: 0 }]);
  });

  it('HOLDFAST_URL selects the admin API when no --db is given; --db wins over it', async () => {
    const viaEnv = await cli(dir, ['runs', '--status', 'failed', '--json'], { HOLDFAST_URL: open.url });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const viaDb = await cli(dir, ['runs', '--db', 'typo.db'], { HOLDFAST_URL: open.url });
    expect([viaDb.code, viaDb.stderr]).toEqual([1, expect.stringContaining('no database at')]);
  });

  it('with an admin token: 401 without it or with a wrong one (exit 1), accepted from --token or HOLDFAST_ADMIN_TOKEN', async () => {
    const without = await cli(dir, ['status', '--url', guarded.url]);
    expect([without.code, without.stderr]).toEqual([1, expect.stringContaining('needs a token; pass --token or set HOLDFAST_ADMIN_TOKEN')]);
    const wrong = await cli(dir, ['status', '--url', guarded.url, '--token', 'nope', '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stderr)).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('refused the token') } });
    expect((await cli(dir, ['status', '--url', guarded.url, '--token', TOKEN])).code).toBe(0);
    expect((await cli(dir, ['runs', '--json'], { HOLDFAST_URL: guarded.url, HOLDFAST_ADMIN_TOKEN: TOKEN })).code).toBe(0);
    expect((await cli(dir, ['lane', 'status', '--url', guarded.url, '--token', TOKEN])).code).toBe(0);
  });

  it('connection refused: exit 1, naming the URL and saying to start holdfast serve', async () => {
    const gone = await serveApp(createAdminRoutes({ client: daemonStyleClient(seeded) }));
    await gone.close();
    for (const verb of [['status'], ['runs'], ['cancel', 'abc'], ['submit', '--key', 'k', '--flow', 'ok']]) {
      const out = await cli(dir, [...verb, '--url', gone.url]);
      expect(out.code, verb.join(' ')).toBe(1);
      expect(out.stderr).toContain(`cannot reach the holdfast admin API at ${gone.url}/ (connection refused)`);
      expect(out.stderr).toContain('start it with holdfast serve, or check --url');
    }
  });

  it('verbs that work on files only say so (exit 2); a malformed --url is a usage error', async () => {
    const acquire = await cli(dir, ['lane', 'acquire', '--lane', 'a', '--owner', 'w', '--url', open.url]);
    expect([acquire.code, acquire.stderr]).toEqual([2, expect.stringContaining('works on a database file only (--db)')]);
    const doctor = await cli(dir, ['doctor', '--url', open.url]);
    expect([doctor.code, doctor.stderr]).toEqual([2, expect.stringContaining('doctor checks a database file')]);
    const malformed = await cli(dir, ['status', '--url', 'not a url']);
    expect([malformed.code, malformed.stderr]).toEqual([2, expect.stringContaining('is not a URL')]);
    const tokenOnDb = await cli(dir, ['status', '--db', seeded.path, '--token', 'x']);
    expect([tokenOnDb.code, tokenOnDb.stderr]).toEqual([2, expect.stringContaining('--token applies to --url only')]);
  });
});
