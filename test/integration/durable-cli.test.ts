import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RetryableError, TerminalError, createKernel, defineFlow, sqliteStore, type EffectRecord } from 'holdfast';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in this process (the same code path as the binary), capturing its output. */
async function cli(cwd: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd });
  return { code, stdout, stderr };
}

let flaky = 0;
const child = defineFlow('child', async (ctx, input: { n: number }) =>
  ctx.step('work', () => {
    if (input.n === 2 && flaky++ === 0) throw new RetryableError('first try fails', { retryAfterMs: 10 });
    return input.n * 10;
  }),
);
const parent = defineFlow('parent', async (ctx) => {
  const a = await ctx.spawn('child', { n: 1 });
  const b = await ctx.spawn('child', { n: 2 });
  const posted = await ctx.effect('reply', () => ({ comment: 'c-1' }), { key: 'reply:pr-7' });
  return { a: await ctx.join<number>(a), b: await ctx.join<number>(b), posted };
});
const broken = defineFlow('broken', async (ctx) =>
  ctx.effect('notify', () => {
    throw new TerminalError('recipient does not exist', 'no_recipient');
  }),
);

describe('holdfast run (tree), outbox, journal compact', () => {
  it('shows the spawn tree with failed attempts, lists the outbox, and compacts ended runs keeping their summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-durable-cli-'));
    const db = join(dir, 'state.db');
    const store = sqliteStore({ path: db });
    const kernel = createKernel({ store, flows: [parent, child, broken] });
    await kernel.start();
    const p = await kernel.submit({ key: 'repo:a', flow: 'parent', idempotencyKey: 'delivery-1' });
    expect(await p.result()).toEqual({ a: 10, b: 20, posted: { comment: 'c-1' } });
    const bad = await kernel.submit({ key: 'repo:b', flow: 'broken' });
    await expect(bad.result()).rejects.toMatchObject({ code: 'no_recipient' });
    await kernel.stop();
    await store.close();

    const shown = await cli(dir, 'run', p.id, '--db', db, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    type View = { status: string; steps: { name: string }[]; children: (View & { failedAttempts: { attempt: number }[] })[] };
    const view = JSON.parse(shown.stdout) as View;
    expect(view.steps.map((s) => s.name)).toEqual(['spawn:child', 'spawn:child', 'effect:reply', 'join', 'join']);
    expect(view.children.map((c) => [c.status, c.failedAttempts.map((a) => a.attempt)])).toEqual([
      ['completed', []],
      ['completed', [1]],
    ]);
    const text = await cli(dir, 'run', p.id, '--db', db);
    expect(text.stdout).toMatch(/child:\n\s+\S+\s+repo:a\s+child/);
    expect(text.stdout).toContain('attempt 1 failed: retryable: first try fails');

    const owed = await cli(dir, 'outbox', '--db', db, '--json');
    const failed = owed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EffectRecord);
    expect(failed.map((e) => [e.name, e.status, e.error?.code, e.nextAttemptAt])).toEqual([['notify', 'failed', 'no_recipient', null]]);
    const delivered = await cli(dir, 'outbox', '--status', 'delivered', '--db', db, '--json');
    expect((JSON.parse(delivered.stdout.trim()) as EffectRecord).artifact).toEqual({ comment: 'c-1' });
    expect((await cli(dir, 'outbox', '--status', 'all', '--db', db)).stdout.trim().split('\n')).toHaveLength(2);

    const compacted = await cli(dir, 'journal', 'compact', '--older-than', '0', '--db', db, '--json');
    expect(compacted.code, compacted.stderr).toBe(0);
    const totals = JSON.parse(compacted.stdout) as { runs: number; steps: number; bytes: number };
    expect(totals.runs).toBe(4);
    expect(totals.steps).toBe(7);
    expect(totals.bytes).toBeGreaterThan(0);
    const after = JSON.parse((await cli(dir, 'run', p.id, '--db', db, '--json')).stdout) as View & { compacted: boolean; result: unknown };
    expect([after.status, after.compacted, after.steps, after.result]).toEqual([
      'completed',
      true,
      [],
      { a: 10, b: 20, posted: { comment: 'c-1' } },
    ]);
    expect(JSON.parse((await cli(dir, 'journal', 'compact', '--older-than', '0', '--db', db, '--json')).stdout)).toEqual({
      runs: 0,
      steps: 0,
      bytes: 0,
    });

    const reopened = sqliteStore({ path: db });
    const again = await reopened.enqueue({
      id: 'x',
      key: 'repo:a',
      flow: 'parent',
      input: null,
      idempotencyKey: 'delivery-1',
      priority: 'normal',
      preempt: null,
      now: 1,
    });
    expect([again.created, again.run.id, again.run.status]).toEqual([false, p.id, 'completed']);
    await reopened.close();
  });

  it('bad input: an unknown status, a bad duration, no subcommand, a missing database (not created)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-durable-cli-'));
    const status = await cli(dir, 'outbox', '--status', 'nope');
    expect([status.code, status.stderr]).toEqual([2, expect.stringContaining('--status must be owed, failed, delivered or all')]);
    const duration = await cli(dir, 'journal', 'compact', '--older-than', 'banana');
    expect([duration.code, duration.stderr]).toEqual([2, expect.stringContaining('--older-than must be a duration')]);
    expect((await cli(dir, 'journal')).code).toBe(2);
    const missing = await cli(dir, 'outbox', '--db', 'typo.db');
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('no database at')]);
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
  });
});
