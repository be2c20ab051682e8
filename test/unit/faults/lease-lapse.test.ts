import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';
import { advanceUntil, recorder, unreliable } from '../../support/unreliable-store.js';

describe('renewal failing past the lease proof (K10, K11)', () => {
  const TTL = 10_000; // renewals every 2 s; a proof lasts ttl - ttl/5 = 8 s from its renewal's start

  function lapseWorld() {
    const inner = memoryStore();
    const u = unreliable(inner);
    const clock = virtualClock(0);
    const bCalls: number[] = [];
    const abortReasons: unknown[] = [];
    const flow = defineFlow('long', async (ctx) => {
      const a = await ctx.step('a', () => 'a-done');
      const b = await ctx.step('b', async ({ signal }) => {
        bCalls.push(clock.now());
        if (ctx.attempt > 1) return 'b-done';
        // Attempt 1 works until the runtime gives the key up, then returns anyway.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        abortReasons.push(ctx.signal.reason);
        return 'b-late';
      });
      const c = await ctx.step('c', () => 'c-done');
      return [a, b, c];
    });
    const kernel = createKernel({
      store: u.store,
      flows: [flow],
      clock,
      random: seededRandom(17),
      ownerTtlMs: TTL,
      pollIntervalMs: 2_000,
    });
    const log = recorder(kernel);
    kernel.on('owner:lost', (e) => log.lost.push({ ...e, at: clock.now() }));
    return { inner, u, clock, kernel, log, bCalls, abortReasons };
  }

  it('the store down past the proof: the run is aborted (owner:lost lapsed), nothing more is committed; after recovery the key is re-acquired at a higher epoch and the run completes', async () => {
    const w = lapseWorld();
    await w.kernel.start();
    const handle = await w.kernel.submit({ key: 'repo:a', flow: 'long' });
    await advanceUntil(w.clock, () => w.bCalls.length === 1, 0);
    expect(w.bCalls).toEqual([0]);
    await w.clock.advance(1_000);
    w.u.state.down = true; // from t=1 s on, nothing answers: renewals at 2, 4, 6 s fail
    await w.clock.advance(6_999);
    expect(w.log.lost).toEqual([]);
    expect(w.abortReasons).toEqual([]);
    await w.clock.advance(1);
    expect(w.log.lost).toEqual([{ key: 'repo:a', epoch: 1, reason: 'lapsed', at: 8_000 }]);
    expect(w.abortReasons).toHaveLength(1);
    expect(w.abortReasons[0]).toMatchObject({ code: 'owner_lost' });

    await w.clock.advance(12_000); // still down until t=20 s
    expect((await w.inner.getSteps(handle.id)).map((s) => [s.name, s.epoch])).toEqual([['a', 1]]);
    expect(await w.inner.getRun(handle.id)).toMatchObject({ status: 'running', attempts: 1 });
    expect(w.log.acquired).toEqual([{ key: 'repo:a', epoch: 1 }]);
    expect(w.bCalls).toEqual([0]);

    w.u.state.down = false;
    const completed = w.kernel.once('run:completed', (e) => e.runId === handle.id);
    let done = false;
    void completed.then(() => (done = true));
    await advanceUntil(w.clock, () => done, 4_000);
    expect((await completed).result).toEqual(['a-done', 'b-done', 'c-done']);
    expect(w.log.acquired).toEqual([
      { key: 'repo:a', epoch: 1 },
      { key: 'repo:a', epoch: 2 },
    ]);
    expect(w.bCalls).toHaveLength(2);
    expect(w.bCalls[1]).toBeGreaterThanOrEqual(20_000);
    expect((await w.inner.getSteps(handle.id)).map((s) => [s.name, s.result, s.epoch])).toEqual([
      ['a', 'a-done', 1],
      ['b', 'b-done', 2],
      ['c', 'c-done', 2],
    ]);
    expect(await w.inner.getRun(handle.id)).toMatchObject({ status: 'completed', attempts: 2, epoch: 2 });
    expect(w.log.failed).toEqual([]);
    expect(w.log.lost).toHaveLength(1);
    await w.kernel.stop();
  });

  it('only renewOwners failing: the run is aborted when its proof lapses, the key is re-acquired at a higher epoch, and the run completes', async () => {
    const w = lapseWorld();
    await w.kernel.start();
    const handle = await w.kernel.submit({ key: 'repo:a', flow: 'long' });
    await advanceUntil(w.clock, () => w.bCalls.length === 1, 0);
    w.u.failNext('renewOwners', 1_000);
    const completed = w.kernel.once('run:completed', (e) => e.runId === handle.id);
    await w.clock.advance(7_999);
    expect(w.log.lost).toEqual([]);
    expect(w.u.calls('renewOwners')).toBe(3);
    await w.clock.advance(1);
    expect(w.log.lost).toEqual([{ key: 'repo:a', epoch: 1, reason: 'lapsed', at: 8_000 }]);
    expect((await completed).result).toEqual(['a-done', 'b-done', 'c-done']);
    expect(w.abortReasons).toEqual([expect.objectContaining({ code: 'owner_lost' })]);
    expect(w.log.acquired.map((e) => e.epoch)).toEqual([1, 2]);
    expect((await w.inner.getSteps(handle.id)).map((s) => [s.name, s.result, s.epoch])).toEqual([
      ['a', 'a-done', 1],
      ['b', 'b-done', 2],
      ['c', 'c-done', 2],
    ]);
    expect(w.bCalls).toEqual([0, 8_000]);
    await w.kernel.stop();
  });
});
