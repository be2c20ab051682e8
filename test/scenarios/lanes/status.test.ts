/**
 * `lane status` for a lease taken with ctx.lane: it names the holding run, and the holding run's
 * committed steps count as progress (advancing), not only records of the lane journal.
 */
import { describe, expect, it } from 'vitest';
import { createLanes, defineFlow } from 'holdfast';
import { deferred, settled, startKernel, until, world } from '../durable/harness.js';

const MIN = 60_000;

describe('lane status of leases held by runs', () => {
  it('is spinning while the run only beats, advancing once it commits a step inside the lane', async () => {
    const w = world(0);
    const first = deferred();
    const second = deferred();
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane({ lane: 'api', tree: ['src/api'] }, async () => {
        await first.promise;
        await ctx.step('progress', () => 'edited');
        await second.promise;
        return 'done';
      }),
    );
    const { kernel } = await startKernel(w, [hold]);
    const h = await kernel.submit({ key: 'repo:acme', flow: 'hold' });
    await until(w.clock, async () => (await w.store.lanes.state()).leases.length === 1);
    const lanes = createLanes({ store: w.store, clock: w.clock, host: 'observer', pid: 1, isProcessAlive: () => true });
    await w.clock.advance(30 * MIN);
    const [idle] = await lanes.status();
    expect(idle).toMatchObject({
      verdict: 'spinning',
      expired: false,
      run: { id: h.id, key: 'repo:acme', flow: 'hold', status: 'running', position: 0, committedSteps: 1 },
    });
    expect(idle!.sinceBeatMs).toBeLessThanOrEqual(MIN);
    first.resolve();
    await until(w.clock, async () => (await w.store.getSteps(h.id)).length === 2);
    const [busy] = await lanes.status();
    expect(busy).toMatchObject({ verdict: 'advancing', run: { committedSteps: 2, lastCommitAt: w.clock.now() } });
    second.resolve();
    expect((await settled(w.clock, h)).value).toBe('done');
    expect(await lanes.status()).toEqual([]);
    await kernel.stop();
  });
});
