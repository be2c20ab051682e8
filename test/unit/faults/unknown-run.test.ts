import { describe, expect, it } from 'vitest';
import { RunNotFoundError, createKernel, defineFlow, memoryStore } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

const echo = defineFlow('echo', async (ctx, input: string) => ctx.step('echo', () => input));
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('runs that do not exist', () => {
  for (const start of [false, true]) {
    it(`${start ? 'a started kernel' : 'a pure client'}: handle(unknown).status() and result() reject with run_not_found; so does cancel`, async () => {
      const store = memoryStore();
      const clock = virtualClock(0);
      const kernel = createKernel({ store, flows: [echo], clock, random: seededRandom(9), pollIntervalMs: 60_000 });
      if (start) await kernel.start();
      const handle = kernel.handle(UNKNOWN);
      expect(handle.id).toBe(UNKNOWN);
      await expect(handle.status()).rejects.toBeInstanceOf(RunNotFoundError);
      await expect(handle.status()).rejects.toMatchObject({
        code: 'run_not_found',
        runId: UNKNOWN,
        message: expect.stringContaining(UNKNOWN),
      });
      // result() rejects at once: it does not wait for a run that will never end.
      await expect(handle.result()).rejects.toMatchObject({ code: 'run_not_found', runId: UNKNOWN });
      expect(clock.now()).toBe(0);
      for (const mode of ['abort-drop', 'abort-keep'] as const) {
        await expect(kernel.cancel(UNKNOWN, { mode })).rejects.toBeInstanceOf(RunNotFoundError);
      }
      await expect(kernel.cancel(UNKNOWN)).rejects.toMatchObject({ code: 'run_not_found', runId: UNKNOWN });
      expect(await kernel.getRun(UNKNOWN)).toBeUndefined();
      expect(await store.operatorActions(UNKNOWN)).toEqual([]);
      expect(await store.listRuns({})).toEqual([]);
      // A known run next to it is unaffected.
      const known = await kernel.submit<string, string>({ key: 'k', flow: 'echo', input: 'x' });
      if (start) expect(await kernel.handle(known.id).result()).toBe('x');
      else expect(await kernel.handle(known.id).status()).toBe('queued');
      await kernel.stop();
    });
  }
});
