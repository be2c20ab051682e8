/** D4: schedules — every, cron, at; once per tick across kernels; catch-up after a gap; unschedule. */
import { describe, expect, it } from 'vitest';
import { defineFlow } from 'holdfast';
import { startKernel, stopKernel, until, world, type World } from './harness.js';

function tickFlow(w: World, fired: number[]) {
  return defineFlow('tick', async (ctx) => ctx.step('t', () => fired.push(w.clock.now())));
}

async function runsOf(w: World, flow = 'tick') {
  return (await w.store.listRuns({})).filter((r) => r.flow === flow);
}

describe('schedules', () => {
  it('every: fires each tick once, as a run with an idempotence key per tick', async () => {
    const w = world(1_000);
    const fired: number[] = [];
    const { kernel, events } = await startKernel(w, [tickFlow(w, fired)]);
    const record = await kernel.schedule({ id: 'five', key: 'k', flow: 'tick', every: 5_000, input: { n: 1 } });
    expect(record).toMatchObject({ id: 'five', nextFireAt: 6_000, lastFireAt: null, catchUp: true, timing: { every: 5_000 } });
    await until(w.clock, () => fired.length >= 3);
    expect(fired.slice(0, 3)).toEqual([6_000, 11_000, 16_000]);
    expect(events('schedule:fired').map((e) => [e.at, e.event.fireAt])).toEqual([
      [6_000, 6_000],
      [11_000, 11_000],
      [16_000, 16_000],
    ]);
    const runs = await runsOf(w);
    expect(runs.map((r) => [r.idempotencyKey, r.key, r.input, r.status])).toEqual([
      ['schedule:five:6000', 'k', { n: 1 }, 'completed'],
      ['schedule:five:11000', 'k', { n: 1 }, 'completed'],
      ['schedule:five:16000', 'k', { n: 1 }, 'completed'],
    ]);
    expect(events('schedule:fired').map((e) => e.event.runId)).toEqual(runs.map((r) => r.id));
    const [schedule] = await w.store.listSchedules();
    expect(schedule).toMatchObject({ lastFireAt: 16_000, nextFireAt: 21_000 });
    await kernel.stop();
  });

  it('cron: five fields in UTC by default, or in a named time zone', async () => {
    const start = Date.UTC(2024, 0, 15, 7, 5, 0); // 08:05 in Paris (CET, UTC+1)
    const w = world(start);
    const fired: number[] = [];
    const { kernel, events } = await startKernel(w, [tickFlow(w, fired)]);
    await kernel.schedule({ id: 'paris-9', key: 'k', flow: 'tick', cron: '0 9 * * *', timezone: 'Europe/Paris' });
    await kernel.schedule({ id: 'utc-0830', key: 'k', flow: 'tick', cron: '30 8 * * *' });
    await kernel.schedule({ id: 'quarter', key: 'k', flow: 'tick', cron: '*/15 * * * *' });
    await w.clock.advanceTo(Date.UTC(2024, 0, 15, 8, 40, 0));
    const byId = (id: string) =>
      events('schedule:fired')
        .filter((e) => e.event.scheduleId === id)
        .map((e) => new Date(e.at).toISOString());
    expect(byId('paris-9')).toEqual(['2024-01-15T08:00:00.000Z']);
    expect(byId('utc-0830')).toEqual(['2024-01-15T08:30:00.000Z']);
    expect(byId('quarter')).toEqual([
      '2024-01-15T07:15:00.000Z',
      '2024-01-15T07:30:00.000Z',
      '2024-01-15T07:45:00.000Z',
      '2024-01-15T08:00:00.000Z',
      '2024-01-15T08:15:00.000Z',
      '2024-01-15T08:30:00.000Z',
    ]);
    expect(fired).toHaveLength(8);
    await kernel.stop();
  });

  it('at: fires once at its instant, then never again', async () => {
    const w = world(0);
    const fired: number[] = [];
    const { kernel } = await startKernel(w, [tickFlow(w, fired)]);
    await kernel.schedule({ id: 'once', key: 'k', flow: 'tick', at: new Date(42_000) });
    await w.clock.advanceTo(600_000);
    expect(fired).toEqual([42_000]);
    expect(await w.store.listSchedules()).toMatchObject([{ id: 'once', nextFireAt: null, lastFireAt: 42_000 }]);
    await kernel.stop();
  });

  it('at in the past: fires once at once, or, more than a minute late with catchUp false, is skipped', async () => {
    const w = world(100_000);
    const fired: number[] = [];
    const { kernel, events } = await startKernel(w, [tickFlow(w, fired)]);
    await kernel.schedule({ id: 'just-missed', key: 'k', flow: 'tick', at: new Date(99_000) });
    await kernel.schedule({ id: 'long-missed', key: 'k', flow: 'tick', at: new Date(10_000), catchUp: false });
    await w.clock.advanceTo(200_000);
    expect(fired).toEqual([100_000]);
    const outcomes = events('schedule:fired').map((e) => [e.event.scheduleId, e.event.runId === null ? 'skipped' : 'ran']);
    expect(outcomes).toEqual([
      ['just-missed', 'ran'],
      ['long-missed', 'skipped'],
    ]);
    expect(await w.store.listSchedules()).toMatchObject([
      { id: 'just-missed', nextFireAt: null, lastFireAt: 99_000 },
      { id: 'long-missed', nextFireAt: null, lastFireAt: null },
    ]);
    await kernel.stop();
  });

  it('two kernels on one store fire each tick exactly once', async () => {
    const w = world(0);
    const fired: number[] = [];
    const flow = tickFlow(w, fired);
    const one = await startKernel(w, [flow]);
    const two = await startKernel(w, [flow]);
    const spec = { id: 'shared', key: 'k', flow: 'tick', every: 3_000 } as const;
    await one.kernel.schedule(spec);
    await two.kernel.schedule(spec); // every kernel registers its schedules: the same spec is a no-op
    await w.clock.advanceTo(30_500);
    const ticks = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30].map((s) => s * 1_000);
    const firedEvents = [...one.events('schedule:fired'), ...two.events('schedule:fired')].map((e) => e.event.fireAt).sort((a, b) => a - b);
    expect(firedEvents).toEqual(ticks);
    expect(one.events('schedule:fired').length).toBeGreaterThan(0);
    expect(fired).toEqual(ticks);
    const runs = await runsOf(w);
    expect(runs).toHaveLength(10);
    expect(new Set(runs.map((r) => r.idempotencyKey)).size).toBe(10);
    await Promise.all([one.kernel.stop(), two.kernel.stop()]);
  });

  for (const catchUp of [true, false]) {
    it(`catchUp ${catchUp}: ticks missed while no kernel ran are ${catchUp ? 'fired once' : 'skipped'}`, async () => {
      const w = world(0);
      const fired: number[] = [];
      const flow = tickFlow(w, fired);
      const first = await startKernel(w, [flow]);
      await first.kernel.schedule({ id: 's', key: 'k', flow: 'tick', every: 10_000, catchUp });
      await w.clock.advanceTo(15_000);
      expect(fired).toEqual([10_000]);
      await stopKernel(w, first.kernel);
      await w.clock.advanceTo(65_000); // ticks 20 s .. 60 s pass with no kernel
      const second = await startKernel(w, [flow]);
      await w.clock.advanceTo(75_000);
      const runIds = second.events('schedule:fired').map((e) => [e.at, e.event.fireAt, e.event.runId === null]);
      if (catchUp) {
        expect(runIds).toEqual([
          [65_000, 20_000, false],
          [70_000, 70_000, false],
        ]);
        expect(fired).toEqual([10_000, 65_000, 70_000]);
        expect((await runsOf(w)).map((r) => r.idempotencyKey)).toEqual(['schedule:s:10000', 'schedule:s:20000', 'schedule:s:70000']);
      } else {
        expect(runIds).toEqual([
          [65_000, 20_000, true],
          [70_000, 70_000, false],
        ]);
        expect(fired).toEqual([10_000, 70_000]);
      }
      await second.kernel.stop();
    });
  }

  it('unschedule: no tick fires after it; a second unschedule finds nothing', async () => {
    const w = world(0);
    const fired: number[] = [];
    const { kernel } = await startKernel(w, [tickFlow(w, fired)]);
    await kernel.schedule({ id: 'gone', key: 'k', flow: 'tick', every: 1_000 });
    await w.clock.advanceTo(2_500);
    expect(await kernel.unschedule('gone')).toBe(true);
    await w.clock.advanceTo(10_000);
    expect(fired).toEqual([1_000, 2_000]);
    expect(await kernel.unschedule('gone')).toBe(false);
    expect(await w.store.listSchedules()).toEqual([]);
    await kernel.stop();
  });
});
