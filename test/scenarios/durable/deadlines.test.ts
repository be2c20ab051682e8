/** D8: run deadlines — flow and submit level, in a provider turn, in a wait, before the run starts. */
import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow } from 'holdfast';
import { fakeProvider, seededRandom } from 'holdfast/testing';
import { deferred, outcome, settled, startKernel, until, world } from './harness.js';

describe('deadlines', () => {
  it('flow-level deadlineMs applies to every run; a submit-level deadlineMs overrides it (shorter or longer)', async () => {
    const w = world(1_000);
    const slow = defineFlow(
      'slow',
      async (ctx, input: { ms: number }) => {
        await ctx.sleep(input.ms);
        return 'finished';
      },
      { deadlineMs: 5_000 },
    );
    const { kernel, events } = await startKernel(w, [slow]);
    const byFlow = await kernel.submit({ key: 'a', flow: 'slow', input: { ms: 8_000 } });
    const shorter = await kernel.submit({ key: 'b', flow: 'slow', input: { ms: 8_000 }, deadlineMs: 2_000 });
    const longer = await kernel.submit({ key: 'c', flow: 'slow', input: { ms: 8_000 }, deadlineMs: 20_000 });
    expect((await Promise.all([byFlow, shorter, longer].map((h) => w.store.getRun(h.id)))).map((r) => r?.deadlineAt)).toEqual([
      6_000, 3_000, 21_000,
    ]);
    const results = [byFlow, shorter, longer].map((h) => outcome(h));
    await until(w.clock, () => results.every((r) => r.done));
    expect(results.map((r) => r.error?.code ?? r.value)).toEqual(['deadline', 'deadline', 'finished']);
    const failedAt = new Map(events('run:failed').map((e) => [e.event.runId, e.at]));
    expect([failedAt.get(byFlow.id), failedAt.get(shorter.id)]).toEqual([6_000, 3_000]);
    await kernel.stop();
  });

  it('a run inside a long provider turn past its deadline fails with deadline and the provider signal aborts', async () => {
    const w = world(0);
    const agent = fakeProvider([{ durationMs: 60_000, result: 'too late' }], { clock: w.clock });
    const f = defineFlow('f', async (ctx) => {
      await ctx.step('prepare', () => 'ready');
      return ctx.turn('agent', { prompt: 'think hard' });
    });
    const { kernel, events } = await startKernel(w, [f], { providers: { agent } });
    const h = await kernel.submit({ key: 'k', flow: 'f', deadlineMs: 10_000 });
    const o = await settled(w.clock, h);
    expect(o.error).toMatchObject({ code: 'deadline', status: 'failed' });
    expect(events('run:failed').map((e) => [e.at, e.event.error.code])).toEqual([[10_000, 'deadline']]);
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0]).toMatchObject({ aborted: true, abortedAt: 10_000, outcome: 'rejected' });
    expect(events('turn:preempted')).toHaveLength(1);
    await w.clock.advance(60_000);
    expect((await w.store.getSteps(h.id)).map((s) => s.name)).toEqual(['prepare']);
    expect((await w.store.getRun(h.id))?.status).toBe('failed');
    await kernel.stop();
  });

  it('a sleeping run past its deadline is failed at the deadline, not at its wake', async () => {
    const w = world(0);
    let after = 0;
    const f = defineFlow('f', async (ctx) => {
      await ctx.sleep(60_000);
      after++;
      return 'woke';
    });
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f', deadlineMs: 7_500 });
    const o = await settled(w.clock, h);
    expect(o.error).toMatchObject({ code: 'deadline' });
    expect(events('run:failed').map((e) => e.at)).toEqual([7_500]);
    const run = await w.store.getRun(h.id);
    expect(run).toMatchObject({ status: 'failed', finishedAt: 7_500, wait: null });
    await w.clock.advance(120_000);
    expect(after).toBe(0);
    await kernel.stop();
  });

  it('a queued run whose deadline passed before it started fails without executing', async () => {
    const w = world(0);
    const gate = deferred();
    let executed = 0;
    const blocker = defineFlow('blocker', async (ctx) => ctx.step('block', () => gate.promise));
    const late = defineFlow('late', async (ctx) => {
      executed++;
      return ctx.step('work', () => 'ran');
    });
    const { kernel, events } = await startKernel(w, [blocker, late]);
    await kernel.submit({ key: 'k', flow: 'blocker' });
    await kernel.once('run:started');
    const h = await kernel.submit({ key: 'k', flow: 'late', deadlineMs: 1_000 });
    await w.clock.advanceTo(5_000);
    gate.resolve();
    const o = await settled(w.clock, h);
    expect(o.error).toMatchObject({ code: 'deadline', status: 'failed' });
    expect(executed).toBe(0);
    expect(events('run:started').map((e) => e.event.runId)).not.toContain(h.id);
    expect(await w.store.getSteps(h.id)).toEqual([]);
    await kernel.stop();
  });

  it('a run queued while no kernel ran, past its deadline at start, fails without executing', async () => {
    const w = world(0);
    let executed = 0;
    const f = defineFlow('f', async () => {
      executed++;
      return 'ran';
    });
    // Recorded by a pure client (a kernel never started); nobody runs it before its deadline.
    const client = createKernel({ store: w.store, flows: [f], clock: w.clock, random: seededRandom(99), wake: null });
    const h = await client.submit({ key: 'k', flow: 'f', deadlineMs: 2_000 });
    expect((await w.store.getRun(h.id))?.status).toBe('queued');
    await w.clock.advanceTo(10_000);
    const { kernel, events } = await startKernel(w, [f]);
    const o = await settled(w.clock, kernel.handle(h.id));
    expect(o.error).toMatchObject({ code: 'deadline' });
    expect(executed).toBe(0);
    expect(events('run:started')).toEqual([]);
    await kernel.stop();
  });

  it('waiting and queued runs past their deadline fail at it even while another run of their key executes', async () => {
    const w = world(0);
    const gate = deferred();
    const sleeper = defineFlow('sleeper', async (ctx) => {
      await ctx.sleep(60_000);
      return 'woke';
    });
    const blocker = defineFlow('blocker', async (ctx) => ctx.step('block', () => gate.promise));
    const { kernel, events } = await startKernel(w, [sleeper, blocker]);
    const waiting = await kernel.submit({ key: 'k', flow: 'sleeper', deadlineMs: 5_000 });
    await kernel.once('run:waiting');
    await kernel.submit({ key: 'k', flow: 'blocker' });
    const queued = await kernel.submit({ key: 'k', flow: 'sleeper', deadlineMs: 3_000 });
    const [ow, oq] = [outcome(waiting), outcome(queued)];
    await w.clock.advanceTo(30_000); // the blocker still holds the key
    const failedAt = new Map(events('run:failed').map((e) => [e.event.runId, e.at]));
    const statuses = await Promise.all([waiting, queued].map((h) => h.status()));
    gate.resolve();
    await until(w.clock, () => ow.done && oq.done);
    expect([ow.error?.code, oq.error?.code]).toEqual(['deadline', 'deadline']);
    expect(statuses).toEqual(['failed', 'failed']);
    expect([failedAt.get(waiting.id), failedAt.get(queued.id)]).toEqual([5_000, 3_000]);
    await kernel.stop();
  });

  it('a parent past its deadline while joining fails with deadline and its unfinished children are cancelled', async () => {
    const w = world(0);
    const kid = defineFlow('kid', async (ctx) => {
      await ctx.sleep(600_000);
      return 'kid done';
    });
    const parent = defineFlow('parent', async (ctx) => ctx.call('kid', null, { key: 'kids' }), { deadlineMs: 10_000 });
    const { kernel, events } = await startKernel(w, [parent, kid]);
    const p = await kernel.submit({ key: 'repo', flow: 'parent' });
    const o = await settled(w.clock, p);
    expect(o.error).toMatchObject({ code: 'deadline' });
    expect(events('run:failed').map((e) => e.at)).toEqual([10_000]);
    await until(w.clock, async () => (await w.store.childrenOf(p.id))[0]?.status === 'cancelled', { maxMs: 1_000 });
    await kernel.stop();
  });
});
