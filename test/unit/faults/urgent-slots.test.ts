import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Kernel, type RunHandle, type Store } from 'holdfast';
import { seededRandom, virtualClock, type VirtualClock } from 'holdfast/testing';

/** Lets pending promise chains run (no time passes) until `condition` holds. */
async function until(condition: () => boolean, what: string, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

/** Lets the event loop turn `turns` times (no time passes). */
async function settle(turns = 100): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs that hold their key until the test opens their gate; `started` lists them in start order. */
function gatedWorld(options: { concurrency: number; urgentConcurrency?: number }) {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  const finished: string[] = [];
  const hold = defineFlow('hold', async (ctx, input: { name: string }) => {
    await ctx.step('hold', async () => {
      started.push(input.name);
      await new Promise<void>((resolve) => gates.set(input.name, resolve));
    });
    finished.push(input.name);
    return input.name;
  });
  const quick = defineFlow('quick', async (ctx, input: { name: string }) => {
    await ctx.step('quick', () => started.push(input.name));
    finished.push(input.name);
    return input.name;
  });
  const clock: VirtualClock = virtualClock(0);
  const store: Store = memoryStore();
  const kernel: Kernel = createKernel({
    store,
    flows: [hold, quick],
    clock,
    random: seededRandom(3),
    pollIntervalMs: 60_000,
    concurrency: options.concurrency,
    ...(options.urgentConcurrency !== undefined ? { urgentConcurrency: options.urgentConcurrency } : {}),
  });
  const open = (name: string) => {
    const gate = gates.get(name);
    if (!gate) throw new Error(`${name} holds no gate`);
    gate();
  };
  return { kernel, clock, store, gates, started, finished, open };
}

describe('urgent work never waits behind normal work of other keys', () => {
  it('with every normal slot held by long runs of other keys, an urgent run for an idle key starts and completes at once', async () => {
    const CONCURRENCY = 8;
    const w = gatedWorld({ concurrency: CONCURRENCY });
    await w.kernel.start();
    const normal: RunHandle<string>[] = [];
    // One more normal run than there are slots: it waits for a slot, ahead of the urgent one.
    for (let i = 0; i <= CONCURRENCY; i++) {
      normal.push(await w.kernel.submit<{ name: string }, string>({ key: `repo:n${i}`, flow: 'hold', input: { name: `n${i}` } }));
    }
    await until(() => w.started.length === CONCURRENCY, 'every normal slot to be taken');
    await settle();
    expect(w.started).toHaveLength(CONCURRENCY);
    expect(await w.store.getRun(normal[CONCURRENCY]!.id)).toMatchObject({ status: 'queued', attempts: 0 });

    const urgent = await w.kernel.submit<{ name: string }, string>({
      key: 'repo:idle',
      flow: 'quick',
      input: { name: 'urgent' },
      priority: 'urgent',
    });
    expect(await urgent.result()).toBe('urgent');
    expect(w.finished).toEqual(['urgent']);
    // The normal runs are all still where they were: running, and the extra one still queued.
    const statuses = await Promise.all(normal.map((h) => h.status()));
    expect(statuses).toEqual([...Array<string>(CONCURRENCY).fill('running'), 'queued']);
    expect(w.clock.now()).toBe(0);

    for (let i = 0; i < CONCURRENCY; i++) w.open(`n${i}`);
    await until(() => w.gates.has(`n${CONCURRENCY}`), 'the waiting normal run to start');
    w.open(`n${CONCURRENCY}`);
    expect(await Promise.all(normal.map((h) => h.result()))).toEqual(normal.map((_, i) => `n${i}`));
    await w.kernel.stop();
  });

  it('an urgent run for a key whose own normal run waits for a slot jumps to the urgent pool and completes first', async () => {
    const w = gatedWorld({ concurrency: 2 });
    await w.kernel.start();
    const busy = [
      await w.kernel.submit<{ name: string }, string>({ key: 'repo:n0', flow: 'hold', input: { name: 'n0' } }),
      await w.kernel.submit<{ name: string }, string>({ key: 'repo:n1', flow: 'hold', input: { name: 'n1' } }),
    ];
    await until(() => w.started.length === 2, 'both normal slots to be taken');
    const waiting = await w.kernel.submit<{ name: string }, string>({ key: 'repo:x', flow: 'quick', input: { name: 'x-normal' } });
    await settle();
    expect(await waiting.status()).toBe('queued');
    const urgent = await w.kernel.submit<{ name: string }, string>({
      key: 'repo:x',
      flow: 'quick',
      input: { name: 'x-urgent' },
      priority: 'urgent',
    });
    expect(await urgent.result()).toBe('x-urgent');
    expect(await waiting.status()).toBe('queued');
    expect(await Promise.all(busy.map((h) => h.status()))).toEqual(['running', 'running']);
    w.open('n0');
    w.open('n1');
    expect(await waiting.result()).toBe('x-normal');
    expect(w.finished.slice(0, 1)).toEqual(['x-urgent']);
    await w.kernel.stop();
  });

  it('urgentConcurrency 1: a second urgent run of another idle key waits for the first (urgent waits only behind urgent)', async () => {
    const w = gatedWorld({ concurrency: 2, urgentConcurrency: 1 });
    await w.kernel.start();
    const first = await w.kernel.submit<{ name: string }, string>({
      key: 'repo:a',
      flow: 'hold',
      input: { name: 'u1' },
      priority: 'urgent',
    });
    await until(() => w.started.includes('u1'), 'the first urgent run to start');
    const second = await w.kernel.submit<{ name: string }, string>({
      key: 'repo:b',
      flow: 'hold',
      input: { name: 'u2' },
      priority: 'urgent',
    });
    await settle();
    expect(w.started).toEqual(['u1']);
    expect(await second.status()).toBe('queued');

    // Normal work of a third key is not held up by the urgent pool being full.
    const normal = await w.kernel.submit<{ name: string }, string>({ key: 'repo:c', flow: 'quick', input: { name: 'n' } });
    expect(await normal.result()).toBe('n');
    expect(await second.status()).toBe('queued');

    w.open('u1');
    expect(await first.result()).toBe('u1');
    await until(() => w.started.includes('u2'), 'the second urgent run to start once the first ended');
    w.open('u2');
    expect(await second.result()).toBe('u2');
    expect(w.started).toEqual(['u1', 'n', 'u2']);
    await w.kernel.stop();
  });
});
