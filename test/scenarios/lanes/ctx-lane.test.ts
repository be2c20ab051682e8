/**
 * ctx.lane (L1–L9 inside flows), on the memory store and a virtual clock: a refused run waits
 * durably and proceeds once the holder releases; `onRefuse: 'fail'` throws `lane_refused`; the lane
 * is released whichever way the holding run ends; a finished block never runs again.
 */
import { describe, expect, it } from 'vitest';
import { defineFlow, type LaneHandle, type Store } from 'holdfast';
import { deferred, outcome, settled, startKernel, until, world } from '../durable/harness.js';

const TREE = { tree: ['src/api'] };

async function laneOps(store: Store): Promise<string[]> {
  const { records } = await store.lanes.journal();
  return records.map((r) => `${r.op}:${r.lane}${r.reason === null ? '' : `:${r.reason}`}`);
}

describe('ctx.lane', () => {
  it('two runs on different keys with overlapping exclusive trees: the second waits durably, then proceeds after the release', async () => {
    const w = world(1_000);
    const release = deferred();
    const seen: { run: string; lane: LaneHandle }[] = [];
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane({ lane: 'api', ...TREE }, async (lane) => {
        seen.push({ run: 'hold', lane });
        await release.promise;
        return 'held';
      }),
    );
    const edit = defineFlow('edit', async (ctx) =>
      ctx.lane({ lane: 'web', tree: ['SRC/'] }, (lane) => {
        seen.push({ run: 'edit', lane });
        return 'edited';
      }),
    );
    const { kernel, events } = await startKernel(w, [hold, edit]);
    const first = await kernel.submit({ key: 'repo:a', flow: 'hold' });
    await until(w.clock, () => seen.length === 1);
    const second = await kernel.submit({ key: 'repo:b', flow: 'edit' });
    await until(w.clock, () => events('run:waiting').length === 1);
    expect(events('run:waiting')[0]!.event).toMatchObject({ runId: second.id, kind: 'lane' });
    const waiting = await w.store.getRun(second.id);
    expect(waiting?.wait).toMatchObject({ kind: 'lane', onRun: first.id, detail: { lane: 'web', reason: 'tree_overlap' } });
    await w.clock.advance(10 * 60_000); // heartbeats keep the lease: still waiting
    expect(seen.map((s) => s.run)).toEqual(['hold']);
    const heldAt = w.clock.now();
    release.resolve();
    const o = await settled(w.clock, second);
    expect(o.value).toBe('edited');
    expect((await settled(w.clock, first)).value).toBe('held');
    expect(seen.map((s) => [s.run, s.lane.generation])).toEqual([
      ['hold', 1],
      ['edit', 1],
    ]);
    const ops = await laneOps(w.store);
    // Beaten every minute (a quarter of the 50 minute TTL, at most a minute) while fn ran.
    expect(ops.filter((op) => op === 'heartbeat:api')).toHaveLength(10);
    expect(ops.filter((op) => op !== 'heartbeat:api')).toEqual([
      'acquire:api',
      'refuse:web:tree_overlap',
      'release:api',
      'acquire:web',
      'release:web',
    ]);
    // Woken by the release, not by the lease's expiry.
    const started = events('run:started').filter((e) => e.event.runId === second.id);
    expect(started.at(-1)!.at).toBe(heldAt);
    await kernel.stop();
  });

  it("onRefuse 'fail' throws lane_refused naming the colliding lease and the run holding it; a re-run throws it again", async () => {
    const w = world(0);
    const release = deferred();
    const hold = defineFlow('hold', async (ctx) => ctx.lane({ lane: 'api', ...TREE }, () => release.promise.then(() => 'ok')));
    let attempts = 0;
    const edit = defineFlow('edit', async (ctx) => {
      let refused: { code: string; message: string; colliding: unknown } | undefined;
      try {
        await ctx.lane({ lane: 'docs', tree: ['src'] }, () => 'never', { onRefuse: 'fail' });
      } catch (error) {
        refused = error as typeof refused;
      }
      attempts++;
      await ctx.sleep(1_000);
      return refused?.code ?? 'acquired';
    });
    const { kernel } = await startKernel(w, [hold, edit]);
    const first = await kernel.submit({ key: 'a', flow: 'hold' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const second = await kernel.submit({ key: 'b', flow: 'edit' });
    await until(w.clock, () => attempts === 1);
    release.resolve(); // the lane is free when the run re-executes after its sleep: the journaled refusal still holds
    const o = await settled(w.clock, second);
    expect(o.value).toBe('lane_refused');
    expect(attempts).toBe(2);
    const steps = await w.store.getSteps(second.id);
    expect(steps[0]).toMatchObject({ name: 'lane:docs', result: { refused: { reason: 'tree_overlap', colliding: { runId: first.id } } } });

    const direct = defineFlow('direct', async (ctx) => ctx.lane({ lane: 'x', tree: ['src/api/v1'] }, () => 1, { onRefuse: 'fail' }));
    const again = deferred();
    const holdAgain = defineFlow('hold-again', async (ctx) => ctx.lane({ lane: 'api', ...TREE }, () => again.promise.then(() => 'ok')));
    const k2 = await startKernel(w, [direct, holdAgain]);
    const holder = await k2.kernel.submit({ key: 'c', flow: 'hold-again' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const failed = await settled(w.clock, await k2.kernel.submit({ key: 'd', flow: 'direct' }));
    expect(failed.error?.code).toBe('lane_refused');
    expect(failed.error?.message).toMatch(
      new RegExp(`lease #\\d+ of lane "api" \\(exclusive, tree \\[src/api\\]\\) is held by run ${holder.id}`),
    );
    expect(failed.error?.message).toMatch(/collide at src\/api\/v1 \/ src\/api; wait for it/);
    again.resolve();
    await settled(w.clock, holder);
    await kernel.stop();
    await k2.kernel.stop();
  });

  it('a block that ended is journaled with its result: later executions return it without running fn or taking the lane', async () => {
    const w = world(0);
    let ran = 0;
    const f = defineFlow('f', async (ctx) => {
      const got = await ctx.lane({ lane: 'api', ...TREE }, async (lane) => {
        ran++;
        await ctx.step('inside', () => lane.generation);
        return { gen: lane.generation, lease: lane.lease };
      });
      await ctx.sleep(5_000);
      const after = await ctx.step('after', () => 'done');
      return { got, after };
    });
    const { kernel } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.value).toEqual({ got: { gen: 1, lease: 1 }, after: 'done' });
    expect(ran).toBe(1);
    expect((await w.store.getSteps(h.id)).map((s) => s.name)).toEqual(['lane:api', 'inside', 'lane-end:api', 'sleep', 'after']);
    expect(await laneOps(w.store)).toEqual(['acquire:api', 'release:api']);
    await kernel.stop();
  });

  it('a nested ctx.lane overlapping the enclosing one fails at once (a run cannot wait for itself); disjoint ones nest', async () => {
    const w = world(0);
    const f = defineFlow('f', async (ctx) =>
      ctx.lane({ lane: 'outer', tree: ['src'] }, async () => {
        const inner = await ctx.lane({ lane: 'docs', tree: ['docs'] }, () => 'docs ok');
        await ctx.lane({ lane: 'inner', tree: ['src/api'] }, () => 'never');
        return inner;
      }),
    );
    const { kernel } = await startKernel(w, [f]);
    const o = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'f' }));
    expect(o.error?.code).toBe('lane_refused');
    expect(o.error?.message).toMatch(/this run holds it itself/);
    expect((await w.store.lanes.state()).leases).toEqual([]);
    expect(await laneOps(w.store)).toEqual(['acquire:outer', 'acquire:docs', 'release:docs', 'refuse:inner:tree_overlap', 'release:outer']);
    await kernel.stop();
  });

  it('a lease left behind by a block that ended (its release lost) is released when the run asks for the lane again', async () => {
    const w = world(0);
    const lanes = w.store.lanes;
    let dropped = 0;
    // The first release the run makes is lost, as if the process died between journaling the
    // block's end and releasing its lease.
    const store: Store = Object.create(w.store, {
      lanes: {
        value: {
          ...lanes,
          transact: (decide: Parameters<typeof lanes.transact>[0]) =>
            lanes.transact((view) => {
              const decision = decide(view);
              const release = decision.append.some((r) => r.op === 'release' && r.reason === null);
              if (!release || dropped++ > 0) return decision;
              return { ...decision, append: [] };
            }),
        },
      },
    }) as Store;
    const f = defineFlow('f', async (ctx) => {
      const first = await ctx.lane({ lane: 'api', ...TREE }, (lane) => lane.lease);
      const second = await ctx.lane({ lane: 'api', ...TREE }, (lane) => lane.lease);
      return [first, second];
    });
    const { kernel } = await startKernel({ ...w, store }, [f]);
    const o = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'f' }));
    expect(o.value).toEqual([1, 4]);
    expect(dropped).toBe(3); // releases seen: the lost one, the leftover's, the second block's
    expect(await laneOps(w.store)).toEqual(['acquire:api', 'refuse:api:lane_held', 'release:api', 'acquire:api', 'release:api']);
    await kernel.stop();
  });

  it('bad specs are refused with a clear error before anything is taken', async () => {
    const w = world(0);
    const bad = [
      { lane: 'a', tree: ['../x'] },
      { lane: 'a', tree: ['/etc'] },
      { lane: '', tree: ['src'] },
      { lane: 'a', tree: ['src'], ttlMs: -1 },
      { lane: 'a', tree: ['src'], mode: 'solo' },
    ];
    const f = defineFlow('f', async (ctx, input: { i: number }) =>
      ctx.lane(bad[input.i] as never, () => 1).catch((e: { code: string }) => e.code),
    );
    const { kernel } = await startKernel(w, [f]);
    const codes = [];
    for (let i = 0; i < bad.length; i++)
      codes.push((await settled(w.clock, await kernel.submit({ key: `k${i}`, flow: 'f', input: { i } }))).value);
    expect(codes).toEqual(['lane_path_refused', 'lane_path_refused', 'invalid_lane', 'invalid_lane_spec', 'invalid_mode']);
    expect(await laneOps(w.store)).toEqual([]);
    const o = outcome(await kernel.submit({ key: 'z', flow: 'f', input: { i: 0 } }));
    await until(w.clock, () => o.done);
    await kernel.stop();
  });
});
