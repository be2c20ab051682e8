import { describe, expect, it } from 'vitest';
import { TerminalError, createKernel, defineFlow, memoryStore, type Json } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

async function until(clock: ReturnType<typeof virtualClock>, check: () => boolean, maxMs = 600_000, stepMs = 100): Promise<void> {
  for (let t = 0; !check(); t += stepMs) {
    if (t > maxMs) throw new Error('condition not reached');
    await clock.advance(stepMs);
  }
}

describe('durable execution smoke', () => {
  it('sleep waits without the key and wakes at its deadline; another run of the key runs meanwhile', async () => {
    const clock = virtualClock(1_000);
    const store = memoryStore();
    const log: string[] = [];
    const sleeper = defineFlow('sleeper', async (ctx) => {
      await ctx.step('before', () => log.push(`before@${clock.now()}`));
      await ctx.sleep(5_000);
      await ctx.step('after', () => log.push(`after@${clock.now()}`));
      return 'slept';
    });
    const quick = defineFlow('quick', async (ctx) => ctx.step('q', () => log.push(`quick@${clock.now()}`)));
    const kernel = createKernel({ store, flows: [sleeper, quick], clock, random: seededRandom(1), pollIntervalMs: 60_000 });
    await kernel.start();
    const a = await kernel.submit({ key: 'k', flow: 'sleeper' });
    await kernel.once('run:waiting');
    expect((await store.getRun(a.id))?.status).toBe('waiting');
    await kernel.submit({ key: 'k', flow: 'quick' });
    await until(clock, () => log.some((l) => l.startsWith('quick')));
    let result: unknown;
    void a.result().then((r) => (result = r));
    await until(clock, () => result !== undefined);
    expect(result).toBe('slept');
    expect(log).toEqual(['before@1000', expect.stringMatching(/^quick@/), 'after@6000']);
    await kernel.stop();
  });

  it('effects: claimed, emitted once with the key, recorded; a second run with the same key gets the first artifact', async () => {
    const clock = virtualClock(0);
    const store = memoryStore();
    const emitted: string[] = [];
    let failFirst = true;
    const reply = defineFlow('reply', async (ctx, input: { n: number }) =>
      ctx.effect(
        'post',
        ({ idempotencyKey, attempt }) => {
          emitted.push(`${idempotencyKey}#${attempt}`);
          if (failFirst) {
            failFirst = false;
            throw new Error('502');
          }
          return { comment: `c-${input.n}` };
        },
        { key: 'reply:pr-1' },
      ),
    );
    const kernel = createKernel({ store, flows: [reply], clock, random: seededRandom(2), pollIntervalMs: 60_000 });
    await kernel.start();
    const one = await kernel.submit({ key: 'k', flow: 'reply', input: { n: 1 } });
    let r1: unknown;
    void one.result().then((r) => (r1 = r));
    await until(clock, () => r1 !== undefined);
    expect(r1).toEqual({ comment: 'c-1' });
    expect(emitted).toEqual(['reply:pr-1#1', 'reply:pr-1#2']);
    const two = await kernel.submit({ key: 'k2', flow: 'reply', input: { n: 2 } });
    let r2: unknown;
    void two.result().then((r) => (r2 = r));
    await until(clock, () => r2 !== undefined);
    expect(r2).toEqual({ comment: 'c-1' });
    expect(emitted).toHaveLength(2);
    expect((await store.listEffects()).map((e) => [e.key, e.status, e.attempts])).toEqual([['reply:pr-1', 'delivered', 2]]);
    await kernel.stop();
  });

  it('children: spawn, join (the parent waits without its key), a failing child fails the join', async () => {
    const clock = virtualClock(0);
    const store = memoryStore();
    const child = defineFlow('child', async (ctx, input: { n: number }) => {
      if (input.n < 0) throw new TerminalError('negative', 'bad_n');
      return ctx.step('double', () => input.n * 2);
    });
    const parent = defineFlow('parent', async (ctx, input: { ns: number[] }) => {
      const kids = [];
      for (const n of input.ns) kids.push(await ctx.spawn('child', { n }));
      const results: Json[] = [];
      for (const kid of kids) {
        try {
          results.push(await ctx.join<number>(kid));
        } catch (error) {
          results.push((error as { code: string }).code);
        }
      }
      return results;
    });
    const kernel = createKernel({ store, flows: [parent, child], clock, random: seededRandom(3), pollIntervalMs: 60_000 });
    await kernel.start();
    const p = await kernel.submit({ key: 'k', flow: 'parent', input: { ns: [1, -1, 3] } });
    let result: unknown;
    void p.result().then((r) => (result = r));
    await until(clock, () => result !== undefined);
    expect(result).toEqual([2, 'child_failed', 6]);
    expect((await store.childrenOf(p.id)).map((c) => c.status)).toEqual(['completed', 'failed', 'completed']);
    await kernel.stop();
  });

  it('deadline: a run past its deadline fails with code deadline', async () => {
    const clock = virtualClock(0);
    const slow = defineFlow(
      'slow',
      async (ctx) => {
        await ctx.sleep(10_000);
        return 'late';
      },
      { deadlineMs: 3_000 },
    );
    const kernel = createKernel({ store: memoryStore(), flows: [slow], clock, random: seededRandom(4), pollIntervalMs: 60_000 });
    await kernel.start();
    const h = await kernel.submit({ key: 'k', flow: 'slow' });
    let error: unknown;
    void h.result().catch((e: unknown) => (error = e));
    await until(clock, () => error !== undefined);
    expect(error).toMatchObject({ code: 'deadline' });
    expect(clock.now()).toBeLessThan(4_000);
    await kernel.stop();
  });

  it('schedules fire once per tick; retention compacts finished runs keeping their summary', async () => {
    const clock = virtualClock(0);
    const store = memoryStore();
    const ticks: number[] = [];
    const tick = defineFlow('tick', async (ctx) => ctx.step('t', () => ticks.push(clock.now())));
    const kernel = createKernel({
      store,
      flows: [tick],
      clock,
      random: seededRandom(5),
      pollIntervalMs: 60_000,
      retention: { completedAfterMs: 10_000 },
    });
    await kernel.start();
    await kernel.schedule({ id: 'every-5s', key: 'k', flow: 'tick', every: 5_000 });
    await until(clock, () => ticks.length >= 3);
    expect(ticks.slice(0, 3)).toEqual([5_000, 10_000, 15_000]);
    await expect(kernel.schedule({ id: 'every-5s', key: 'k', flow: 'tick', every: 6_000 })).rejects.toMatchObject({
      code: 'schedule_conflict',
    });
    await clock.advance(80_000);
    const runs = await store.listRuns({ status: ['completed'] });
    expect(runs.some((r) => r.compacted)).toBe(true);
    const compacted = runs.find((r) => r.compacted)!;
    expect(await store.getSteps(compacted.id)).toEqual([]);
    await kernel.stop();
  });
});
