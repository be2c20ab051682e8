/** D5 retention: finished runs lose their journal, keep their summary and their idempotence key. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RetryableError, TerminalError, defineFlow, type Json, type RunRecord } from 'holdfast';
import { caught, outcome, settled, startKernel, until, world } from './harness.js';

describe('retention', () => {
  it('compacts finished runs past completedAfterMs: steps and attempts go, the summary and the idempotence key stay', async () => {
    const w = world(0);
    let executions = 0;
    const work = defineFlow('work', async (ctx, input: { n: number }) => {
      executions++;
      const a = await ctx.step('a', () => input.n + 1);
      const b = await ctx.step('b', () => ({ doubled: a * 2 }));
      return b;
    });
    const flaky = defineFlow('flaky', async (ctx) =>
      ctx.step('s', () => {
        throw new RetryableError('still failing', { code: 'upstream', retryAfterMs: 500 });
      }),
    );
    const { kernel, events } = await startKernel(w, [work, flaky], { retention: { completedAfterMs: 10_000 } });
    const done = await kernel.submit({ key: 'k', flow: 'work', input: { n: 4 }, idempotencyKey: 'delivery-1' });
    const failed = await kernel.submit({ key: 'k2', flow: 'flaky', idempotencyKey: 'delivery-2' });
    const [od, of] = [outcome(done), outcome(failed)];
    await until(w.clock, () => od.done && of.done);
    expect(of.error?.code).toBe('upstream');
    const beforeDone = await kernel.getRun(done.id);
    const beforeFailed = await kernel.getRun(failed.id);
    const steps = [...beforeDone!.steps, ...beforeFailed!.steps];
    const attempts = await w.store.getStepAttempts(failed.id);
    expect(steps).toHaveLength(2);
    expect(attempts).toHaveLength(2);
    const bytes =
      steps.reduce((n, s) => n + s.name.length + JSON.stringify(s.result).length, 0) +
      attempts.reduce((n, a) => n + a.name.length + a.error.message.length, 0);
    // A run that ends later is not old enough at the first compaction that takes the others.
    await w.clock.advanceTo(12_000);
    const young = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'work', input: { n: 0 } }));
    expect(young.value).toEqual({ doubled: 2 });
    await until(w.clock, () => events('journal:compacted').length >= 1);
    expect(events('journal:compacted')).toEqual([{ at: 20_000, event: { runs: 2, steps: 2, bytes } }]);
    const afterDone = await kernel.getRun(done.id);
    expect(afterDone).toEqual({ ...beforeDone, compacted: true, steps: [] });
    expect(await kernel.getRun(failed.id)).toEqual({ ...beforeFailed, compacted: true, steps: [] });
    expect(await w.store.getStepAttempts(failed.id)).toEqual([]);
    await until(w.clock, () => events('journal:compacted').length >= 2);
    expect(events('journal:compacted')[1]).toMatchObject({ at: 30_000, event: { runs: 1, steps: 2 } });
    // The idempotence key still names the compacted run: nothing runs again.
    const started = events('run:started').length;
    const again = await kernel.submit({ key: 'k', flow: 'work', input: { n: 4 }, idempotencyKey: 'delivery-1' });
    expect([again.id, again.created]).toEqual([done.id, false]);
    expect(await again.result()).toEqual({ doubled: 10 });
    await w.clock.advance(5_000);
    expect(events('run:started')).toHaveLength(started);
    expect(executions).toBe(2);
    await kernel.stop();
  });

  it('kernel.retry of a failed run whose journal was compacted never runs its committed steps again (D1)', async () => {
    const w = world(0);
    let charged = 0;
    let shipping = 'down';
    const order = defineFlow('order', async (ctx) => {
      await ctx.step('charge-card', () => ++charged);
      return ctx.step('ship', () => {
        if (shipping === 'down') throw new TerminalError('carrier down', 'carrier_down');
        return 'shipped';
      });
    });
    const { kernel, events } = await startKernel(w, [order], { retention: { completedAfterMs: 1_000 } });
    const h = await kernel.submit({ key: 'k', flow: 'order' });
    expect((await settled(w.clock, h)).error).toMatchObject({ code: 'carrier_down' });
    await until(w.clock, () => events('journal:compacted').length > 0);
    expect((await kernel.getRun(h.id))?.compacted).toBe(true);
    shipping = 'up';
    // Either the retry is refused (the journal it would resume from is gone) or it resumes without
    // charging again; today it re-runs the flow from an empty journal.
    const refused = await caught(() => kernel.retry(h.id));
    if (refused) {
      expect(refused.code).toBe('run_not_retryable');
      expect((await w.store.getRun(h.id))?.status).toBe('failed');
    } else {
      await settled(w.clock, kernel.handle(h.id));
    }
    expect(charged).toBe(1);
    await kernel.stop();
  });

  it('property: getRun of every run is the same before and after compaction (fast-check)', async () => {
    type End = 'complete' | 'terminal' | 'plain-error' | 'retry-then-complete' | 'sleep-then-complete';
    interface Plan {
      readonly key: string;
      readonly steps: Json[];
      readonly end: End;
      readonly idempotent: boolean;
    }
    const stepValue: fc.Arbitrary<Json> = fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 8 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 }),
      fc.record({ label: fc.string({ maxLength: 4 }), n: fc.nat(100) }),
    );
    const plan: fc.Arbitrary<Plan> = fc.record({
      key: fc.constantFrom('a', 'b', 'c'),
      steps: fc.array(stepValue, { maxLength: 5 }),
      end: fc.constantFrom<End>('complete', 'terminal', 'plain-error', 'retry-then-complete', 'sleep-then-complete'),
      idempotent: fc.boolean(),
    });
    const flow = defineFlow('prop', async (ctx, input: Plan) => {
      const values: Json[] = [];
      for (let i = 0; i < input.steps.length; i++) values.push(await ctx.step(`s${i}`, () => input.steps[i]!));
      switch (input.end) {
        case 'terminal':
          throw new TerminalError(`gave up after ${values.length}`, 'gave_up');
        case 'plain-error':
          throw new Error('plain failure');
        case 'retry-then-complete':
          await ctx.step('flaky', () => {
            if (ctx.attempt === 1) throw new RetryableError('once', { retryAfterMs: 300 });
          });
          break;
        case 'sleep-then-complete':
          await ctx.sleep(700);
          break;
        case 'complete':
          break;
      }
      return { values, end: input.end };
    });
    const summary = (run: RunRecord | undefined) => {
      if (!run) return undefined;
      const { compacted: _compacted, ...rest } = run;
      return rest;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(plan, { minLength: 1, maxLength: 6 }), async (plans) => {
        const w = world(0);
        const { kernel, events } = await startKernel(w, [flow], { retention: { completedAfterMs: 60_000 } });
        const handles = [];
        for (const [i, p] of plans.entries()) {
          handles.push(
            await kernel.submit({ key: p.key, flow: 'prop', input: p, ...(p.idempotent ? { idempotencyKey: `delivery-${i}` } : {}) }),
          );
        }
        const results = handles.map((h) => outcome(h));
        await until(w.clock, () => results.every((r) => r.done), { maxMs: 50_000 });
        const before = await Promise.all(handles.map((h) => kernel.getRun(h.id)));
        const totalSteps = before.reduce((n, r) => n + (r?.steps.length ?? 0), 0);
        await until(w.clock, () => events('journal:compacted').reduce((n, e) => n + e.event.runs, 0) === plans.length, {
          maxMs: 200_000,
          stepMs: 1_000,
        });
        expect(events('journal:compacted').reduce((n, e) => n + e.event.steps, 0)).toBe(totalSteps);
        const after = await Promise.all(handles.map((h) => kernel.getRun(h.id)));
        for (const [i, run] of after.entries()) {
          expect(run?.compacted).toBe(true);
          expect(run?.steps).toEqual([]);
          expect(summary(run)).toEqual({ ...summary(before[i]), steps: [] });
          const { status, result, error, idempotencyKey } = run!;
          const b = before[i]!;
          expect({ status, result, error, idempotencyKey }).toEqual({
            status: b.status,
            result: b.result,
            error: b.error,
            idempotencyKey: b.idempotencyKey,
          });
        }
        await kernel.stop();
      }),
      { numRuns: 25, seed: 20_240_601 },
    );
  });
});
