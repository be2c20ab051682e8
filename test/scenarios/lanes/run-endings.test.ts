/**
 * ctx.lane: whichever way the holding run ends (abort-drop cancel, failure, deadline; while fn
 * runs or while it waits inside fn), its lane is released and the run waiting for it proceeds.
 * A run that continues (preempted and resumed) keeps its lease: the same one, never a second.
 */
import { describe, expect, it } from 'vitest';
import { createLanes, defineFlow, TerminalError, type Kernel, type Store } from 'holdfast';
import { fakeProvider } from 'holdfast/testing';
import { never, settled, startKernel, until, world, type World } from '../durable/harness.js';

async function ops(store: Store): Promise<string[]> {
  const { records } = await store.lanes.journal();
  return records.filter((r) => r.op !== 'heartbeat').map((r) => `${r.op}:${r.lane}${r.reason === null ? '' : `:${r.reason}`}`);
}

/** A waiter on another key whose tree overlaps `src`; resolves with what it returned. */
async function waiter(w: World, kernel: Kernel) {
  const h = await kernel.submit({ key: 'repo:waiter', flow: 'edit' });
  await until(w.clock, async () => (await w.store.getRun(h.id))?.wait?.kind === 'lane');
  return h;
}

const edit = defineFlow('edit', async (ctx) => ctx.lane({ lane: 'edit', tree: ['src/x'] }, () => 'edited'));

describe('ctx.lane: the lane is released whenever the holding run ends', () => {
  it('cancelled with abort-drop while fn runs', async () => {
    const w = world(0);
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane(
        { lane: 'api', tree: ['src'] },
        (lane) => new Promise((_, reject) => lane.signal.addEventListener('abort', () => reject(lane.signal.reason as Error))),
      ),
    );
    const { kernel } = await startKernel(w, [hold, edit]);
    const h = await kernel.submit({ key: 'repo:a', flow: 'hold' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const waiting = await waiter(w, kernel);
    await kernel.cancel(h.id, { mode: 'abort-drop' });
    expect((await settled(w.clock, h)).error?.code).toBe('cancelled');
    expect((await settled(w.clock, waiting)).value).toBe('edited');
    expect(await ops(w.store)).toEqual([
      'acquire:api',
      'refuse:edit:tree_overlap',
      'release:api:run-ended',
      'acquire:edit',
      'release:edit',
    ]);
    await kernel.stop();
  });

  it('failed inside fn: released when fn throws, the error passes through', async () => {
    const w = world(0);
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane({ lane: 'api', tree: ['src'] }, async () => {
        await ctx.sleep(1_000);
        throw new TerminalError('the edit broke the build', 'build_broken');
      }),
    );
    const { kernel } = await startKernel(w, [hold, edit]);
    const h = await kernel.submit({ key: 'repo:a', flow: 'hold' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const waiting = await waiter(w, kernel);
    expect((await settled(w.clock, h)).error?.code).toBe('build_broken');
    expect((await settled(w.clock, waiting)).value).toBe('edited');
    // After its sleep the run executes under a new epoch of its key: it adopts its own lease.
    expect(await ops(w.store)).toEqual([
      'acquire:api',
      'refuse:edit:tree_overlap',
      'adopt:api',
      'release:api',
      'acquire:edit',
      'release:edit',
    ]);
    await kernel.stop();
  });

  it('past its deadline inside a provider turn in fn', async () => {
    const w = world(0);
    const agent = fakeProvider([{ durationMs: 60_000, result: 'late' }], { clock: w.clock });
    const hold = defineFlow('hold', async (ctx) => ctx.lane({ lane: 'api', tree: ['src'] }, () => ctx.turn('agent', { prompt: 'edit' })));
    const { kernel } = await startKernel(w, [hold, edit], { providers: { agent } });
    const h = await kernel.submit({ key: 'repo:a', flow: 'hold', deadlineMs: 10_000 });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const waiting = await waiter(w, kernel);
    const o = await settled(w.clock, h);
    expect(o.error?.code).toBe('deadline');
    expect((await settled(w.clock, waiting)).value).toBe('edited');
    expect(await ops(w.store)).toEqual([
      'acquire:api',
      'refuse:edit:tree_overlap',
      'release:api:run-ended',
      'acquire:edit',
      'release:edit',
    ]);
    await kernel.stop();
  });

  it('dropped or past its deadline while it waits inside fn (ended by the store, not executing)', async () => {
    for (const how of ['abort-drop', 'deadline'] as const) {
      const w = world(0);
      const hold = defineFlow('hold', async (ctx) => ctx.lane({ lane: 'api', tree: ['src'] }, () => ctx.sleep(60_000)));
      const { kernel } = await startKernel(w, [hold, edit]);
      const h = await kernel.submit({ key: 'repo:a', flow: 'hold', ...(how === 'deadline' ? { deadlineMs: 10_000 } : {}) });
      await until(w.clock, async () => (await w.store.getRun(h.id))?.status === 'waiting');
      const waiting = await waiter(w, kernel);
      if (how === 'abort-drop') await kernel.cancel(h.id, { mode: 'abort-drop' });
      expect((await settled(w.clock, h)).error?.code).toBe(how === 'deadline' ? 'deadline' : 'cancelled');
      expect((await settled(w.clock, waiting)).value).toBe('edited');
      expect(w.clock.now()).toBeLessThan(60_000);
      expect(await ops(w.store)).toEqual([
        'acquire:api',
        'refuse:edit:tree_overlap',
        'release:api:run-ended',
        'acquire:edit',
        'release:edit',
      ]);
      await kernel.stop();
    }
  });

  it('a run preempted inside fn keeps its lease and resumes the same one; a waiter never gets in between', async () => {
    const w = world(0);
    let entered = 0;
    const agent = fakeProvider(
      [
        { durationMs: 5_000, result: 'first' },
        { durationMs: 1_000, result: 'second' },
      ],
      { clock: w.clock },
    );
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane({ lane: 'api', tree: ['src'] }, async (lane) => {
        entered++;
        return { turn: await ctx.turn('agent', { prompt: 'edit' }), lease: lane.lease, gen: lane.generation };
      }),
    );
    const urgent = defineFlow('urgent', async (ctx) => ctx.step('u', () => 'urgent done'));
    const { kernel } = await startKernel(w, [hold, edit, urgent], { providers: { agent } });
    const h = await kernel.submit({ key: 'repo:a', flow: 'hold' });
    await until(w.clock, () => entered === 1);
    const waiting = await waiter(w, kernel);
    await kernel.submit({ key: 'repo:a', flow: 'urgent', priority: 'urgent', preempt: 'steal' });
    const o = await settled(w.clock, h);
    expect(o.value).toEqual({ turn: 'second', lease: 1, gen: 1 });
    expect(entered).toBe(2);
    expect((await settled(w.clock, waiting)).value).toBe('edited');
    expect(await ops(w.store)).toEqual(['acquire:api', 'refuse:edit:tree_overlap', 'release:api', 'acquire:edit', 'release:edit']);
    await kernel.stop();
  });

  it('refused by a lease no run holds (taken with the lane service): waits until that lease expires, never before', async () => {
    const w = world(0);
    const lanes = createLanes({ store: w.store, clock: w.clock, host: 'cli-host', pid: 7, isProcessAlive: () => true });
    await lanes.acquire({ lane: 'manual', tree: ['src'], owner: 'operator', ttlMinutes: 1 });
    const { kernel } = await startKernel(w, [edit], { lanes: { graceMs: 30_000 } });
    const h = await kernel.submit({ key: 'k', flow: 'edit' });
    const o = await settled(w.clock, h);
    expect(o.value).toBe('edited');
    const { records } = await w.store.lanes.journal();
    const acquired = records.find((r) => r.op === 'acquire' && r.lane === 'edit')!;
    expect(acquired.at).toBeGreaterThan(60_000 + 30_000);
    expect(records.filter((r) => r.op === 'refuse').length).toBeGreaterThanOrEqual(2); // asked again every 30 s
    expect(records.some((r) => r.op === 'scavenge' && r.lane === 'manual')).toBe(true);
    await kernel.stop();
  });

  it('a run that never settles its fn is abandoned at kernel stop: the lease stays for the next execution', async () => {
    const w = world(0);
    const hold = defineFlow('hold', async (ctx) => ctx.lane({ lane: 'api', tree: ['src'] }, () => never()));
    const first = await startKernel(w, [hold]);
    const h = await first.kernel.submit({ key: 'repo:a', flow: 'hold' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    let stopped = false;
    const stopping = first.kernel.stop({ timeoutMs: 10_000 }).then(() => (stopped = true));
    await until(w.clock, () => stopped);
    await stopping;
    expect((await w.store.getRun(h.id))?.status).toBe('queued');
    const second = await startKernel(w, [hold]);
    await until(w.clock, async () => (await w.store.getRun(h.id))?.status === 'running');
    await w.clock.advance(1_000);
    const { records } = await w.store.lanes.journal();
    expect(records.filter((r) => r.op === 'acquire')).toHaveLength(1);
    expect(records.filter((r) => r.op === 'adopt').map((r) => r.lease)).toEqual([1]);
    await second.kernel.cancel(h.id);
    await settled(w.clock, h);
    expect((await w.store.lanes.state()).leases).toEqual([]);
    await second.kernel.stop();
  });
});
