// NOTIFY is only a latency hint (K2): a wake can be lost (sent while the owner's listener was
// reconnecting, or a send that failed), and then the safety-net poll must still get urgent work
// its turn (K5). Reduced to one process: the owner has no wake channel at all, so only its poll
// can see the urgent command another kernel recorded for a key whose run it is executing.
import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Store } from 'holdfast';
import { until } from '../../support/processes.js';

describe('urgent work whose wake was lost', () => {
  it("the owner's safety-net poll preempts the run it is executing", async () => {
    const base = memoryStore();
    let polls = 0;
    const store: Store = {
      ...base,
      keysWithWork: (page) => {
        polls++;
        return base.keysWithWork(page);
      },
    };
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hold = defineFlow('hold', async (ctx) =>
      ctx.step('hold', ({ signal }) =>
        Promise.race([gate, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))]),
      ),
    );
    const reply = defineFlow('reply', async (ctx) => ctx.step('reply', () => 'replied'));
    const owner = createKernel({ store, flows: [hold, reply], wake: null, pollIntervalMs: 20 });
    const client = createKernel({ store, flows: [], acceptUnknownFlows: true, wake: null });
    let interrupted = 0;
    owner.on('run:interrupted', () => interrupted++);
    await owner.start();
    try {
      const started = owner.once('run:started', (e) => e.flow === 'hold');
      const held = await owner.submit({ key: 'k', flow: 'hold', idempotencyKey: 'hold-1' });
      await started;
      await client.submit({ key: 'k', flow: 'reply', idempotencyKey: 'reply-1', priority: 'urgent', preempt: 'steal' });
      const after = polls;
      await until('ten polls after the urgent command, or the interrupt', () => interrupted > 0 || polls >= after + 10);
      expect(interrupted, `polls since the urgent command: ${polls - after}`).toBe(1);
      open();
      await held.result();
    } finally {
      open();
      await owner.stop();
      await store.close();
    }
  });
});
