import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type KernelEventName, type Kernel, type Store, type PreemptKind } from 'holdfast';
import { fakeProvider, seededRandom, virtualClock, type FakeProvider, type VirtualClock } from 'holdfast/testing';

/** A long agent turn inside a normal-priority "work" run, and a short urgent "reply" flow. */
const work = defineFlow('work', async (ctx, input: { task: string }) => {
  const plan = await ctx.step('plan', () => `plan for ${input.task}`);
  const answer = await ctx.turn<string>('agent', { prompt: plan });
  const done = await ctx.step('finish', () => `${answer} / finished`);
  return done;
});
const reply = defineFlow('reply', async (ctx, input: { text: string }) => ctx.step('reply', () => `replied: ${input.text}`));

interface World {
  kernel: Kernel;
  clock: VirtualClock;
  store: Store;
  agent: FakeProvider;
  log: string[];
}

const TRACE: KernelEventName[] = [
  'run:started',
  'run:completed',
  'run:cancelled',
  'run:requeued',
  'run:interrupted',
  'run:parked',
  'run:resumed',
  'turn:started',
  'turn:preempted',
  'turn:completed',
  'turn:late-result',
  'turn:aborted',
];

async function world(options: { ignoreAbort?: boolean } = {}): Promise<World> {
  const clock = virtualClock(0);
  const store = memoryStore();
  const names = new Map<string, string>();
  const agent = fakeProvider(
    (request) => ({
      durationMs: 10_000,
      chunks: [{ atMs: 1_000, data: 'thinking' }],
      result: `answer(${request.interrupted ? 're-issued' : 'first'})`,
      ignoreAbort: options.ignoreAbort ?? false,
    }),
    { clock },
  );
  const kernel = createKernel({
    store,
    flows: [work, reply],
    providers: { agent },
    clock,
    random: seededRandom(42),
    pollIntervalMs: 60_000,
  });
  const log: string[] = [];
  kernel.on('run:queued', (e) => names.set(e.runId, `${e.flow}`));
  for (const name of TRACE) {
    kernel.on(name, (e) => {
      const event = e as { runId: string; kind?: string; interrupted?: boolean };
      const who = names.get(event.runId) ?? '?';
      const extra = name === 'run:interrupted' ? `(${event.kind})` : name === 'turn:started' && event.interrupted ? '(interrupted)' : '';
      log.push(`${name} ${who}${extra}`);
    });
  }
  await kernel.start();
  return { kernel, clock, store, agent, log };
}

async function startWorkTurn(w: World) {
  const handle = await w.kernel.submit<{ task: string }, string>({ key: 'repo:a', flow: 'work', input: { task: 'fix bug' } });
  await w.kernel.once('turn:started');
  await w.clock.advance(2_000); // two seconds into a ten-second turn
  return handle;
}

async function urgent(w: World, text: string, preempt?: PreemptKind) {
  return w.kernel.submit<{ text: string }, string>({
    key: 'repo:a',
    flow: 'reply',
    input: { text },
    priority: 'urgent',
    ...(preempt ? { preempt } : {}),
  });
}

describe('preemption scenarios (fake provider, virtual clock)', () => {
  it('steal: parks the worker mid-turn, drains the whole urgent burst, resumes with the same session', async () => {
    const w = await world();
    const job = await startWorkTurn(w);
    const first = await urgent(w, 'one');
    // A second urgent command arrives while the first one is running: it joins the burst.
    await w.kernel.once('run:started', (e) => e.runId === first.id);
    const second = await urgent(w, 'two');
    expect(await first.result()).toBe('replied: one');
    expect(await second.result()).toBe('replied: two');
    await w.kernel.once('turn:started', (e) => e.interrupted);
    await w.clock.advance(10_000);
    expect(await job.result()).toBe('answer(re-issued) / finished');
    expect(w.log).toEqual([
      'run:started work',
      'turn:started work',
      'run:interrupted work(steal)',
      'turn:preempted work',
      'turn:aborted work',
      'run:parked work',
      'run:started reply',
      'run:completed reply',
      'run:started reply',
      'run:completed reply',
      'run:started work',
      'run:resumed work',
      'turn:started work(interrupted)',
      'turn:completed work',
      'run:completed work',
    ]);
    const calls = w.agent.calls;
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => [c.aborted, c.interrupted, c.turn.turnSeq])).toEqual([
      [true, false, 1],
      [false, true, 1],
    ]);
    expect(calls[1]!.sessionId).toBe(calls[0]!.sessionId);
    expect(calls[0]!.sessionId).toBe(job.id);
    const run = await w.kernel.getRun(job.id);
    expect(run?.steps.map((s) => s.name)).toEqual(['plan', 'turn:agent', 'finish']);
    expect(run).toMatchObject({ status: 'completed', attempts: 2, parked: false });
    await w.kernel.stop();
  });

  it('abort-keep: interrupts the turn, requeues the run, which re-runs from its last committed step', async () => {
    const w = await world();
    const job = await startWorkTurn(w);
    const u = await urgent(w, 'now', 'abort-keep');
    expect(await u.result()).toBe('replied: now');
    await w.kernel.once('turn:started');
    await w.clock.advance(10_000);
    expect(await job.result()).toBe('answer(first) / finished');
    expect(w.log).toEqual([
      'run:started work',
      'turn:started work',
      'run:interrupted work(abort-keep)',
      'turn:preempted work',
      'turn:aborted work',
      'run:requeued work',
      'run:started reply',
      'run:completed reply',
      'run:started work',
      'turn:started work',
      'turn:completed work',
      'run:completed work',
    ]);
    expect(w.agent.calls.map((c) => c.interrupted)).toEqual([false, false]);
    await w.kernel.stop();
  });

  it('abort-drop: interrupts the turn and ends the run cancelled with the reason recorded', async () => {
    const w = await world();
    const job = await startWorkTurn(w);
    const u = await urgent(w, 'drop it', 'abort-drop');
    expect(await u.result()).toBe('replied: drop it');
    await expect(job.result()).rejects.toMatchObject({ status: 'cancelled', code: 'preempted' });
    const run = await w.kernel.getRun(job.id);
    expect(run?.status).toBe('cancelled');
    expect(run?.error?.message).toMatch(new RegExp(`preempted \\(abort-drop\\) by urgent run ${u.id}`));
    expect(run?.steps.map((s) => s.name)).toEqual(['plan']);
    expect(w.log).toEqual([
      'run:started work',
      'turn:started work',
      'run:interrupted work(abort-drop)',
      'turn:preempted work',
      'turn:aborted work',
      'run:cancelled work',
      'run:started reply',
      'run:completed reply',
    ]);
    await w.kernel.stop();
  });

  it('a late result from a provider that ignores the abort is discarded, never committed (K7)', async () => {
    const w = await world({ ignoreAbort: true });
    const job = await startWorkTurn(w);
    const u = await urgent(w, 'quick');
    expect(await u.result()).toBe('replied: quick');
    await w.kernel.once('turn:started', (e) => e.interrupted);
    // The first (interrupted) call answers at t=10 000, while the re-issued turn is in flight.
    const late = w.kernel.once('turn:late-result');
    await w.clock.advance(8_500);
    expect(await late).toMatchObject({ runId: job.id, seq: 1, attempt: 1 });
    expect((await w.store.getSteps(job.id)).map((s) => s.name)).toEqual(['plan']);
    await w.clock.advance(10_000);
    expect(await job.result()).toBe('answer(re-issued) / finished');
    const turn = (await w.store.getSteps(job.id)).find((s) => s.name === 'turn:agent');
    expect(turn?.result).toBe('answer(re-issued)');
    await w.kernel.stop();
  });

  it('a worker never starts a turn while durable urgent demand is pending, even if nobody signalled it (K5)', async () => {
    const w = await world();
    let releasePlan!: () => void;
    const gated = defineFlow('gated', async (ctx) => {
      await ctx.step('plan', () => new Promise<string>((resolve) => (releasePlan = () => resolve('p'))));
      return ctx.turn('agent', { prompt: 'go' });
    });
    const kernel = createKernel({
      store: w.store,
      flows: [gated, reply],
      providers: { agent: w.agent },
      clock: w.clock,
      random: seededRandom(3),
      pollIntervalMs: 60_000,
    });
    await w.kernel.stop();
    await kernel.start();
    const job = await kernel.submit({ key: 'repo:b', flow: 'gated' });
    await kernel.once('run:started');
    // Urgent demand written straight to the store, as by a process whose wake-up was lost.
    await w.store.enqueue({
      id: 'u-silent',
      key: 'repo:b',
      flow: 'reply',
      input: { text: 'silent' },
      idempotencyKey: 'u-silent',
      priority: 'urgent',
      preempt: 'steal',
      now: 0,
    });
    const parked = kernel.once('run:parked');
    releasePlan();
    expect(await parked).toMatchObject({ runId: job.id, turnSeq: 1, by: 'u-silent' });
    expect(w.agent.calls).toHaveLength(0);
    await kernel.once('run:completed', (e) => e.runId === 'u-silent');
    await kernel.once('turn:started');
    expect(w.agent.calls.map((c) => c.interrupted)).toEqual([false]); // the turn had not started: not a re-issue
    await w.clock.advance(10_000);
    expect(await job.result()).toBe('answer(first)');
    await kernel.stop();
  });

  it('urgent never preempts urgent: an urgent burst runs in arrival order', async () => {
    const w = await world();
    const slowUrgent = defineFlow('slow-urgent', async (ctx) => ctx.turn<string>('agent', { prompt: 'u' }));
    const kernel = createKernel({
      store: w.store,
      flows: [slowUrgent, reply],
      providers: { agent: w.agent },
      clock: w.clock,
      random: seededRandom(4),
      pollIntervalMs: 60_000,
    });
    await w.kernel.stop();
    await kernel.start();
    const a = await kernel.submit({ key: 'k', flow: 'slow-urgent', priority: 'urgent' });
    await kernel.once('turn:started');
    const interrupted: string[] = [];
    kernel.on('run:interrupted', (e) => interrupted.push(e.runId));
    const b = await kernel.submit({ key: 'k', flow: 'reply', input: { text: 'b' }, priority: 'urgent' });
    await w.clock.advance(10_000);
    expect(await a.result()).toBe('answer(first)');
    expect(await b.result()).toBe('replied: b');
    expect(interrupted).toEqual([]);
    await kernel.stop();
  });

  it('operator cancel: abort-drop ends an active run at once, abort-keep requeues it, a queued one is dropped at claim', async () => {
    const w = await world();
    const job = await startWorkTurn(w);
    const queued = await w.kernel.submit({ key: 'repo:a', flow: 'reply', input: { text: 'behind' } });
    expect(await w.kernel.cancel(queued.id)).toBe('queued');
    expect(await w.kernel.cancel(job.id, { mode: 'abort-keep' })).toBe('running');
    await w.kernel.once('run:requeued', (e) => e.runId === job.id);
    await w.kernel.once('turn:started');
    expect(await w.kernel.cancel(job.id)).toBe('running');
    await expect(job.result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
    await expect(queued.result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
    expect(await w.kernel.cancel(job.id)).toBe('cancelled');
    await expect(w.kernel.cancel('no-such-run')).rejects.toMatchObject({ code: 'run_not_found' });
    await expect(w.kernel.cancel(job.id, { mode: 'steal' as never })).rejects.toMatchObject({ code: 'invalid_cancel_mode' });
    await w.kernel.stop();
  });

  it('an unknown provider fails the run with a clear error and releases the key', async () => {
    const clock = virtualClock(0);
    const store = memoryStore();
    const typo = defineFlow('typo', async (ctx) => ctx.turn('agnet', { prompt: 'x' }));
    const kernel = createKernel({
      store,
      flows: [typo],
      providers: { agent: fakeProvider([], { clock }) },
      clock,
      random: seededRandom(5),
    });
    await kernel.start();
    const released = kernel.once('owner:released');
    const job = await kernel.submit({ key: 'k', flow: 'typo' });
    await expect(job.result()).rejects.toMatchObject({ code: 'unknown_provider', message: expect.stringContaining('known: agent') });
    await released;
    expect((await store.getOwner('k'))?.ownerId).toBeNull();
    await kernel.stop();
  });
});
