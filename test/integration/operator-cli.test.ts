import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, sqliteStore } from 'holdfast';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in this process (the same code path as the binary), capturing its output. */
async function cli(cwd: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd });
  return { code, stdout, stderr };
}

let broken = true;
let prepared = 0;
const flaky = defineFlow('flaky', async (ctx) => {
  await ctx.step('prepare', () => ++prepared);
  return ctx.step('deploy', () => {
    if (broken) throw new Error('credentials missing');
    return 'deployed';
  });
});

const waiting = defineFlow('waiting', async (ctx) =>
  ctx.step('wait', ({ signal }) => new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null)))),
);

describe('holdfast retry / cancel', () => {
  it('retry re-opens a failed run from its last committed step; the idempotence key keeps naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-operator-'));
    const db = join(dir, 'state.db');
    const store = sqliteStore({ path: db });
    const first = createKernel({ store, flows: [flaky] });
    await first.start();
    const handle = await first.submit({ key: 'repo:a', flow: 'flaky', idempotencyKey: 'delivery-1' });
    await expect(handle.result()).rejects.toMatchObject({ code: 'flow_error' });
    await first.stop();
    expect(prepared).toBe(1);

    broken = false;
    const retried = await cli(dir, 'retry', handle.id, '--db', db, '--json');
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual({ runId: handle.id, status: 'queued' });

    const second = createKernel({ store, flows: [flaky] });
    await second.start();
    expect(await second.handle(handle.id).result()).toBe('deployed');
    expect(prepared).toBe(1); // the committed step was not run again
    const again = await second.submit({ key: 'repo:a', flow: 'flaky', idempotencyKey: 'delivery-1' });
    expect([again.id, again.created]).toEqual([handle.id, false]);
    await second.stop();

    const shown = await cli(dir, 'run', handle.id, '--db', db, '--json');
    const view = JSON.parse(shown.stdout) as { status: string; attempts: number; actions: { action: string; detail: string }[] };
    expect(view.status).toBe('completed');
    expect(view.attempts).toBe(2);
    expect(view.actions.map((a) => [a.action, a.detail])).toEqual([['retry', 'failed']]);

    const completed = await cli(dir, 'retry', handle.id, '--db', db);
    expect([completed.code, completed.stderr]).toEqual([3, expect.stringContaining('only a failed or cancelled run can be retried')]);
    const unknown = await cli(dir, 'retry', 'no-such-run', '--db', db);
    expect([unknown.code, unknown.stderr]).toEqual([3, expect.stringContaining('no run with id no-such-run')]);
    await store.close();
  });

  it('cancel reaches the owning kernel over its wake channel and ends the run cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-operator-'));
    const db = join(dir, 'state.db');
    const store = sqliteStore({ path: db });
    const kernel = createKernel({ store, flows: [waiting], pollIntervalMs: 60_000 });
    await kernel.start();
    const handle = await kernel.submit({ key: 'repo:w', flow: 'waiting' });
    await kernel.once('run:started');
    const cancelled = await cli(dir, 'cancel', handle.id, '--db', db, '--json');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toEqual({ runId: handle.id, status: 'running' });
    await expect(handle.result()).rejects.toMatchObject({ code: 'cancelled', status: 'cancelled' });
    await kernel.stop();
    await store.close();
  });

  it('bad input: no run id, a mode on retry, an unknown mode, a missing database (not created)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-operator-'));
    expect((await cli(dir, 'retry')).code).toBe(2);
    expect((await cli(dir, 'retry', 'x', '--mode', 'abort-keep')).code).toBe(2);
    const badMode = await cli(dir, 'cancel', 'x', '--mode', 'steal');
    expect([badMode.code, badMode.stderr]).toEqual([2, expect.stringContaining('--mode must be abort-drop or abort-keep')]);
    const missing = await cli(dir, 'cancel', 'x', '--db', 'typo.db');
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('no database at')]);
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
  });
});
