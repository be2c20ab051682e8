/** Bad input to the durable API: a typed error naming the field, and nothing written. */
import { describe, expect, it } from 'vitest';
import { defineFlow, type Json, type ScheduleOptions } from 'holdfast';
import { caught, settled, startKernel, world } from './harness.js';

type Caught = { code: string; message: string } | undefined;

describe('bad input', () => {
  it('sleep: negative, NaN or infinite ms, and sleepUntil(invalid Date) throw invalid_sleep and journal nothing', async () => {
    const w = world(0);
    const f = defineFlow('f', async (ctx) => {
      const errors: Caught[] = [];
      for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) errors.push(await caught(() => ctx.sleep(ms)));
      errors.push(await caught(() => ctx.sleepUntil(new Date('not a date'))));
      errors.push(await caught(() => ctx.sleepUntil(Number.NaN)));
      return errors as Json;
    });
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit<null, Caught[]>({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    const errors = o.value!;
    expect(errors.map((e) => e?.code)).toEqual(Array(6).fill('invalid_sleep'));
    for (const e of errors.slice(0, 4)) expect(e?.message).toMatch(/ctx\.sleep\(ms\): ms must be/);
    for (const e of errors.slice(4)) expect(e?.message).toMatch(/ctx\.sleepUntil\(until\): until must be/);
    expect(await w.store.getSteps(h.id)).toEqual([]);
    expect(events('run:waiting')).toEqual([]);
    await kernel.stop();
  });

  it('sleep: the error shows the value it got (NaN and Infinity are not "null")', async () => {
    const w = world(0);
    const f = defineFlow('f', async (ctx) => [await caught(() => ctx.sleep(Number.NaN)), await caught(() => ctx.sleep(Infinity))] as Json);
    const { kernel } = await startKernel(w, [f]);
    const o = await settled(w.clock, await kernel.submit<null, Caught[]>({ key: 'k', flow: 'f' }));
    expect(o.value?.[0]?.message).toContain('NaN');
    expect(o.value?.[1]?.message).toContain('Infinity');
    await kernel.stop();
  });

  it('an uncaught bad sleep fails the run with invalid_sleep', async () => {
    const w = world(0);
    const f = defineFlow('f', async (ctx) => {
      await ctx.sleep(-5);
    });
    const { kernel } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    expect((await settled(w.clock, h)).error).toMatchObject({ code: 'invalid_sleep', status: 'failed' });
    expect(await w.store.getSteps(h.id)).toEqual([]);
    await kernel.stop();
  });

  it('schedule: invalid cron, every <= 0, two timings at once, none at all: invalid_schedule naming the field', async () => {
    const w = world(0);
    const tick = defineFlow('tick', async () => null);
    const { kernel } = await startKernel(w, [tick]);
    const base = { key: 'k', flow: 'tick' };
    const cases: [ScheduleOptions, RegExp][] = [
      [{ ...base, id: 'bad-cron', cron: 'every tuesday' }, /cron "every tuesday" is not valid/],
      [{ ...base, id: 'bad-cron-2', cron: '61 * * * *' }, /cron "61 \* \* \* \*" is not valid/],
      [{ ...base, id: 'zero', every: 0 }, /every must be a positive number/],
      [{ ...base, id: 'negative', every: -1_000 }, /every must be a positive number/],
      [{ ...base, id: 'two', every: 1_000, cron: '* * * * *' }, /give exactly one of every, cron or at \(got every, cron\)/],
      [{ ...base, id: 'none' }, /give exactly one of every, cron or at \(got none\)/],
      [{ ...base, id: 'bad-at', at: new Date('nope') }, /at must be a Date/],
    ];
    for (const [options, message] of cases) {
      const error = await caught(() => kernel.schedule(options));
      expect(error, options.id).toMatchObject({ code: 'invalid_schedule' });
      expect(error?.message, options.id).toMatch(message);
    }
    expect(await w.store.listSchedules()).toEqual([]);
    await w.clock.advance(120_000);
    expect(await w.store.listRuns({})).toEqual([]);
    await kernel.stop();
  });

  it('schedule: the same id with another spec is schedule_conflict naming what differs; the first is kept', async () => {
    const w = world(0);
    const tick = defineFlow('tick', async () => null);
    const { kernel } = await startKernel(w, [tick]);
    const first = await kernel.schedule({ id: 's', key: 'k', flow: 'tick', every: 5_000 });
    const timing = await caught(() => kernel.schedule({ id: 's', key: 'k', flow: 'tick', every: 6_000 }));
    expect(timing).toMatchObject({ code: 'schedule_conflict' });
    expect(timing?.message).toContain('another timing');
    const key = await caught(() => kernel.schedule({ id: 's', key: 'other', flow: 'tick', every: 5_000 }));
    expect(key?.message).toContain('another key');
    const catchUp = await caught(() => kernel.schedule({ id: 's', key: 'k', flow: 'tick', every: 5_000, catchUp: false }));
    expect(catchUp?.message).toContain('another catchUp');
    expect(await w.store.listSchedules()).toEqual([first]);
    expect(await kernel.schedule({ id: 's', key: 'k', flow: 'tick', every: 5_000 })).toEqual(first);
    await kernel.stop();
  });

  it('effect: a key reused by another effect name is effect_key_conflict; its fn is not called and nothing is written', async () => {
    const w = world(0);
    const called: string[] = [];
    const f = defineFlow('f', async (ctx) => {
      await ctx.effect('post-comment', () => (called.push('post'), 'c-1'), { key: 'thread-9' });
      return (await caught(() => ctx.effect('edit-comment', () => (called.push('edit'), 'c-2'), { key: 'thread-9' }))) ?? null;
    });
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit<null, Caught>({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.value?.code).toBe('effect_key_conflict');
    expect(o.value?.message).toContain('"thread-9" belongs to effect "post-comment", not "edit-comment"');
    expect(called).toEqual(['post']);
    expect((await w.store.listEffects()).map((e) => [e.key, e.name, e.status, e.artifact])).toEqual([
      ['thread-9', 'post-comment', 'delivered', 'c-1'],
    ]);
    expect((await w.store.getSteps(h.id)).map((s) => s.name)).toEqual(['effect:post-comment']);
    expect(events('effect:claimed')).toHaveLength(1);
    await kernel.stop();
  });

  it('spawn: an unknown flow is unknown_flow and writes nothing', async () => {
    const w = world(0);
    const f = defineFlow('f', async (ctx) => (await caught(() => ctx.spawn('no-such-flow', { x: 1 }))) ?? null);
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit<null, Caught>({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.value?.code).toBe('unknown_flow');
    expect(o.value?.message).toContain('no flow named "no-such-flow"');
    expect(await w.store.childrenOf(h.id)).toEqual([]);
    expect(await w.store.getSteps(h.id)).toEqual([]);
    expect((await w.store.listRuns({})).map((r) => r.id)).toEqual([h.id]);
    expect(events('run:spawned')).toEqual([]);
    await kernel.stop();
  });

  it('retry: maxAttempts 0 is invalid_retry naming the field, for a step (fn not called) and for defineFlow', async () => {
    const w = world(0);
    let calls = 0;
    const f = defineFlow('f', async (ctx) =>
      ctx.step(
        's',
        () => {
          calls++;
          return 1;
        },
        { retry: { maxAttempts: 0 } },
      ),
    );
    const { kernel } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.error).toMatchObject({ code: 'invalid_retry', status: 'failed' });
    expect(o.error?.message).toContain('retry.maxAttempts must be a positive integer, got 0');
    expect(calls).toBe(0);
    expect(await w.store.getSteps(h.id)).toEqual([]);
    expect(await w.store.getStepAttempts(h.id)).toEqual([]);
    const defined = await caught(() => defineFlow('g', async () => null, { retry: { maxAttempts: 0 } }));
    expect(defined).toMatchObject({ code: 'invalid_retry' });
    expect(defined?.message).toContain('defineFlow("g"): retry.maxAttempts');
    await kernel.stop();
  });

  it('deadlines: a non-positive submit or flow deadlineMs is invalid_deadline and nothing is enqueued', async () => {
    const w = world(0);
    const f = defineFlow('f', async () => null);
    const { kernel } = await startKernel(w, [f]);
    for (const deadlineMs of [0, -1, Number.NaN]) {
      const error = await caught(() => kernel.submit({ key: 'k', flow: 'f', deadlineMs }));
      expect(error).toMatchObject({ code: 'invalid_deadline' });
      expect(error?.message).toContain('deadlineMs');
    }
    expect(await w.store.listRuns({})).toEqual([]);
    expect(await caught(() => defineFlow('g', async () => null, { deadlineMs: -3 }))).toMatchObject({ code: 'invalid_deadline' });
    await kernel.stop();
  });
});
