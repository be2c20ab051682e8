import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, createKernel, defineFlow, memoryStore, sqliteStore, type Json, type Store } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

/**
 * Keys, flow names, step names and idempotence keys are compared after a round trip through the
 * store. A lone UTF-16 surrogate (a title cut in the middle of an emoji) has no UTF-8 form, so it
 * is refused at the API edge with a typed error naming where it is, before anything is written;
 * well-formed text, emoji included, round-trips exactly.
 */

const CUT = 'title \uD83D'; // "title 😀" cut after the high surrogate: lone surrogate at index 6
const LOW = '\uDE00 tail'; // a lone low surrogate at index 0
const EMOJI_KEY = 'repo:🚀/web 👩‍💻';

const echo = defineFlow('echo', async (ctx, input: Json) => ctx.step('echo', () => input));

function memoryKernel(store: Store = memoryStore()) {
  const kernel = createKernel({
    store,
    flows: [echo, stepNamed, turnNamed],
    clock: virtualClock(0),
    random: seededRandom(4),
    pollIntervalMs: 60_000,
  });
  const queued: string[] = [];
  kernel.on('run:queued', (e) => queued.push(e.runId));
  return { kernel, store, queued };
}

const stepNamed = defineFlow('step-named', async (ctx, input: { name: string }) => {
  const before = await ctx.step('before', () => 'ok');
  await ctx.step(input.name, () => {
    throw new Error('the step function must not be called');
  });
  return before;
});

const turnNamed = defineFlow('turn-named', async (ctx, input: { name: string }) => ctx.turn('agent', null, { name: input.name }));

describe('well-formed Unicode at the API edge', () => {
  it('a key with a lone surrogate is refused with InvalidInputError naming the index; nothing is written', async () => {
    const { kernel, store, queued } = memoryKernel();
    await kernel.start();
    for (const [key, index] of [
      [CUT, 6],
      [LOW, 0],
      [`repo:${'\uDBFF'}x`, 5],
    ] as const) {
      const attempt = kernel.submit({ key, flow: 'echo', input: 1 });
      await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
      await expect(attempt).rejects.toMatchObject({ code: 'invalid_key', message: expect.stringContaining(`index ${index}`) });
    }
    expect(await store.listRuns({})).toEqual([]);
    expect(queued).toEqual([]);
    await kernel.stop();
  });

  it('an idempotence key with a lone surrogate is refused with InvalidInputError naming the index; nothing is written', async () => {
    const { kernel, store, queued } = memoryKernel();
    const attempt = kernel.submit({ key: 'repo:a', flow: 'echo', input: 1, idempotencyKey: `delivery ${LOW}` });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toMatchObject({ code: 'invalid_idempotency_key', message: expect.stringContaining('index 9') });
    expect(await store.listRuns({})).toEqual([]);
    expect(queued).toEqual([]);
  });

  it('a flow name with a lone surrogate is refused by defineFlow with InvalidInputError naming the index', () => {
    const define = () => defineFlow(CUT, async () => null);
    expect(define).toThrow(InvalidInputError);
    expect(define).toThrow(expect.objectContaining({ code: 'invalid_flow_name', message: expect.stringContaining('index 6') }));
    expect(() => defineFlow('fine 😀', async () => null)).not.toThrow();
  });

  it('a step or turn name with a lone surrogate fails the run with invalid_step_name before the step runs or commits', async () => {
    const { kernel, store } = memoryKernel();
    await kernel.start();
    const step = await kernel.submit({ key: 'repo:a', flow: 'step-named', input: { name: CUT } });
    await expect(step.result()).rejects.toMatchObject({ status: 'failed', code: 'invalid_step_name' });
    expect((await store.getRun(step.id))?.error?.message).toContain('index 6');
    expect((await store.getSteps(step.id)).map((s) => s.name)).toEqual(['before']);
    const turn = await kernel.submit({ key: 'repo:b', flow: 'turn-named', input: { name: LOW } });
    await expect(turn.result()).rejects.toMatchObject({ status: 'failed', code: 'invalid_step_name' });
    expect((await store.getRun(turn.id))?.error?.message).toContain('index 0');
    expect(await store.getSteps(turn.id)).toEqual([]);
    await kernel.stop();
  });

  it('a well-formed emoji key and idempotence key work and round-trip exactly (memory store)', async () => {
    const { kernel, store } = memoryKernel();
    await kernel.start();
    const first = await kernel.submit({ key: EMOJI_KEY, flow: 'echo', input: 'hi 🎉', idempotencyKey: 'delivery 😀' });
    expect(await first.result()).toBe('hi 🎉');
    expect(await store.getRun(first.id)).toMatchObject({ key: EMOJI_KEY, idempotencyKey: 'delivery 😀', status: 'completed' });
    const again = await kernel.submit({ key: EMOJI_KEY, flow: 'echo', input: 'hi 🎉', idempotencyKey: 'delivery 😀' });
    expect(again).toMatchObject({ id: first.id, created: false });
    await kernel.stop();
  });
});

describe('well-formed Unicode through the real SQLite store (system clock)', () => {
  const freshPath = () => join(mkdtempSync(join(tmpdir(), 'hf-unicode-')), 'state.db');

  it('a lone-surrogate key is refused before anything reaches the file', async () => {
    const store = sqliteStore({ path: freshPath() });
    const kernel = createKernel({ store, flows: [echo] });
    try {
      await expect(kernel.submit({ key: CUT, flow: 'echo', input: 1 })).rejects.toMatchObject({
        code: 'invalid_key',
        message: expect.stringContaining('index 6'),
      });
      await expect(kernel.submit({ key: 'repo:a', flow: 'echo', input: 1, idempotencyKey: CUT })).rejects.toBeInstanceOf(InvalidInputError);
      expect(await store.listRuns({})).toEqual([]);
    } finally {
      await kernel.stop();
      await store.close();
    }
  });

  it('an emoji key completes, and a run left queued on an emoji key is found and run by a new kernel after a restart', async () => {
    const path = freshPath();
    const queuedKey = 'repo:🦀/crab ✨';
    const first = sqliteStore({ path });
    const one = createKernel({ store: first, flows: [echo] });
    let leftQueued: string;
    try {
      await one.start();
      const done = await one.submit({ key: EMOJI_KEY, flow: 'echo', input: { text: 'ship it 🚀' }, idempotencyKey: 'd-😀-1' });
      expect(await done.result()).toEqual({ text: 'ship it 🚀' });
      expect(await first.getRun(done.id)).toMatchObject({ key: EMOJI_KEY, idempotencyKey: 'd-😀-1', status: 'completed' });
      await one.stop();
      // A pure client (never started) records a run that nobody runs before the "restart".
      const client = createKernel({ store: first, flows: [echo] });
      const queued = await client.submit({ key: queuedKey, flow: 'echo', input: '🦀', idempotencyKey: 'd-🦀-2' });
      expect(await queued.status()).toBe('queued');
      leftQueued = queued.id;
      await client.stop();
    } finally {
      await first.close();
    }

    const second = sqliteStore({ path });
    const two = createKernel({ store: second, flows: [echo] });
    try {
      await two.start();
      expect(await two.handle(leftQueued).result()).toBe('🦀');
      const run = await two.getRun(leftQueued);
      expect(run).toMatchObject({ key: queuedKey, idempotencyKey: 'd-🦀-2', status: 'completed', attempts: 1 });
      expect(run?.steps.map((s) => [s.name, s.result])).toEqual([['echo', '🦀']]);
      const again = await two.submit({ key: queuedKey, flow: 'echo', input: '🦀', idempotencyKey: 'd-🦀-2' });
      expect(again).toMatchObject({ id: leftQueued, created: false });
      expect(await second.listRuns({ key: EMOJI_KEY })).toHaveLength(1);
    } finally {
      await two.stop();
      await second.close();
    }
  });

  it('a run stopped after committing an emoji-named step resumes after a restart without journal divergence', async () => {
    const path = freshPath();
    const calls: string[] = [];
    const flow = defineFlow('résumé ✅', async (ctx, input: { title: string }) => {
      const checked = await ctx.step('✅ check 🚦', () => {
        calls.push('check');
        return `checked ${input.title}`;
      });
      const waited = await ctx.step('⏳ wait', async ({ signal }) => {
        calls.push('wait');
        if (ctx.attempt === 1) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return '⌛ done';
      });
      return `${checked} / ${waited}`;
    });
    const key = 'repo:ünï/cødé 🧪';
    const first = sqliteStore({ path });
    const one = createKernel({ store: first, flows: [flow] });
    let id: string;
    try {
      await one.start();
      const handle = await one.submit({ key, flow: 'résumé ✅', input: { title: 'Crash 💥 on login' } });
      id = handle.id;
      await one.once('step:committed', (e) => e.runId === handle.id);
      for (let turn = 0; turn < 500 && !calls.includes('wait'); turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(calls).toEqual(['check', 'wait']);
      await one.stop();
      expect(await first.getRun(id)).toMatchObject({ key, status: 'queued' });
    } finally {
      await first.close();
    }
    const second = sqliteStore({ path });
    const two = createKernel({ store: second, flows: [flow] });
    try {
      await two.start();
      expect(await two.handle(id).result()).toBe('checked Crash 💥 on login / ⌛ done');
      expect(calls).toEqual(['check', 'wait', 'wait']);
      expect((await second.getSteps(id)).map((s) => s.name)).toEqual(['✅ check 🚦', '⏳ wait']);
    } finally {
      await two.stop();
      await second.close();
    }
  });
});
