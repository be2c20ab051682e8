// What the fleet torture caught, reduced to one process (K10): a key runtime whose claim of a run
// committed, but whose reply came back only after the runtime had given the key up (its lease
// could no longer be proven: the process was paused with the claim in flight), must not start
// that run. The run stays `running` in the store, and the next owner runs it from its journal.
// Here renewals and the claim's reply are held back until the runtime reports the key lost.
import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Store } from 'holdfast';

describe('a claim whose reply arrives after the lease lapsed', () => {
  it('does not start the claimed run under the lapsed epoch; the next owner runs it', async () => {
    const base = memoryStore();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    const store: Store = {
      ...base,
      // Renewals wait until the claim's reply is let through: the proof of the first lease ages out.
      renewOwners: async (request) => {
        if (holding) await held;
        return base.renewOwners(request);
      },
      // The first claim commits, and its reply is held back.
      claimNext: async (request) => {
        const outcome = await base.claimNext(request);
        if (holding) await held;
        return outcome;
      },
    };
    const bodies: { epoch: number; lostBefore: boolean }[] = [];
    let lost = false;
    const flow = defineFlow('once', async (ctx) =>
      ctx.step('side-effect', () => {
        bodies.push({ epoch: ctx.fencingToken.epoch, lostBefore: lost });
        return 'done';
      }),
    );
    const kernel = createKernel({ store, flows: [flow], ownerTtlMs: 300, pollIntervalMs: 50 });
    kernel.on('owner:lost', () => (lost = true));
    await kernel.start();
    try {
      const run = await kernel.submit({ key: 'k', flow: 'once', idempotencyKey: 'once-1' });
      await kernel.once('owner:lost', (e) => e.key === 'k' && e.epoch === 1);
      holding = false;
      release();
      expect(await run.result()).toBe('done');
      // Only the second owner's execution ran the step's body; the first gave the key up before its claim came back.
      expect(bodies).toEqual([{ epoch: 2, lostBefore: true }]);
    } finally {
      await kernel.stop();
      await store.close();
    }
  });
});
