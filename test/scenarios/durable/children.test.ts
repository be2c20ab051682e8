/** D7: child runs — spawn, join, call, the tangle resume, cancellation of a parent's children. */
import { describe, expect, it } from 'vitest';
import { ChildFailedError, TerminalError, defineFlow, type ChildRun, type Json } from 'holdfast';
import { never, outcome, settled, startKernel, stopKernel, until, world } from './harness.js';

describe('children', () => {
  it('spawn, join and call; a child on the parent key runs while the parent waits; a re-run spawns nothing again', async () => {
    const w = world(0);
    const parentExecutions: number[] = [];
    const double = defineFlow('double', async (ctx, input: { n: number }) => ctx.step('double', () => input.n * 2));
    const parent = defineFlow('parent', async (ctx, input: { n: number }) => {
      parentExecutions.push(ctx.attempt);
      const child: ChildRun = await ctx.spawn('double', { n: input.n });
      const joined = await ctx.join<number>(child);
      const called = await ctx.call<number>('double', { n: joined }, { key: 'elsewhere' });
      return { child: { key: child.key, flow: child.flow }, joined, called };
    });
    const { kernel, events } = await startKernel(w, [parent, double]);
    const p = await kernel.submit({ key: 'repo', flow: 'parent', input: { n: 5 } });
    await kernel.once('run:waiting', (e) => e.runId === p.id);
    expect((await w.store.getRun(p.id))?.wait).toMatchObject({ kind: 'child', wakeAt: null });
    const o = await settled(w.clock, p);
    expect(o.value).toEqual({ child: { key: 'repo', flow: 'double' }, joined: 10, called: 20 });
    const children = await w.store.childrenOf(p.id);
    expect(children.map((c) => [c.key, c.flow, c.status, c.result, c.parentId])).toEqual([
      ['repo', 'double', 'completed', 10, p.id],
      ['elsewhere', 'double', 'completed', 20, p.id],
    ]);
    expect(events('run:spawned').map((e) => [e.event.runId, e.event.parentId])).toEqual(children.map((c) => [c.id, p.id]));
    // The first child ran on the parent's key while the parent waited for it.
    const started = events('run:started').map((e) => e.event.runId);
    expect(started).toEqual([p.id, children[0]!.id, p.id, children[1]!.id, p.id]);
    expect(parentExecutions).toEqual([1, 2, 3]);
    expect((await w.store.getSteps(p.id)).map((s) => s.name)).toEqual(['spawn:double', 'join', 'spawn:double', 'join']);
    await kernel.stop();
  });

  it('a failed child makes join throw child_failed with its error; the other children are unaffected', async () => {
    const w = world(0);
    const child = defineFlow('child', async (ctx, input: { n: number }) => {
      if (input.n < 0) throw new TerminalError('negative input', 'bad_n');
      return ctx.step('double', () => input.n * 2);
    });
    const parent = defineFlow('parent', async (ctx, input: { ns: number[] }) => {
      const kids: ChildRun[] = [];
      for (const n of input.ns) kids.push(await ctx.spawn('child', { n }));
      const results: Json[] = [];
      for (const kid of kids) {
        try {
          results.push(await ctx.join<number>(kid));
        } catch (error) {
          if (!(error instanceof ChildFailedError)) throw error;
          results.push([error.code, error.childId === kid.id, error.childError.code, error.childError.message]);
        }
      }
      return results;
    });
    const { kernel } = await startKernel(w, [parent, child]);
    const p = await kernel.submit({ key: 'k', flow: 'parent', input: { ns: [1, -1, 3] } });
    expect((await settled(w.clock, p)).value).toEqual([2, ['child_failed', true, 'bad_n', 'negative input'], 6]);
    expect((await w.store.childrenOf(p.id)).map((c) => [c.status, c.error?.code ?? null])).toEqual([
      ['completed', null],
      ['failed', 'bad_n'],
      ['completed', null],
    ]);
    await kernel.stop();
  });

  it('tangle resume: stopped after a and b settled, a new kernel re-runs only c and the parent returns all three', async () => {
    const w = world(0);
    const executions: Record<string, number> = { a: 0, b: 0, c: 0 };
    let blockC = true;
    const leaf = defineFlow('leaf', async (ctx, input: { name: 'a' | 'b' | 'c'; ms: number }) =>
      ctx.step('work', async () => {
        executions[input.name]!++;
        await new Promise<void>((resolve) => w.clock.setTimer(input.ms, resolve));
        if (input.name === 'c' && blockC) await never();
        return `${input.name}:done`;
      }),
    );
    const tangle = defineFlow('tangle', async (ctx) => {
      const kids: ChildRun[] = [];
      for (const [name, ms] of [
        ['a', 100],
        ['b', 200],
        ['c', 300],
      ] as const) {
        kids.push(await ctx.spawn('leaf', { name, ms }, { key: `${ctx.key}/${name}` }));
      }
      const results: Json[] = [];
      for (const kid of kids) results.push(await ctx.join(kid));
      return results;
    });
    const first = await startKernel(w, [tangle, leaf], { interruptGraceMs: 100 });
    const p = await first.kernel.submit<null, string[]>({ key: 'tangle', flow: 'tangle' });
    await until(w.clock, async () => (await w.store.childrenOf(p.id)).filter((c) => c.status === 'completed').length === 2);
    const before = await w.store.childrenOf(p.id);
    expect(before.map((c) => c.status)).toEqual(['completed', 'completed', 'running']);
    await stopKernel(w, first.kernel);
    expect((await w.store.childrenOf(p.id)).map((c) => c.status)).toEqual(['completed', 'completed', 'queued']);
    blockC = false;
    const second = await startKernel(w, [tangle, leaf]);
    const o = await settled(w.clock, second.kernel.handle<string[]>(p.id));
    expect(o.value).toEqual(['a:done', 'b:done', 'c:done']);
    expect(executions).toEqual({ a: 1, b: 1, c: 2 });
    const children = await w.store.childrenOf(p.id);
    expect(children.map((c) => [c.key, c.status, c.result])).toEqual([
      ['tangle/a', 'completed', 'a:done'],
      ['tangle/b', 'completed', 'b:done'],
      ['tangle/c', 'completed', 'c:done'],
    ]);
    expect(children.map((c) => c.id)).toEqual(before.map((c) => c.id));
    expect(second.events('run:spawned')).toEqual([]); // the parent's re-runs replay their spawns
    expect(second.events('run:started').map((e) => e.event.runId)).not.toContain(children[0]!.id);
    await second.kernel.stop();
  });

  it('cancelling a waiting parent with abort-drop cancels its unfinished children (promptly, not at the next poll)', async () => {
    const w = world(0);
    const kid = defineFlow('kid', async (ctx, input: { ms: number }) => {
      await ctx.sleep(input.ms);
      return 'kid done';
    });
    const busyKid = defineFlow('busy-kid', async (ctx) =>
      ctx.step(
        'spin',
        ({ signal }) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      ),
    );
    const quick = defineFlow('quick', async () => 'quick done');
    const parent = defineFlow('parent', async (ctx) => {
      const done = await ctx.spawn('quick', null);
      const sleeping = await ctx.spawn('kid', { ms: 600_000 });
      const running = await ctx.spawn('busy-kid', null, { key: 'worker' });
      await ctx.join(done);
      await ctx.join(sleeping);
      return ctx.join(running);
    });
    const { kernel } = await startKernel(w, [parent, kid, busyKid, quick]);
    const p = await kernel.submit({ key: 'repo', flow: 'parent' });
    await until(w.clock, async () => {
      const kids = await w.store.childrenOf(p.id);
      return kids.map((k) => k.status).join() === 'completed,waiting,running' && (await w.store.getRun(p.id))?.status === 'waiting';
    });
    expect(await kernel.cancel(p.id, { mode: 'abort-drop' })).toBe('waiting');
    const o = outcome(kernel.handle(p.id));
    await until(w.clock, () => o.done, { maxMs: 1_000 }); // the safety-net poll is a minute away
    expect(o.error).toMatchObject({ code: 'cancelled', status: 'cancelled' });
    await until(w.clock, async () => (await w.store.childrenOf(p.id)).every((k) => k.status !== 'waiting' && k.status !== 'running'), {
      maxMs: 1_000,
    });
    expect((await w.store.childrenOf(p.id)).map((k) => [k.flow, k.status])).toEqual([
      ['quick', 'completed'],
      ['kid', 'cancelled'],
      ['busy-kid', 'cancelled'],
    ]);
    await kernel.stop();
  });

  it('cancelling a running parent with abort-drop cancels its unfinished children', async () => {
    const w = world(0);
    const kid = defineFlow('kid', async (ctx) => {
      await ctx.sleep(600_000);
      return 'kid done';
    });
    const parent = defineFlow('parent', async (ctx) => {
      await ctx.spawn('kid', null, { key: 'kids' });
      await ctx.spawn('kid', null, { key: 'kids' });
      await ctx.step(
        'long',
        ({ signal }) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      );
    });
    const { kernel, events } = await startKernel(w, [parent, kid]);
    const p = await kernel.submit({ key: 'repo', flow: 'parent' });
    await until(w.clock, async () => (await w.store.childrenOf(p.id)).every((k) => k.status === 'waiting'));
    expect(await kernel.cancel(p.id)).toBe('running');
    await until(w.clock, async () => (await w.store.childrenOf(p.id)).every((k) => k.status === 'cancelled'), { maxMs: 1_000 });
    expect((await w.store.getRun(p.id))?.status).toBe('cancelled');
    expect(
      events('run:cancelled')
        .map((e) => e.event.runId)
        .sort(),
    ).toEqual([p.id, ...(await w.store.childrenOf(p.id)).map((k) => k.id)].sort());
    await kernel.stop();
  });
});
