import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, type Flow, type KernelEventName, type Kernel, type Store, type PreemptKind } from 'holdfast';
import { fakeProvider, seededRandom, virtualClock, type FakeProvider, type VirtualClock } from 'holdfast/testing';
import type { StoreTrace } from './store-trace.js';

/** A long agent turn inside a normal-priority "work" run, and a short urgent "reply" flow. */
const work = defineFlow('work', async (ctx, input: { task: string }) => {
  const plan = await ctx.step('plan', () => `plan for ${input.task}`);
  const answer = await ctx.turn<string>('agent', { prompt: plan });
  const done = await ctx.step('finish', () => `${answer} / finished`);
  return done;
});
const reply = defineFlow('reply', async (ctx, input: { text: string }) => ctx.step('reply', () => `replied: ${input.text}`));

/** A store for one scenario, with the trace recording its calls when the target has one. */
export interface ScenarioStoreInstance {
  readonly store: Store;
  readonly trace?: StoreTrace;
}

/** How the stores of the scenarios are built, and how strictly the scenarios are asserted. */
export interface ScenarioStore {
  /** A fresh store for one scenario. */
  readonly makeStore: () => ScenarioStoreInstance;
  /**
   * Assert the exact event trace everywhere. Off for stores that delay calls (the reordering
   * decorator): where a scenario's interleaving legitimately depends on when a store call lands
   * (see the steal scenario), the guarantees are asserted instead of the exact trace.
   */
  readonly exactTrace: boolean;
  /** How the scenarios move the virtual clock (default `clock.advance(ms)`). */
  readonly advance?: (clock: VirtualClock, ms: number) => Promise<void>;
}

interface World {
  kernel: Kernel;
  clock: VirtualClock;
  store: Store;
  trace: StoreTrace | undefined;
  agent: FakeProvider;
  log: string[];
  /** Run ids in the order they started (every attempt). */
  started: string[];
  /** Moves the clock as the target says. */
  advance: (ms: number) => Promise<void>;
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

/** A kernel on the target store with a scripted agent; `flows` and `seed` replace the default work/reply flows and seed 42. */
async function world(
  target: ScenarioStore,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  options: { ignoreAbort?: boolean; flows?: readonly Flow<any, unknown>[]; seed?: number } = {},
): Promise<World> {
  const clock = virtualClock(0);
  const { store, trace } = target.makeStore();
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
    flows: options.flows ?? [work, reply],
    providers: { agent },
    clock,
    random: seededRandom(options.seed ?? 42),
    pollIntervalMs: 60_000,
  });
  trace?.watch(kernel);
  const log: string[] = [];
  const started: string[] = [];
  kernel.on('run:queued', (e) => names.set(e.runId, `${e.flow}`));
  kernel.on('run:started', (e) => {
    // With a delaying store a run can start before its submit's `run:queued` is emitted.
    names.set(e.runId, e.flow);
    started.push(e.runId);
  });
  for (const name of TRACE) {
    kernel.on(name, (e) => {
      const event = e as { runId: string; kind?: string; interrupted?: boolean };
      const who = names.get(event.runId) ?? '?';
      const extra = name === 'run:interrupted' ? `(${event.kind})` : name === 'turn:started' && event.interrupted ? '(interrupted)' : '';
      log.push(`${name} ${who}${extra}`);
    });
  }
  await kernel.start();
  const advance = (ms: number) => (target.advance ?? ((c: VirtualClock, n: number) => c.advance(n)))(clock, ms);
  return { kernel, clock, store, trace, agent, log, started, advance };
}

/**
 * Submits the work run and lets its agent turn run for two seconds. Every `once` a scenario
 * awaits is registered before the action that causes the event: with a store that delays its
 * calls, the event may come before the action's own promise settles.
 */
async function startWorkTurn(w: World) {
  const turnStarted = w.kernel.once('turn:started');
  const handle = await w.kernel.submit<{ task: string }, string>({ key: 'repo:a', flow: 'work', input: { task: 'fix bug' } });
  await turnStarted;
  await w.advance(2_000); // two seconds into a ten-second turn
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

/** No breach of the guarantees in the store trace (when the target records one). */
function expectGuarantees(w: World): void {
  expect(w.trace?.violations() ?? []).toEqual([]);
}

const count = (log: readonly string[], line: string): number => log.filter((l) => l === line).length;

/** Advances the clock a second at a time until `until` settles (at most `maxMs` of virtual time). */
async function advanceUntil(w: World, until: Promise<unknown>, maxMs = 60_000): Promise<void> {
  let settled = false;
  const done = until.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let waited = 0; !settled; waited += 1_000) {
    if (waited >= maxMs) throw new Error(`still waiting after ${maxMs} ms of virtual time`);
    await w.advance(1_000);
  }
  await done;
}

/**
 * The steal scenario: a worker in the middle of its agent turn is stolen by urgent "one"; urgent
 * "two" is submitted once "one" reached `secondWhen` (started: it joins the burst; completed: it
 * races the claim that resumes the worker). The worker ends with its turn re-issued in the same
 * session. With a delaying store, "two" may become durable only after that claim: the worker is
 * then resumed and parked again (before or during its re-issued turn), which the exact trace does
 * not allow and the guarantees do.
 */
async function stealScenario(target: ScenarioStore, secondWhen: 'run:started' | 'run:completed'): Promise<void> {
  const w = await world(target);
  const job = await startWorkTurn(w);
  const firstReached = w.kernel.once(secondWhen, (e) => e.runId !== job.id);
  const reissued = w.kernel.once('turn:started', (e) => e.interrupted);
  const first = await urgent(w, 'one');
  expect((await firstReached).runId).toBe(first.id);
  const second = await urgent(w, 'two');
  expect(await first.result()).toBe('replied: one');
  expect(await second.result()).toBe('replied: two');
  // The handle reads the store, which may show the run completed before the event is emitted.
  const completed = w.kernel.once('run:completed', (e) => e.runId === job.id);
  if (target.exactTrace) {
    await reissued;
    await w.advance(10_000);
  } else {
    // The worker may be resumed and parked again (see below): advance until it completes.
    await advanceUntil(w, completed);
  }
  expect(await job.result()).toBe('answer(re-issued) / finished');
  await completed;
  const calls = w.agent.calls;
  const run = await w.kernel.getRun(job.id);
  expect(run?.steps.map((s) => s.name)).toEqual(['plan', 'turn:agent', 'finish']);
  expect(calls[0]!.sessionId).toBe(job.id);
  if (target.exactTrace) {
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
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => [c.aborted, c.interrupted, c.turn.turnSeq])).toEqual([
      [true, false, 1],
      [false, true, 1],
    ]);
    expect(calls[1]!.sessionId).toBe(calls[0]!.sessionId);
    expect(run).toMatchObject({ status: 'completed', attempts: 2, parked: false });
  } else {
    // With a delaying store the enqueue of "two" may land after the claim that follows "one",
    // which then resumes the worker, and "two" parks it again (before or during its re-issued
    // turn). The burst is then split in two; the guarantees are the same: every park is a steal,
    // the replies run in arrival order and never beside the worker, and the worker's last
    // attempt re-issues the interrupted turn in the same session.
    const attempts = count(w.log, 'run:started work');
    expect(w.log.slice(0, 7)).toEqual([
      'run:started work',
      'turn:started work',
      'run:interrupted work(steal)',
      'turn:preempted work',
      'turn:aborted work',
      'run:parked work',
      'run:started reply',
    ]);
    expect(w.log.filter((l) => l.startsWith('run:interrupted'))).toEqual(Array<string>(attempts - 1).fill('run:interrupted work(steal)'));
    expect(count(w.log, 'run:parked work')).toBe(attempts - 1);
    expect(w.log.filter((l) => l.endsWith(' reply'))).toEqual([
      'run:started reply',
      'run:completed reply',
      'run:started reply',
      'run:completed reply',
    ]);
    expect(w.started.filter((id) => id !== job.id)).toEqual([first.id, second.id]);
    expect(w.log.slice(-5)).toEqual([
      'run:started work',
      'run:resumed work',
      'turn:started work(interrupted)',
      'turn:completed work',
      'run:completed work',
    ]);
    expect(calls.map((c) => [c.aborted, c.turn.turnSeq, c.sessionId])).toEqual(calls.map((_, i) => [i < calls.length - 1, 1, job.id]));
    expect(calls.map((c) => c.interrupted)).toEqual(calls.map((_, i) => i > 0));
    expect(run).toMatchObject({ status: 'completed', attempts, parked: false });
  }
  await w.kernel.stop();
  expectGuarantees(w);
}

/** Registers the preemption scenarios, each on a fresh store of `target`. */
export function preemptionScenarios(title: string, target: ScenarioStore): void {
  describe(title, () => {
    it('steal: parks the worker mid-turn, drains the whole urgent burst, resumes with the same session', async () => {
      // A second urgent command arrives while the first one is running: it joins the burst.
      await stealScenario(target, 'run:started');
    });

    it('steal: an urgent command arriving as the burst drains is run before the worker goes on', async () => {
      await stealScenario(target, 'run:completed');
    });

    it('abort-keep: interrupts the turn, requeues the run, which re-runs from its last committed step', async () => {
      const w = await world(target);
      const job = await startWorkTurn(w);
      const restarted = w.kernel.once('turn:started', (e) => e.attempt === 2);
      const u = await urgent(w, 'now', 'abort-keep');
      expect(await u.result()).toBe('replied: now');
      await restarted;
      const completed = w.kernel.once('run:completed', (e) => e.runId === job.id);
      await w.advance(10_000);
      expect(await job.result()).toBe('answer(first) / finished');
      await completed;
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
      expectGuarantees(w);
    });

    it('abort-drop: interrupts the turn and ends the run cancelled with the reason recorded', async () => {
      const w = await world(target);
      const job = await startWorkTurn(w);
      const replied = w.kernel.once('run:completed');
      const u = await urgent(w, 'drop it', 'abort-drop');
      expect(await u.result()).toBe('replied: drop it');
      await replied;
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
      expectGuarantees(w);
    });

    it('a late result from a provider that ignores the abort is discarded, never committed (K7)', async () => {
      const w = await world(target, { ignoreAbort: true });
      const job = await startWorkTurn(w);
      const reissued = w.kernel.once('turn:started', (e) => e.interrupted);
      const u = await urgent(w, 'quick');
      expect(await u.result()).toBe('replied: quick');
      await reissued;
      // The first (interrupted) call answers at t=10 000, while the re-issued turn is in flight.
      const late = w.kernel.once('turn:late-result');
      await w.advance(8_500);
      expect(await late).toMatchObject({ runId: job.id, seq: 1, attempt: 1 });
      expect((await w.store.getSteps(job.id)).map((s) => s.name)).toEqual(['plan']);
      await w.advance(10_000);
      expect(await job.result()).toBe('answer(re-issued) / finished');
      const turn = (await w.store.getSteps(job.id)).find((s) => s.name === 'turn:agent');
      expect(turn?.result).toBe('answer(re-issued)');
      await w.kernel.stop();
      expectGuarantees(w);
    });

    it('a worker never starts a turn while durable urgent demand is pending, even if nobody signalled it (K5)', async () => {
      let releasePlan!: () => void;
      const gated = defineFlow('gated', async (ctx) => {
        await ctx.step('plan', () => new Promise<string>((resolve) => (releasePlan = () => resolve('p'))));
        return ctx.turn('agent', { prompt: 'go' });
      });
      const w = await world(target, { flows: [gated, reply], seed: 3 });
      const kernel = w.kernel;
      const started = kernel.once('run:started');
      const job = await kernel.submit({ key: 'repo:b', flow: 'gated' });
      await started;
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
      const urgentDone = kernel.once('run:completed', (e) => e.runId === 'u-silent');
      const turnStarted = kernel.once('turn:started');
      releasePlan();
      expect(await parked).toMatchObject({ runId: job.id, turnSeq: 1, by: 'u-silent' });
      expect(w.agent.calls).toHaveLength(0);
      await urgentDone;
      await turnStarted;
      expect(w.agent.calls.map((c) => c.interrupted)).toEqual([false]); // the turn had not started: not a re-issue
      await w.advance(10_000);
      expect(await job.result()).toBe('answer(first)');
      await kernel.stop();
      expectGuarantees(w);
    });

    it('urgent never preempts urgent: an urgent burst runs in arrival order', async () => {
      const slowUrgent = defineFlow('slow-urgent', async (ctx) => ctx.turn<string>('agent', { prompt: 'u' }));
      const w = await world(target, { flows: [slowUrgent, reply], seed: 4 });
      const kernel = w.kernel;
      const turnStarted = kernel.once('turn:started');
      const a = await kernel.submit({ key: 'k', flow: 'slow-urgent', priority: 'urgent' });
      await turnStarted;
      const interrupted: string[] = [];
      kernel.on('run:interrupted', (e) => interrupted.push(e.runId));
      const b = await kernel.submit({ key: 'k', flow: 'reply', input: { text: 'b' }, priority: 'urgent' });
      await w.advance(10_000);
      expect(await a.result()).toBe('answer(first)');
      expect(await b.result()).toBe('replied: b');
      expect(interrupted).toEqual([]);
      await kernel.stop();
      expectGuarantees(w);
    });

    it('operator cancel: abort-drop ends an active run at once, abort-keep requeues it, a queued one is dropped at claim', async () => {
      const w = await world(target);
      const job = await startWorkTurn(w);
      const queued = await w.kernel.submit({ key: 'repo:a', flow: 'reply', input: { text: 'behind' } });
      expect(await w.kernel.cancel(queued.id)).toBe('queued');
      const requeued = w.kernel.once('run:requeued', (e) => e.runId === job.id);
      const restarted = w.kernel.once('turn:started', (e) => e.attempt === 2);
      expect(await w.kernel.cancel(job.id, { mode: 'abort-keep' })).toBe('running');
      await requeued;
      await restarted;
      expect(await w.kernel.cancel(job.id)).toBe('running');
      await expect(job.result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
      await expect(queued.result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
      expect(await w.kernel.cancel(job.id)).toBe('cancelled');
      await expect(w.kernel.cancel('no-such-run')).rejects.toMatchObject({ code: 'run_not_found' });
      await expect(w.kernel.cancel(job.id, { mode: 'steal' as never })).rejects.toMatchObject({ code: 'invalid_cancel_mode' });
      await w.kernel.stop();
      expectGuarantees(w);
    });

    it('an unknown provider fails the run with a clear error and releases the key', async () => {
      const clock = virtualClock(0);
      const { store, trace } = target.makeStore();
      const typo = defineFlow('typo', async (ctx) => ctx.turn('agnet', { prompt: 'x' }));
      const kernel = createKernel({
        store,
        flows: [typo],
        providers: { agent: fakeProvider([], { clock }) },
        clock,
        random: seededRandom(5),
      });
      trace?.watch(kernel);
      await kernel.start();
      const released = kernel.once('owner:released');
      const job = await kernel.submit({ key: 'k', flow: 'typo' });
      await expect(job.result()).rejects.toMatchObject({ code: 'unknown_provider', message: expect.stringContaining('known: agent') });
      await released;
      expect((await store.getOwner('k'))?.ownerId).toBeNull();
      await kernel.stop();
      expect(trace?.violations() ?? []).toEqual([]);
    });
  });
}
