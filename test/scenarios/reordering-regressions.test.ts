import { expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { fakeProvider, seededRandom, virtualClock } from 'holdfast/testing';

/*
 * Kernel and store bugs found by running the scenarios through reorderingStore, replayed here
 * deterministically on the plain memory store (fixed in bd3895f; these keep them fixed).
 */

/*
 * Bug 1 (found by the reordered steal scenarios; before the fix, seed 13 of "steal: an urgent
 * command arriving as the burst drains" in preemption-reordered.test.ts failed). A worker parked
 * by `steal` mid-turn, resumed from its frame and parked again before its re-issued turn started
 * (an urgent command became durable just after the claim that resumed it) lost its frame's turn:
 * the second park wrote a frame with `provider: null, sessionId: null`, since the position had no
 * started turn yet (run-recorder builds the frame from `at.turn`), so the turn was finally issued
 * with `interrupted: false`, and a provider wired as in docs/providers.md (`--resume` when
 * interrupted) would have started a fresh session. Fixed in journaled-context: a turn re-issued
 * from a frame counts as started as soon as the flow reaches it.
 */
const work = defineFlow('work', async (ctx) => {
  await ctx.step('plan', () => 'plan');
  return ctx.turn<string>('agent', { prompt: 'plan' });
});
const reply = defineFlow('reply', async (ctx, input: { text: string }) => ctx.step('reply', () => input.text));

it('steal twice: a worker parked again before its re-issued turn starts still re-issues the interrupted turn', async () => {
  const clock = virtualClock(0);
  const agent = fakeProvider((request) => ({ durationMs: 10_000, result: request.interrupted ? 're-issued' : 'fresh' }), { clock });
  const kernel = createKernel({
    store: memoryStore(),
    flows: [work, reply],
    providers: { agent },
    clock,
    random: seededRandom(1),
    pollIntervalMs: 60_000,
  });
  await kernel.start();
  const turnStarted = kernel.once('turn:started');
  const job = await kernel.submit<null, string>({ key: 'k', flow: 'work' });
  await turnStarted;
  await clock.advance(2_000);
  // "two" becomes durable right after the claim that resumes the parked worker, before its turn.
  let second: Promise<unknown> | undefined;
  const off = kernel.on('run:resumed', () => {
    off();
    second = kernel.submit({ key: 'k', flow: 'reply', input: { text: 'two' }, priority: 'urgent' }).then((h) => h.result());
  });
  const lastTurn = kernel.once('turn:started', (e) => e.attempt === 3);
  const first = await kernel.submit({ key: 'k', flow: 'reply', input: { text: 'one' }, priority: 'urgent' });
  expect(await first.result()).toBe('one');
  await lastTurn;
  expect(await second).toBe('two');
  await clock.advance(10_000);
  const result = await job.result();
  await kernel.stop();
  expect(agent.calls.map((c) => [c.turn.attempt, c.sessionId === job.id, c.aborted])).toEqual([
    [1, true, true],
    [3, true, false],
  ]);
  expect(agent.calls[1]?.interrupted).toBe(true);
  expect(result).toBe('re-issued');
});

/*
 * Bug 2 (found while writing the store races of test/conformance/store-reordered.test.ts). An
 * operator's abort-drop recorded while the owner was putting the run back in the queue was lost:
 * `requeueRun` cleared every cancel request, abort-drop included (memory store and SQLite), though
 * the port applies an abort-drop "at its next claim". With requestCancel applied first and the
 * requeue (kernel stop, abort-keep preemption, operator keep) second, the run was queued with no
 * request and the next owner ran it again, after `kernel.cancel` had returned `running`; in the
 * other order the next claim dropped it. Fixed in both stores: a requeue clears only abort-keep.
 */
const waits = defineFlow('waits', async (ctx) => {
  await ctx.step('wait', ({ signal }) => new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('x'))));
  return 'done';
});

it('an abort-drop recorded just before the owner requeues the run (kernel stop) still drops it', async () => {
  const store = memoryStore();
  const clock = virtualClock(0);
  const one = createKernel({ store, flows: [waits], clock, random: seededRandom(1), pollIntervalMs: 60_000 });
  await one.start();
  const started = one.once('run:started');
  const job = await one.submit({ key: 'k', flow: 'waits' });
  await started;
  const cancelled = one.cancel(job.id); // abort-drop: recorded before the requeue of the stop below
  await one.stop();
  expect(await cancelled).toBe('running');
  const two = createKernel({ store, flows: [waits], clock, random: seededRandom(2), pollIntervalMs: 60_000 });
  const seen: string[] = [];
  two.on('run:started', () => seen.push('started'));
  two.on('run:cancelled', () => seen.push('cancelled'));
  const dropped = two.once('run:cancelled');
  await two.start();
  await Promise.race([dropped, two.once('run:started')]);
  await two.stop();
  expect(seen).toEqual(['cancelled']); // before the fix: ['started'], the dropped run ran again
  expect(await store.getRun(job.id)).toMatchObject({ status: 'cancelled' });
});
