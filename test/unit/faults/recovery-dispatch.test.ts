import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

const KEYS = 5_000;
const POLL_MS = 60_000;

const echo = defineFlow('echo', async (ctx, input: number) => ctx.step('echo', () => input * 2));

describe('recovery at start dispatches every key with pending work, without waiting for poll ticks', () => {
  it(`${KEYS} keys with one queued run each all complete before the first poll tick`, async () => {
    const store = memoryStore();
    // Queued by a pure client (never started): nobody owns any of these keys.
    const client = createKernel({ store, flows: [echo], clock: virtualClock(0), random: seededRandom(1) });
    const ids: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const handle = await client.submit({ key: `repo:${String(i).padStart(5, '0')}`, flow: 'echo', input: i });
      ids.push(handle.id);
    }
    expect(await store.listRuns({ status: ['queued'], limit: KEYS + 1 })).toHaveLength(KEYS);

    const clock = virtualClock(0);
    const kernel = createKernel({ store, flows: [echo], clock, random: seededRandom(2), concurrency: 64, pollIntervalMs: POLL_MS });
    let completed = 0;
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    kernel.on('run:completed', () => {
      if (++completed === KEYS) allDone();
    });
    const errors: unknown[] = [];
    kernel.on('kernel:error', (e) => errors.push(e.error));
    await kernel.start();
    await done;
    // The virtual clock never moved: no poll tick (nor any other timer) ran.
    expect(clock.now()).toBe(0);
    expect(completed).toBe(KEYS);
    expect(errors).toEqual([]);
    const runs = await store.listRuns({ limit: KEYS + 1 });
    expect(runs.filter((r) => r.status === 'completed')).toHaveLength(KEYS);
    const byId = new Map(runs.map((r) => [r.id, r]));
    expect(ids.every((id, i) => byId.get(id)?.result === i * 2)).toBe(true);
    await kernel.stop();
  }, 20_000);
});
