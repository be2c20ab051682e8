import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, type Json, type KernelOptions, type Store } from 'holdfast';
import { seededRandom, virtualClock, type VirtualClock } from 'holdfast/testing';

const echo = defineFlow('echo', async (ctx, input: Json) => ctx.step('echo', () => input));
const calls: string[] = [];
const counter = defineFlow('counter', async (ctx, input: { n: number }) => {
  const a = await ctx.step('a', () => {
    calls.push('a');
    return input.n + 1;
  });
  const b = await ctx.step('b', async () => {
    calls.push('b');
    return a * 2;
  });
  return { a, b };
});

export interface KernelScenarioOptions {
  /** How the scenarios move the virtual clock (default `clock.advance(ms)`). */
  readonly advance?: (clock: VirtualClock, ms: number) => Promise<void>;
}

/**
 * The kernel's unit scenarios, each on a fresh store from `makeStore` (the plain memory store in
 * test/unit/kernel.test.ts, the reordering decorator over it in kernel-reordered.test.ts).
 */
export function kernelScenarios(makeStore: () => Store, options: KernelScenarioOptions = {}): void {
  const advance = options.advance ?? ((clock: VirtualClock, ms: number) => clock.advance(ms));
  function setup(flows: KernelOptions['flows'] = [echo, counter], store = makeStore()) {
    const clock = virtualClock(1_000);
    const kernel = createKernel({ store, flows, clock, random: seededRandom(7), concurrency: 4 });
    return { kernel, clock, store };
  }

  describe('kernel', () => {
    it('runs a submitted command to completion, journaling each step, with typed events in order', async () => {
      const { kernel } = setup();
      const seen: string[] = [];
      for (const name of ['run:queued', 'run:started', 'step:committed', 'run:completed', 'owner:acquired', 'owner:released'] as const) {
        kernel.on(name, () => seen.push(name));
      }
      await kernel.start();
      const released = kernel.once('owner:released');
      const handle = await kernel.submit<{ n: number }, { a: number; b: number }>({ key: 'repo:a', flow: 'counter', input: { n: 1 } });
      expect(await handle.result()).toEqual({ a: 2, b: 4 });
      expect(await handle.status()).toBe('completed');
      const view = await kernel.getRun(handle.id);
      expect(view?.steps.map((s) => [s.seq, s.name, s.result])).toEqual([
        [0, 'a', 2],
        [1, 'b', 4],
      ]);
      await released;
      expect(seen).toEqual([
        'run:queued',
        'owner:acquired',
        'run:started',
        'step:committed',
        'step:committed',
        'run:completed',
        'owner:released',
      ]);
      await kernel.stop();
    });

    it('the same idempotence key returns the same run and never runs it twice', async () => {
      const { kernel } = setup();
      await kernel.start();
      calls.length = 0;
      const first = await kernel.submit({ key: 'repo:a', flow: 'counter', input: { n: 1 }, idempotencyKey: 'delivery-9' });
      const second = await kernel.submit({ key: 'repo:a', flow: 'counter', input: { n: 1 }, idempotencyKey: 'delivery-9' });
      expect(second.id).toBe(first.id);
      expect([first.created, second.created]).toEqual([true, false]);
      await first.result();
      const third = await kernel.submit({ key: 'repo:a', flow: 'counter', input: { n: 1 }, idempotencyKey: 'delivery-9' });
      expect(third.id).toBe(first.id);
      expect(await third.result()).toEqual({ a: 2, b: 4 });
      expect(calls).toEqual(['a', 'b']);
      await kernel.stop();
    });

    it('runs one command at a time per key, urgent before normal before background, FIFO within', async () => {
      const store = makeStore();
      const order: string[] = [];
      let active = 0;
      let maxActive = 0;
      const track = defineFlow('track', async (ctx, input: { name: string }) => {
        await ctx.step('t', async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          order.push(input.name);
          await Promise.resolve();
          active--;
        });
      });
      const { kernel } = setup([track], store);
      // Submitted before start: all are in the mailbox when the key is first claimed.
      const handles = [];
      for (const [name, priority] of [
        ['bg', 'background'],
        ['n1', 'normal'],
        ['u1', 'urgent'],
        ['n2', 'normal'],
        ['u2', 'urgent'],
      ] as const) {
        handles.push(await kernel.submit({ key: 'repo:a', flow: 'track', input: { name }, priority }));
      }
      await kernel.start();
      await Promise.all(handles.map((h) => h.result()));
      expect(order).toEqual(['u1', 'u2', 'n1', 'n2', 'bg']);
      expect(maxActive).toBe(1);
      await kernel.stop();
    });

    it('runs different keys concurrently, bounded by concurrency', async () => {
      let active = 0;
      let maxActive = 0;
      const gates: (() => void)[] = [];
      const hold = defineFlow('hold', async (ctx) => {
        await ctx.step('hold', async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise<void>((resolve) => gates.push(resolve));
          active--;
        });
      });
      const { kernel } = setup([hold]);
      await kernel.start();
      const handles = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => kernel.submit({ key: `repo:${k}`, flow: 'hold' })));
      let finished = 0;
      const results = Promise.all(handles.map((h) => h.result().finally(() => finished++)));
      while (gates.length < 4) await new Promise((r) => setImmediate(r));
      expect(active).toBe(4);
      // Open the gates until every run finished: with a store that delays its calls, the last
      // runs may start only some turns after the gates of the first ones were opened.
      while (finished < handles.length) {
        gates.shift()?.();
        await new Promise((r) => setImmediate(r));
      }
      await results;
      expect(maxActive).toBe(4);
      await kernel.stop();
    });

    it('a failing flow fails its run with the error recorded; RunHandle.result rejects with it', async () => {
      const boom = defineFlow('boom', async (ctx) => {
        await ctx.step('ok', () => 1);
        await ctx.step('bad', () => {
          throw new Error('disk on fire');
        });
      });
      const { kernel } = setup([boom]);
      await kernel.start();
      const handle = await kernel.submit({ key: 'k', flow: 'boom' });
      await expect(handle.result()).rejects.toMatchObject({ code: 'flow_error', status: 'failed' });
      expect(await kernel.getRun(handle.id)).toMatchObject({
        status: 'failed',
        error: { code: 'flow_error', message: 'Error: disk on fire' },
      });
      await kernel.stop();
    });

    it('stop() interrupts the active run, requeues it with its committed steps, and a new kernel resumes it', async () => {
      const store = makeStore();
      let resume!: () => void;
      const executions: string[] = [];
      const slow = defineFlow('slow', async (ctx) => {
        await ctx.step('first', () => {
          executions.push('first');
          return 1;
        });
        await ctx.step('second', async () => {
          executions.push('second');
          if (ctx.attempt === 1) {
            await new Promise<void>((resolve) => {
              resume = resolve;
              ctx.signal.addEventListener('abort', () => resolve());
            });
          }
          return 2;
        });
        return 'done';
      });
      const one = setup([slow], store);
      await one.kernel.start();
      const handle = await one.kernel.submit({ key: 'k', flow: 'slow' });
      await one.kernel.once('step:committed');
      const requeued = one.kernel.once('run:requeued');
      await new Promise((r) => setImmediate(r));
      await one.kernel.stop();
      expect((await requeued).runId).toBe(handle.id);
      expect(resume).toBeTypeOf('function');
      expect((await store.getRun(handle.id))?.status).toBe('queued');
      expect((await store.getOwner('k'))?.ownerId).toBeNull();

      const two = setup([slow], store);
      await two.kernel.start();
      expect(await two.kernel.handle(handle.id).result()).toBe('done');
      expect(executions).toEqual(['first', 'second', 'second']);
      expect((await store.getRun(handle.id))?.attempts).toBe(2);
      await two.kernel.stop();
    });

    it('a re-run whose step names diverge from the journal fails with journal_divergence', async () => {
      const store = makeStore();
      let variant = 'x';
      const shifty = defineFlow('shifty', async (ctx) => {
        await ctx.step('one', () => 1);
        await ctx.step(`two-${variant}`, async () => {
          if (variant === 'x') await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          return 2;
        });
        await ctx.step('three', () => 3);
      });
      const one = setup([shifty], store);
      await one.kernel.start();
      const handle = await one.kernel.submit({ key: 'k', flow: 'shifty' });
      await one.kernel.once('step:committed');
      await store.commitStep({
        key: 'k',
        ownerId: one.kernel.ownerId,
        epoch: 1,
        runId: handle.id,
        seq: 1,
        name: 'two-x',
        result: 2,
        now: 1,
      });
      await one.kernel.stop();
      variant = 'y';
      const two = setup([shifty], store);
      await two.kernel.start();
      await expect(two.kernel.handle(handle.id).result()).rejects.toMatchObject({ code: 'journal_divergence' });
      const run = await two.kernel.getRun(handle.id);
      expect(run?.error?.message).toMatch(/diverged from its journal at step #1: the journal has "two-x" but the flow now calls "two-y"/);
      await two.kernel.stop();
    });

    it('renewal keeps the lease alive on the virtual clock; a lost lease stops the runtime without writing', async () => {
      const store = makeStore();
      const block = defineFlow('block', async (ctx) => {
        await ctx.step('wait', () => new Promise<null>((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))));
        return 'unreachable';
      });
      const clock = virtualClock(0);
      const kernel = createKernel({ store, flows: [block], clock, random: seededRandom(1), ownerTtlMs: 3_000, pollIntervalMs: 60_000 });
      await kernel.start();
      const handle = await kernel.submit({ key: 'k', flow: 'block' });
      await kernel.once('run:started');
      await advance(clock, 10_000);
      const lease = await store.getOwner('k');
      expect(lease?.ownerId).toBe(kernel.ownerId);
      expect(lease!.expiresAt).toBeGreaterThan(10_000);
      // Another owner takes the key over (as after a partition): epoch 2.
      await store.acquireOwner({ key: 'k', ownerId: 'other', now: 100_000, ttlMs: 1_000, channel: null });
      const lost = kernel.once('owner:lost');
      await advance(clock, 1_000);
      expect(await lost).toEqual({ key: 'k', epoch: 1, reason: 'taken-over' });
      expect(await store.getSteps(handle.id)).toEqual([]);
      expect((await store.getRun(handle.id))?.status).toBe('running');
      await kernel.stop();
    });
  });

  describe('kernel lifecycle edges', () => {
    it('stop() right after a submit waits for the key acquisition in flight and leaves the lease released', async () => {
      const store = makeStore();
      const { kernel } = setup([echo], store);
      await kernel.start();
      const errors: unknown[] = [];
      kernel.on('kernel:error', (e) => errors.push(e.error));
      const pending = kernel.submit({ key: 'k', flow: 'echo', input: 1 });
      const stopped = pending.then(() => kernel.stop());
      await stopped;
      await store.close();
      await new Promise((r) => setImmediate(r));
      expect(errors).toEqual([]);
      const lease = await store.getOwner('k');
      expect(lease === undefined || lease.ownerId === null).toBe(true);
    });

    it('a kernel that was never started is a pure client: it records, never runs, never takes keys', async () => {
      const store = makeStore();
      const { kernel } = setup([echo], store);
      const handle = await kernel.submit({ key: 'k', flow: 'echo', input: 'x' });
      expect(await handle.status()).toBe('queued');
      expect(await store.getOwner('k')).toBeUndefined();
      const server = setup([echo], store);
      await server.kernel.start();
      expect(await server.kernel.handle(handle.id).result()).toBe('x');
      await server.kernel.stop();
    });
  });

  describe('bad input is refused with a clear typed error and writes nothing', () => {
    it('unknown flow, empty key, non-JSON input, bad priority, preempt without urgent', async () => {
      const { kernel, store } = setup();
      await kernel.start();
      await expect(kernel.submit({ key: 'k', flow: 'nope' })).rejects.toMatchObject({
        code: 'unknown_flow',
        message: expect.stringContaining('known: echo, counter'),
      });
      await expect(kernel.submit({ key: '', flow: 'echo' })).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(kernel.submit({ key: '  ', flow: 'echo' })).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(kernel.submit({ key: 'k', flow: 'echo', input: { when: new Date(0) } as never })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('input.when (an instance of Date)'),
      });
      await expect(kernel.submit({ key: 'k', flow: 'echo', input: { n: Number.NaN } })).rejects.toMatchObject({ code: 'invalid_input' });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(kernel.submit({ key: 'k', flow: 'echo', input: cyclic as never })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('cycle'),
      });
      await expect(kernel.submit({ key: 'k', flow: 'echo', priority: 'asap' as never })).rejects.toMatchObject({
        code: 'invalid_priority',
      });
      await expect(kernel.submit({ key: 'k', flow: 'echo', preempt: 'steal' })).rejects.toMatchObject({ code: 'invalid_preempt' });
      await expect(kernel.submit({ key: 'k', flow: 'echo', idempotencyKey: '' })).rejects.toMatchObject({
        code: 'invalid_idempotency_key',
      });
      expect(await store.listRuns({})).toEqual([]);
      await kernel.stop();
    });

    it('duplicate flow names and empty flow names', () => {
      expect(() => createKernel({ store: makeStore(), flows: [echo, defineFlow('echo', async () => null)] })).toThrow(
        /two flows are named "echo"/,
      );
      expect(() => defineFlow('', async () => null)).toThrow(/non-empty name/);
    });

    it('a step result that is not JSON fails the run and commits nothing for that step', async () => {
      const dated = defineFlow('dated', async (ctx) => {
        await ctx.step('when', () => new Date(0) as never);
      });
      const { kernel, store } = setup([dated]);
      await kernel.start();
      const handle = await kernel.submit({ key: 'k', flow: 'dated' });
      await expect(handle.result()).rejects.toMatchObject({ code: 'invalid_step_result' });
      expect(await store.getSteps(handle.id)).toEqual([]);
      await kernel.stop();
    });

    it('a stored run whose flow is not registered fails with unknown_flow instead of blocking its key', async () => {
      const store = makeStore();
      await store.enqueue({
        id: 'old',
        key: 'k',
        flow: 'retired',
        input: null,
        idempotencyKey: 'i-old',
        priority: 'normal',
        preempt: null,
        now: 0,
      });
      const { kernel } = setup([echo], store);
      await kernel.start();
      const next = await kernel.submit({ key: 'k', flow: 'echo', input: 'after' });
      expect(await next.result()).toBe('after');
      expect(await store.getRun('old')).toMatchObject({ status: 'failed', error: { code: 'unknown_flow' } });
      await kernel.stop();
    });
  });
}
