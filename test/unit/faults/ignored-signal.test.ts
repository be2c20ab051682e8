import { describe, expect, it } from 'vitest';
import {
  StepTimeoutError,
  createKernel,
  defineFlow,
  memoryStore,
  type Kernel,
  type KernelEvents,
  type KernelOptions,
  type Store,
} from 'holdfast';
import { fakeProvider, seededRandom, virtualClock, type FakeProvider, type VirtualClock } from 'holdfast/testing';

/** Lets pending promise chains run (no time passes) until `condition` holds. */
async function until(condition: () => boolean, what: string, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

const GRACE_MS = 2_000;

interface World {
  readonly kernel: Kernel;
  readonly clock: VirtualClock;
  readonly store: Store;
  readonly abandoned: KernelEvents['step:abandoned'][];
}

async function world(flows: KernelOptions['flows'], options: { store?: Store; clock?: VirtualClock; agent?: FakeProvider } = {}) {
  const clock = options.clock ?? virtualClock(0);
  const store = options.store ?? memoryStore();
  const kernel = createKernel({
    store,
    flows,
    clock,
    random: seededRandom(11),
    interruptGraceMs: GRACE_MS,
    pollIntervalMs: 60_000,
    ...(options.agent ? { providers: { agent: options.agent } } : {}),
  });
  const abandoned: KernelEvents['step:abandoned'][] = [];
  kernel.on('step:abandoned', (e) => abandoned.push(e));
  await kernel.start();
  return { kernel, clock, store, abandoned } satisfies World;
}

/** A flow whose second step never returns (while `hang` is set) and never looks at any signal. */
function stuckFlow(calls: string[], hang: () => boolean) {
  return defineFlow('stuck', async (ctx) => {
    const a = await ctx.step('prepare', () => {
      calls.push('prepare');
      return 1;
    });
    const b = await ctx.step('hang', () => {
      calls.push('hang');
      return hang() ? new Promise<number>(() => undefined) : 2;
    });
    return a + b;
  });
}

const echo = defineFlow('echo', async (ctx, input: string) => ctx.step('echo', () => input));

describe('code that ignores ctx.signal (in-process)', () => {
  it('stop({ timeoutMs }) resolves at its deadline although a step never returns; the run is requeued with its committed steps', async () => {
    let hang = true;
    const calls: string[] = [];
    const stuck = stuckFlow(calls, () => hang);
    const store = memoryStore();
    const one = await world([stuck], { store });
    const handle = await one.kernel.submit({ key: 'repo:a', flow: 'stuck' });
    await until(() => calls.includes('hang'), 'the hanging step to start');
    const requeued = one.kernel.once('run:requeued');
    let stopped = false;
    // The stop deadline (1 s) comes before the interrupt grace (2 s).
    const stopping = one.kernel.stop({ timeoutMs: 1_000 }).then(() => (stopped = true));
    await one.clock.advance(999);
    expect(stopped).toBe(false);
    await one.clock.advance(1);
    await stopping;
    expect(stopped).toBe(true);
    expect(one.clock.now()).toBe(1_000);
    expect((await requeued).runId).toBe(handle.id);
    expect(one.abandoned).toEqual([{ runId: handle.id, key: 'repo:a', seq: 1, name: 'hang', reason: 'interrupt-grace' }]);
    expect(await store.getRun(handle.id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await store.getSteps(handle.id)).map((s) => [s.seq, s.name, s.result])).toEqual([[0, 'prepare', 1]]);
    expect((await store.getOwner('repo:a'))?.ownerId).toBeNull();

    // The next kernel resumes it from the committed step: `prepare` is not called again.
    hang = false;
    const two = await world([stuck], { store });
    expect(await two.kernel.handle(handle.id).result()).toBe(3);
    expect(calls).toEqual(['prepare', 'hang', 'hang']);
    expect(await store.getRun(handle.id)).toMatchObject({ status: 'completed', attempts: 2 });
    await two.kernel.stop();
  });

  it('stop() without a deadline resolves after interruptGraceMs and requeues the stuck run', async () => {
    const calls: string[] = [];
    const w = await world([stuckFlow(calls, () => true)]);
    const handle = await w.kernel.submit({ key: 'repo:a', flow: 'stuck' });
    await until(() => calls.includes('hang'), 'the hanging step to start');
    let stopped = false;
    const stopping = w.kernel.stop().then(() => (stopped = true));
    await w.clock.advance(GRACE_MS - 1);
    expect(stopped).toBe(false);
    await w.clock.advance(1);
    await stopping;
    expect(w.abandoned.map((e) => [e.name, e.reason])).toEqual([['hang', 'interrupt-grace']]);
    expect((await w.store.getRun(handle.id))?.status).toBe('queued');
    expect((await w.store.getSteps(handle.id)).map((s) => s.name)).toEqual(['prepare']);
  });

  it('cancel abort-drop of a run stuck in a step ends it cancelled after interruptGraceMs; then normal and urgent runs of the key run', async () => {
    const calls: string[] = [];
    const w = await world([stuckFlow(calls, () => true), echo]);
    const handle = await w.kernel.submit({ key: 'repo:a', flow: 'stuck' });
    await until(() => calls.includes('hang'), 'the hanging step to start');
    const interrupted = w.kernel.once('run:interrupted', (e) => e.runId === handle.id);
    const cancelled = w.kernel.once('run:cancelled', (e) => e.runId === handle.id);
    let isCancelled = false;
    void cancelled.then(() => (isCancelled = true));
    expect(await w.kernel.cancel(handle.id, { mode: 'abort-drop' })).toBe('running');
    expect(await interrupted).toMatchObject({ kind: 'abort-drop', by: 'operator' });
    await w.clock.advance(GRACE_MS - 1);
    expect(isCancelled).toBe(false);
    expect((await w.store.getRun(handle.id))?.status).toBe('running');
    await w.clock.advance(1);
    expect((await cancelled).error.code).toBe('cancelled');
    expect(w.abandoned).toEqual([{ runId: handle.id, key: 'repo:a', seq: 1, name: 'hang', reason: 'interrupt-grace' }]);
    expect(await w.store.getRun(handle.id)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    await expect(w.kernel.handle(handle.id).result()).rejects.toMatchObject({ status: 'cancelled' });

    // The key is not stuck behind the abandoned function.
    const normal = await w.kernel.submit<string, string>({ key: 'repo:a', flow: 'echo', input: 'normal' });
    const urgent = await w.kernel.submit<string, string>({ key: 'repo:a', flow: 'echo', input: 'urgent', priority: 'urgent' });
    expect(await urgent.result()).toBe('urgent');
    expect(await normal.result()).toBe('normal');
    expect(calls).toEqual(['prepare', 'hang']);
    await w.kernel.stop();
  });

  it('a step timeoutMs throws StepTimeoutError into the flow, which continues; the late result is never committed', async () => {
    let finishLate: ((value: string) => void) | undefined;
    let stepSignal: AbortSignal | undefined;
    let caught: unknown;
    const timed = defineFlow('timed', async (ctx) => {
      try {
        return await ctx.step(
          'slow',
          ({ signal }) => {
            stepSignal = signal;
            return new Promise<string>((resolve) => (finishLate = resolve)); // ignores its signal
          },
          { timeoutMs: 1_000 },
        );
      } catch (error) {
        caught = error;
        return ctx.step('fallback', () => 'fallback');
      }
    });
    const w = await world([timed]);
    const committed: string[] = [];
    w.kernel.on('step:committed', (e) => committed.push(e.name));
    const handle = await w.kernel.submit<null, string>({ key: 'repo:a', flow: 'timed' });
    await until(() => finishLate !== undefined, 'the slow step to start');
    await w.clock.advance(999);
    expect(caught).toBeUndefined();
    expect(w.abandoned).toEqual([]);
    await w.clock.advance(1);
    expect(await handle.result()).toBe('fallback');
    expect(caught).toBeInstanceOf(StepTimeoutError);
    expect(caught).toMatchObject({ code: 'step_timeout', message: expect.stringContaining('"slow"') });
    expect(stepSignal?.aborted).toBe(true);
    expect(stepSignal?.reason).toBe(caught);
    expect(w.abandoned).toEqual([{ runId: handle.id, key: 'repo:a', seq: 0, name: 'slow', reason: 'timeout' }]);

    finishLate!('late');
    await w.clock.advance(5_000);
    expect(committed).toEqual(['fallback']);
    expect((await w.store.getSteps(handle.id)).map((s) => [s.seq, s.name, s.result])).toEqual([[1, 'fallback', 'fallback']]);
    expect(await w.store.getRun(handle.id)).toMatchObject({ status: 'completed', result: 'fallback' });
    await w.kernel.stop();
  });

  it('a turn timeoutMs with a provider that ignores aborts fails the turn with turn_timeout; its late answer is discarded', async () => {
    const clock = virtualClock(0);
    const agent = fakeProvider([{ durationMs: 10_000, result: 'late answer', ignoreAbort: true }], { clock });
    const asks = defineFlow('asks', async (ctx) => ctx.turn<string>('agent', { q: 'why' }, { timeoutMs: 2_000 }));
    const w = await world([asks], { clock, agent });
    const late: KernelEvents['turn:late-result'][] = [];
    w.kernel.on('turn:late-result', (e) => late.push(e));
    const handle = await w.kernel.submit({ key: 'repo:a', flow: 'asks' });
    const outcome = expect(handle.result()).rejects.toMatchObject({ status: 'failed', code: 'turn_timeout' });
    await w.kernel.once('turn:started');
    await w.clock.advance(2_000);
    await outcome;
    expect(await w.store.getRun(handle.id)).toMatchObject({
      status: 'failed',
      error: { code: 'turn_timeout', message: expect.stringContaining('2000 ms') },
    });
    expect(w.abandoned).toEqual([{ runId: handle.id, key: 'repo:a', seq: 0, name: 'turn:agent', reason: 'timeout' }]);
    expect(agent.calls[0]).toMatchObject({ aborted: true, abortedAt: 2_000, outcome: 'running' });

    await w.clock.advance(8_000);
    expect(agent.calls[0]).toMatchObject({ outcome: 'resolved', result: 'late answer' });
    expect(late).toEqual([{ runId: handle.id, key: 'repo:a', seq: 0, provider: 'agent', attempt: 1 }]);
    expect(await w.store.getSteps(handle.id)).toEqual([]);
    expect((await w.store.getRun(handle.id))?.status).toBe('failed');
    await w.kernel.stop();
  });
});
