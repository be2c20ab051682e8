/** S5: ctx.scratchDir() — one real directory per run, kept across its executions, removed when it ends. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TerminalError, defineFlow } from 'holdfast';
import { outcome, startKernel, until, world, type World } from './harness.js';

type End = 'complete' | 'fail' | 'cancel';

interface Seen {
  readonly runId: string;
  readonly phase: 'first' | 'after-sleep';
  readonly dir: string;
  readonly existed: boolean;
  readonly note: string | undefined;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'holdfast-durable-scratch-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Real file-system removal finishes on the thread pool: let the loop turn (virtual time barely moves). */
async function removed(w: World, dir: string): Promise<void> {
  await until(w.clock, () => !existsSync(dir), { maxMs: 5_000, stepMs: 5 });
}

describe('scratch directories', () => {
  it('exists during the run, is the same across calls and executions, differs per run, is removed at every end', async () => {
    const w = world(0);
    const seen: Seen[] = [];
    const scratchy = defineFlow('scratchy', async (ctx, input: { end: End }) => {
      const first = await ctx.scratchDir();
      const again = await ctx.scratchDir();
      if (again !== first) throw new Error('scratchDir changed within one execution');
      await ctx.step('write', async () => {
        await writeFile(join(first, 'note.txt'), `written by ${ctx.runId}`);
        seen.push({ runId: ctx.runId, phase: 'first', dir: first, existed: existsSync(first), note: undefined });
      });
      await ctx.sleep(1_000); // the flow runs again from the start in a new execution
      const later = await ctx.scratchDir();
      const note = await readFile(join(later, 'note.txt'), 'utf8').catch(() => undefined);
      seen.push({ runId: ctx.runId, phase: 'after-sleep', dir: later, existed: existsSync(later), note });
      if (input.end === 'fail') throw new TerminalError('failing on purpose', 'on_purpose');
      if (input.end === 'cancel') {
        await ctx.step(
          'wait-for-cancel',
          ({ signal }) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
        );
      }
      return later;
    });
    const { kernel } = await startKernel(w, [scratchy], { scratchRoot: root });
    const ends: End[] = ['complete', 'fail', 'cancel'];
    const handles = [];
    for (const end of ends) handles.push(await kernel.submit({ key: `k-${end}`, flow: 'scratchy', input: { end } }));
    const results = handles.map((h) => outcome(h));
    await until(w.clock, () => seen.filter((s) => s.phase === 'after-sleep').length === 3);
    // Every run is between its last step and its end (or blocked in its last step): dirs exist.
    const cancelled = handles[2]!;
    for (const h of handles) {
      const dirs = seen.filter((s) => s.runId === h.id);
      expect(dirs.map((s) => s.dir)).toEqual([join(root, h.id), join(root, h.id)]);
      expect(dirs.every((s) => s.existed)).toBe(true);
      expect(dirs[1]!.note).toBe(`written by ${h.id}`);
    }
    expect(new Set(seen.map((s) => s.dir)).size).toBe(3);
    expect(existsSync(join(root, cancelled.id))).toBe(true);
    await kernel.cancel(cancelled.id, { mode: 'abort-drop' });
    await until(w.clock, () => results.every((r) => r.done));
    expect(results.map((r) => r.value ?? r.error?.status)).toEqual([join(root, handles[0]!.id), 'failed', 'cancelled']);
    for (const h of handles) await removed(w, join(root, h.id));
    await kernel.stop();
  });

  it('a run that never asks for one gets no directory; the root holds only live runs', async () => {
    const w = world(0);
    const plain = defineFlow('plain', async (ctx) => ctx.step('s', () => 'no scratch'));
    const holder = defineFlow('holder', async (ctx) => {
      const dir = await ctx.scratchDir();
      await ctx.sleep(10_000);
      return dir;
    });
    const { kernel } = await startKernel(w, [plain, holder], { scratchRoot: root });
    const p = await kernel.submit({ key: 'k', flow: 'plain' });
    const h = await kernel.submit({ key: 'k', flow: 'holder' });
    const [op, oh] = [outcome(p), outcome(h)];
    await until(w.clock, () => op.done);
    await kernel.once('run:waiting');
    expect(existsSync(join(root, p.id))).toBe(false);
    expect(existsSync(join(root, h.id))).toBe(true);
    await until(w.clock, () => oh.done);
    expect(oh.value).toBe(join(root, h.id));
    await removed(w, join(root, h.id));
    await kernel.stop();
  });
});
