/** D8, D4, K4: durable waits do not hold the key; wake-ups keep their journaled instant and their priority. */
import { describe, expect, it } from 'vitest';
import { defineFlow, type Priority } from 'holdfast';
import { seededRandom } from 'holdfast/testing';
import { deferred, outcome, settled, startKernel, stopKernel, until, world, type World } from './harness.js';

/** A step that takes `ms` of virtual time. */
function busy(w: World, ms: number): Promise<void> {
  return new Promise<void>((resolve) => w.clock.setTimer(ms, resolve));
}

describe('suspension: runs of one key', () => {
  it('while run A sleeps, runs B and C of the same key execute; A resumes at its wake instant', async () => {
    const w = world(1_000);
    const log: string[] = [];
    const sleeper = defineFlow('sleeper', async (ctx) => {
      await ctx.step('before', () => log.push(`A:before@${w.clock.now()}`));
      await ctx.sleep(10_000);
      await ctx.step('after', () => log.push(`A:after@${w.clock.now()}`));
      return 'A done';
    });
    const work = defineFlow('work', async (ctx, input: { name: string }) => {
      await ctx.step('work', async () => {
        log.push(`${input.name}:start@${w.clock.now()}`);
        await busy(w, 2_000);
        log.push(`${input.name}:end@${w.clock.now()}`);
      });
      return `${input.name} done`;
    });
    const { kernel, events } = await startKernel(w, [sleeper, work]);
    const a = await kernel.submit<null, string>({ key: 'repo', flow: 'sleeper' });
    await kernel.once('run:waiting', (e) => e.runId === a.id);
    const view = await kernel.getRun(a.id);
    expect(view?.status).toBe('waiting');
    expect(view?.wait).toMatchObject({ kind: 'timer', wakeAt: 11_000 });
    expect(view?.steps.map((s) => [s.name, s.result])).toEqual([
      ['before', 1],
      ['sleep', { until: 11_000 }],
    ]);
    const b = await kernel.submit<{ name: string }, string>({ key: 'repo', flow: 'work', input: { name: 'B' } });
    const c = await kernel.submit<{ name: string }, string>({ key: 'repo', flow: 'work', input: { name: 'C' } });
    const [ra, rb, rc] = [outcome(a), outcome(b), outcome(c)];
    await until(w.clock, () => ra.done && rb.done && rc.done);
    expect([ra.value, rb.value, rc.value]).toEqual(['A done', 'B done', 'C done']);
    expect(log).toEqual(['A:before@1000', 'B:start@1000', 'B:end@3000', 'C:start@3000', 'C:end@5000', 'A:after@11000']);
    expect(events('run:waiting').map((e) => [e.event.runId, e.event.kind, e.event.wakeAt])).toEqual([[a.id, 'timer', 11_000]]);
    expect(
      events('run:started')
        .filter((e) => e.event.runId === a.id)
        .map((e) => [e.at, e.event.attempt]),
    ).toEqual([
      [1_000, 1],
      [11_000, 2],
    ]);
    await kernel.stop();
  });

  it('a woken urgent run is claimed before queued normal ones; a woken normal run re-enters FIFO at its priority', async () => {
    const w = world(0);
    const order: string[] = [];
    const gate = deferred();
    const napper = defineFlow('napper', async (ctx, input: { name: string }) => {
      await ctx.sleepUntil(10_000);
      await ctx.step('run', () => order.push(`${input.name}@${w.clock.now()}`));
    });
    const blocker = defineFlow('blocker', async (ctx) => {
      await ctx.step('block', () => gate.promise);
      order.push(`blocker@${w.clock.now()}`);
    });
    const plain = defineFlow('plain', async (ctx, input: { name: string }) => {
      await ctx.step('run', () => order.push(`${input.name}@${w.clock.now()}`));
    });
    const { kernel } = await startKernel(w, [napper, blocker, plain]);
    const submit = async (flow: string, name: string, priority: Priority) => {
      const h = await kernel.submit({ key: 'k', flow, input: { name }, priority });
      return h;
    };
    const a = await submit('napper', 'A-normal', 'normal');
    await kernel.once('run:waiting', (e) => e.runId === a.id);
    const u = await submit('napper', 'U-urgent', 'urgent');
    await kernel.once('run:waiting', (e) => e.runId === u.id);
    const b = await submit('blocker', 'B', 'normal');
    await kernel.once('run:started', (e) => e.runId === b.id);
    const n = await submit('plain', 'N-normal', 'normal');
    const bg = await submit('plain', 'G-background', 'background');
    await w.clock.advanceTo(12_000); // both sleepers' waits are over; B still holds the key
    expect(order).toEqual([]);
    expect((await w.store.getRun(a.id))?.status).toBe('waiting');
    gate.resolve();
    const results = [a, u, b, n, bg].map((h) => outcome(h));
    await until(w.clock, () => results.every((r) => r.done));
    expect(order).toEqual(['blocker@12000', 'U-urgent@12000', 'A-normal@12000', 'N-normal@12000', 'G-background@12000']);
    await kernel.stop();
  });

  it('one run of a key executes at a time, across sleeps, wake-ups and two kernels (seeded random plans)', async () => {
    const w = world(0);
    const rnd = seededRandom(42);
    const violations: string[] = [];
    const inStep = new Map<string, number>();
    let maxAcrossKeys = 0;
    const plan = defineFlow('plan', async (ctx, input: { sleeps: number[]; work: number[] }) => {
      for (let i = 0; i < input.work.length; i++) {
        await ctx.step(`work-${i}`, async () => {
          const n = (inStep.get(ctx.key) ?? 0) + 1;
          inStep.set(ctx.key, n);
          if (n > 1) violations.push(`two steps of ${ctx.key} at ${w.clock.now()}`);
          maxAcrossKeys = Math.max(
            maxAcrossKeys,
            [...inStep.values()].reduce((x, y) => x + y, 0),
          );
          await busy(w, input.work[i]!);
          inStep.set(ctx.key, (inStep.get(ctx.key) ?? 1) - 1);
        });
        const nap = input.sleeps[i] ?? 0;
        if (nap > 0) await ctx.sleep(nap);
      }
      return input.work.length;
    });
    const kernels = [await startKernel(w, [plan]), await startKernel(w, [plan])];
    const active = new Map<string, Set<string>>();
    const track = (runId: string, key: string, on: boolean) => {
      const set = active.get(key) ?? new Set<string>();
      if (on) set.add(runId);
      else set.delete(runId);
      active.set(key, set);
      if (set.size > 1) violations.push(`runs ${[...set].join(', ')} of ${key} execute together at ${w.clock.now()}`);
    };
    for (const { kernel } of kernels) {
      kernel.on('run:started', (e) => track(e.runId, e.key, true));
      for (const name of ['run:waiting', 'run:completed', 'run:failed', 'run:cancelled', 'run:requeued'] as const) {
        kernel.on(name, (e) => track(e.runId, e.key, false));
      }
    }
    const handles = [];
    for (let i = 0; i < 16; i++) {
      const steps = 1 + Math.floor(rnd.next() * 3);
      const work = Array.from({ length: steps }, () => 100 + Math.floor(rnd.next() * 900));
      const sleeps = Array.from({ length: steps }, () => (rnd.next() < 0.6 ? Math.floor(rnd.next() * 3_000) : 0));
      const { kernel } = kernels[i % 2]!;
      handles.push(await kernel.submit({ key: i % 3 === 0 ? 'even' : 'odd', flow: 'plan', input: { sleeps, work } }));
    }
    const results = handles.map((h) => outcome(h));
    await until(w.clock, () => results.every((r) => r.done));
    expect(results.every((r) => r.error === undefined)).toBe(true);
    expect(violations).toEqual([]);
    expect(maxAcrossKeys).toBe(2); // the two keys do run in parallel
    const startedBy = kernels.map((k) => k.events('run:started').length);
    expect(startedBy.every((n) => n > 0)).toBe(true); // both kernels served runs
    await Promise.all(kernels.map((k) => k.kernel.stop()));
  });

  it('a sleeping run does not hold the owner lease; its wake-up acquires the key again at a higher epoch', async () => {
    const w = world(0);
    const nap = defineFlow('nap', async (ctx) => {
      await ctx.sleep(30_000);
      return ctx.fencingToken.epoch;
    });
    const { kernel, events } = await startKernel(w, [nap]);
    const h = await kernel.submit<null, number>({ key: 'k', flow: 'nap' });
    await kernel.once('owner:released');
    expect((await w.store.getRun(h.id))?.status).toBe('waiting');
    const lease = await w.store.getOwner('k');
    expect(lease?.ownerId).toBeNull();
    expect(lease?.epoch).toBe(1);
    const o = await settled(w.clock, h);
    expect(o.value).toBe(2);
    expect(events('owner:acquired').map((e) => [e.at, e.event.epoch])).toEqual([
      [0, 1],
      [30_000, 2],
    ]);
    await kernel.stop();
  });

  it('sleepUntil(Date) wakes at that instant; a past instant and sleep(0) do not wait', async () => {
    const w = world(5_000);
    const seen: number[] = [];
    const f = defineFlow('f', async (ctx) => {
      await ctx.sleepUntil(new Date(20_000));
      await ctx.step('a', () => seen.push(w.clock.now()));
      await ctx.sleepUntil(new Date(1_000)); // in the past
      await ctx.sleep(0);
      await ctx.step('b', () => seen.push(w.clock.now()));
    });
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.error).toBeUndefined();
    expect(seen).toEqual([20_000, 20_000]);
    expect(events('run:waiting').map((e) => e.event.wakeAt)).toEqual([20_000]);
    const steps = await w.store.getSteps(h.id);
    expect(steps.map((s) => [s.name, s.result])).toEqual([
      ['sleep', { until: 20_000 }],
      ['a', 1],
      ['sleep', { until: 1_000 }],
      ['sleep', { until: 20_000 }],
      ['b', 2],
    ]);
    await kernel.stop();
  });

  it('the wake instant is journaled: a new kernel on the same store wakes the run at the original instant', async () => {
    const w = world(1_000);
    const after: number[] = [];
    const f = defineFlow('f', async (ctx) => {
      await ctx.sleep(10_000);
      await ctx.step('after', () => after.push(w.clock.now()));
      return 'woke';
    });
    const first = await startKernel(w, [f]);
    const h = await first.kernel.submit<null, string>({ key: 'k', flow: 'f' });
    await first.kernel.once('run:waiting');
    await w.clock.advanceTo(4_000);
    await stopKernel(w, first.kernel);
    await w.clock.advanceTo(7_000); // no kernel runs meanwhile
    expect((await w.store.getRun(h.id))?.wait?.wakeAt).toBe(11_000);
    const second = await startKernel(w, [f]);
    const o = await settled(w.clock, second.kernel.handle<string>(h.id));
    expect(o.value).toBe('woke');
    expect(after).toEqual([11_000]);
    expect(second.events('run:started').map((e) => e.at)).toEqual([11_000]);
    await second.kernel.stop();
  });
});
