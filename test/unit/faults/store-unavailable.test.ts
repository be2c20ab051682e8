import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';
import { advanceUntil, recorder, unreliable } from '../../support/unreliable-store.js';

describe('the store being unavailable delays work, it never fails a run (K11)', () => {
  for (const method of ['commitStep', 'finishRun'] as const) {
    it(`${method} rejecting as unavailable 5 times: the run completes, one store:unavailable and one store:recovered, each step ran once`, async () => {
      const inner = memoryStore();
      const u = unreliable(inner);
      const clock = virtualClock(0);
      const calls: string[] = [];
      const flow = defineFlow('pay', async (ctx, input: { amount: number }) => {
        const charged = await ctx.step('charge', () => {
          calls.push('charge');
          return { charged: input.amount, receipt: 'r-1' };
        });
        const mailed = await ctx.step('mail', () => {
          calls.push('mail');
          return `mailed ${charged.receipt}`;
        });
        return { ...charged, mailed };
      });
      const kernel = createKernel({ store: u.store, flows: [flow], clock, random: seededRandom(13), pollIntervalMs: 60_000 });
      const log = recorder(kernel);
      await kernel.start();
      u.failNext(method, 5);
      const handle = await kernel.submit({ key: 'repo:a', flow: 'pay', input: { amount: 42 } });
      let result: unknown;
      void handle.result().then((value) => (result = value));
      await advanceUntil(clock, () => result !== undefined, 10_000);
      expect(result).toEqual({ charged: 42, receipt: 'r-1', mailed: 'mailed r-1' });
      expect(calls).toEqual(['charge', 'mail']);
      expect(log.failed).toEqual([]);
      expect(log.unavailable).toEqual([
        { operation: expect.any(String), reason: 'locked', message: expect.stringContaining('test store') },
      ]);
      expect(log.recovered).toHaveLength(1);
      expect(log.recovered[0]!.downMs).toBeGreaterThan(0);
      // Five failed calls, then the ones that went through (two steps, or one finish).
      expect(u.calls(method)).toBe(method === 'commitStep' ? 7 : 6);
      const steps = await inner.getSteps(handle.id);
      expect(steps.map((s) => [s.name, s.result])).toEqual([
        ['charge', { charged: 42, receipt: 'r-1' }],
        ['mail', 'mailed r-1'],
      ]);
      expect(await inner.getRun(handle.id)).toMatchObject({ status: 'completed', attempts: 1 });
      await kernel.stop();
    });
  }

  it('stop({ timeoutMs }) while the store is down resolves by its deadline (plus at most one backoff); the next owner recovers the run', async () => {
    const inner = memoryStore();
    const u = unreliable(inner);
    const clock = virtualClock(0);
    const calls: string[] = [];
    const flow = defineFlow('two-steps', async (ctx) => {
      await ctx.step('a', () => calls.push('a'));
      await ctx.step('b', () => {
        calls.push('b');
        if (ctx.attempt === 1) u.state.down = true; // the store goes away before b commits
        return 'b';
      });
      return 'done';
    });
    const one = createKernel({ store: u.store, flows: [flow], clock, random: seededRandom(23), pollIntervalMs: 2_000 });
    const log = recorder(one);
    await one.start();
    const handle = await one.submit({ key: 'repo:a', flow: 'two-steps' });
    await advanceUntil(clock, () => calls.includes('b'), 0);
    await clock.advance(500);
    let stopped = false;
    const stopping = one.stop({ timeoutMs: 1_000 }).then(() => (stopped = true));
    const stopAt = clock.now();
    await advanceUntil(clock, () => stopped, 1_000 + 2_000);
    await stopping;
    expect(clock.now() - stopAt).toBeGreaterThanOrEqual(1_000);
    expect(log.failed).toEqual([]);
    // Nothing more could be recorded: the run is still running at step b, the lease still ours.
    expect(await inner.getRun(handle.id)).toMatchObject({ status: 'running', attempts: 1 });
    expect((await inner.getSteps(handle.id)).map((s) => s.name)).toEqual(['a']);
    expect((await inner.getOwner('repo:a'))?.ownerId).toBe(one.ownerId);

    u.state.down = false;
    const two = createKernel({ store: u.store, flows: [flow], clock, random: seededRandom(29), pollIntervalMs: 2_000 });
    await two.start();
    let result: unknown;
    void two
      .handle(handle.id)
      .result()
      .then((value) => (result = value));
    await advanceUntil(clock, () => result !== undefined, 30_000, 500); // after the old lease expires
    expect(result).toBe('done');
    expect(calls).toEqual(['a', 'b', 'b']);
    expect((await inner.getSteps(handle.id)).map((s) => [s.name, s.epoch])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    await two.stop();
  });
});

describe('store:unavailable and store:recovered pair up for every outage', () => {
  it('an outage seen only by the background scan ends at the next write, not at a read; the next outage is announced on its own', async () => {
    const inner = memoryStore();
    const u = unreliable(inner);
    const clock = virtualClock(0);
    const flow = defineFlow('one-step', async (ctx) => ctx.step('s', () => 's'));
    const kernel = createKernel({ store: u.store, flows: [flow], clock, random: seededRandom(31), pollIntervalMs: 2_000 });
    const log = recorder(kernel);
    u.failNext('keysWithWork', 1);
    await kernel.start(); // its recovery scan fails
    expect(log.unavailable).toHaveLength(1);
    await clock.advance(2_000); // the next scan succeeds, but a read proves nothing about writes
    expect(u.calls('keysWithWork')).toBe(2);
    expect(log.recovered).toHaveLength(0);

    // Much later, the store fails again, at the first write of a new run (its claim).
    await clock.advance(60_000);
    u.failNext('claimNext', 2);
    const handle = await kernel.submit({ key: 'repo:a', flow: 'one-step' }); // a write: it ends the first outage
    expect(log.recovered.map((e) => e.operation)).toEqual(['submit']);
    let result: unknown;
    void handle.result().then((value) => (result = value));
    await advanceUntil(clock, () => result !== undefined, 5_000);
    expect(result).toBe('s');
    expect(log.unavailable).toHaveLength(2);
    expect(log.recovered).toHaveLength(2);
    expect(log.recovered[1]!.downMs).toBeLessThan(1_000);
    await kernel.stop();
  });

  it('a pure client whose submit failed as unavailable reports recovery when a submit goes through; the failed one wrote nothing', async () => {
    const inner = memoryStore();
    const u = unreliable(inner);
    const clock = virtualClock(0);
    const flow = defineFlow('one-step', async (ctx) => ctx.step('s', () => 's'));
    const client = createKernel({ store: u.store, flows: [flow], clock, random: seededRandom(37) });
    const log = recorder(client);
    u.failNext('enqueue', 1);
    const command = { key: 'repo:a', flow: 'one-step', idempotencyKey: 'delivery-1' } as const;
    await expect(client.submit(command)).rejects.toMatchObject({ code: 'store_unavailable', reason: 'locked' });
    expect(await inner.listRuns({})).toEqual([]);
    expect(log.unavailable.map((e) => e.operation)).toEqual(['submit']);
    await clock.advance(100);
    const handle = await client.submit(command);
    expect(handle.created).toBe(true);
    expect(log.recovered).toHaveLength(1);
    expect(log.recovered[0]!.downMs).toBe(100);
  });
});
