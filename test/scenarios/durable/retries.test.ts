/** D6: step retry policies, RetryableError / TerminalError, journaled attempts, durable backoff. */
import { describe, expect, it } from 'vitest';
import { RetryableError, TerminalError, defineFlow } from 'holdfast';
import { outcome, settled, startKernel, stopKernel, until, world } from './harness.js';

describe('retries', () => {
  it('a step retry policy: plain errors retried with its backoff, attempts journaled, then the step commits', async () => {
    const w = world(1_000);
    const tries: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.step(
        'flaky',
        () => {
          tries.push(w.clock.now());
          if (tries.length < 3) throw new Error(`boom ${tries.length}`);
          return 'ok';
        },
        { retry: { maxAttempts: 4, initialMs: 500, factor: 3, maxMs: 10_000 } },
      ),
    );
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit<null, string>({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.value).toBe('ok');
    expect(tries).toEqual([1_000, 1_500, 3_000]);
    expect(events('step:retrying').map((e) => [e.at, e.event.attempt, e.event.delayMs, e.event.error.code])).toEqual([
      [1_000, 1, 500, 'step_failed'],
      [1_500, 2, 1_500, 'step_failed'],
    ]);
    expect(events('run:waiting').map((e) => [e.event.kind, e.event.wakeAt])).toEqual([
      ['retry', 1_500],
      ['retry', 3_000],
    ]);
    const attempts = await w.store.getStepAttempts(h.id);
    expect(attempts.map((a) => [a.seq, a.name, a.attempt, a.failedAt, a.retryAt, a.error.message])).toEqual([
      [0, 'flaky', 1, 1_000, 1_500, 'Error: boom 1'],
      [0, 'flaky', 2, 1_500, 3_000, 'Error: boom 2'],
    ]);
    expect((await w.store.getSteps(h.id)).map((s) => [s.name, s.result])).toEqual([['flaky', 'ok']]);
    await kernel.stop();
  });

  it("the flow's retry policy applies to steps that give none; a step's own policy wins", async () => {
    const w = world(0);
    const tries: Record<string, number[]> = { inherits: [], own: [] };
    const f = defineFlow(
      'f',
      async (ctx) => {
        await ctx.step('inherits', () => {
          tries.inherits!.push(w.clock.now());
          if (tries.inherits!.length < 2) throw new Error('once');
        });
        await ctx.step(
          'own',
          () => {
            tries.own!.push(w.clock.now());
            if (tries.own!.length < 2) throw new Error('once');
          },
          { retry: { maxAttempts: 2, initialMs: 100 } },
        );
        return 'done';
      },
      { retry: { maxAttempts: 2, initialMs: 7_000 } },
    );
    const { kernel } = await startKernel(w, [f]);
    const o = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'f' }));
    expect(o.value).toBe('done');
    expect(tries).toEqual({ inherits: [0, 7_000], own: [7_000, 7_100] });
    await kernel.stop();
  });

  it('a plain error without a policy fails the run at once; a TerminalError is never retried', async () => {
    const w = world(0);
    let plainCalls = 0;
    let terminalCalls = 0;
    const plain = defineFlow('plain', async (ctx) =>
      ctx.step('s', () => {
        plainCalls++;
        throw new Error('no policy');
      }),
    );
    const terminal = defineFlow('terminal', async (ctx) =>
      ctx.step(
        's',
        () => {
          terminalCalls++;
          throw new TerminalError('bad request', 'bad_request');
        },
        { retry: { maxAttempts: 5, initialMs: 10 } },
      ),
    );
    const { kernel, events } = await startKernel(w, [plain, terminal]);
    const p = await kernel.submit({ key: 'a', flow: 'plain' });
    const t = await kernel.submit({ key: 'b', flow: 'terminal' });
    const [op, ot] = [outcome(p), outcome(t)];
    await until(w.clock, () => op.done && ot.done);
    expect(op.error).toMatchObject({ code: 'flow_error', status: 'failed' });
    expect(op.error?.message).toContain('no policy');
    expect(ot.error).toMatchObject({ code: 'bad_request', status: 'failed' });
    expect([plainCalls, terminalCalls]).toEqual([1, 1]);
    expect(events('step:retrying')).toEqual([]);
    expect(await w.store.getStepAttempts(p.id)).toEqual([]);
    expect(await w.store.getStepAttempts(t.id)).toEqual([]);
    await kernel.stop();
  });

  it('RetryableError: the default policy (3 attempts, 1 s then 2 s), then the run fails with its code', async () => {
    const w = world(0);
    const tries: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.step('s', () => {
        tries.push(w.clock.now());
        throw new RetryableError('upstream 503', { code: 'upstream_unavailable' });
      }),
    );
    const { kernel } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(tries).toEqual([0, 1_000, 3_000]);
    expect(o.error).toMatchObject({ code: 'upstream_unavailable', status: 'failed' });
    const run = await w.store.getRun(h.id);
    expect(run?.error?.code).toBe('upstream_unavailable');
    expect((await w.store.getStepAttempts(h.id)).map((a) => [a.attempt, a.retryAt])).toEqual([
      [1, 1_000],
      [2, 3_000],
    ]);
    await kernel.stop();
  });

  it('RetryableError({ retryAfterMs }) replaces the backoff; exhausting a step policy fails with the error code', async () => {
    const w = world(0);
    const tries: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.step(
        's',
        () => {
          tries.push(w.clock.now());
          throw new RetryableError('rate limited', { code: 'rate_limited', retryAfterMs: 45_000 });
        },
        { retry: { maxAttempts: 3, initialMs: 10 } },
      ),
    );
    const { kernel, events } = await startKernel(w, [f]);
    const o = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'f' }));
    expect(tries).toEqual([0, 45_000, 90_000]);
    expect(events('step:retrying').map((e) => e.event.delayMs)).toEqual([45_000, 45_000]);
    expect(o.error).toMatchObject({ code: 'rate_limited' });
    await kernel.stop();
  });

  it('the backoff is a durable wait: the key runs other work meanwhile and its owner lease is released', async () => {
    const w = world(0);
    const log: string[] = [];
    let failed = false;
    const flaky = defineFlow('flaky', async (ctx) =>
      ctx.step('s', () => {
        log.push(`flaky@${w.clock.now()}`);
        if (!failed) {
          failed = true;
          throw new RetryableError('later', { retryAfterMs: 20_000 });
        }
        return 'ok';
      }),
    );
    const other = defineFlow('other', async (ctx) => ctx.step('s', () => log.push(`other@${w.clock.now()}`)));
    const { kernel } = await startKernel(w, [flaky, other]);
    const h = await kernel.submit({ key: 'k', flow: 'flaky' });
    await kernel.once('owner:released');
    const view = await w.store.getRun(h.id);
    expect(view?.status).toBe('waiting');
    expect(view?.wait).toMatchObject({ kind: 'retry', wakeAt: 20_000 });
    expect((await w.store.getOwner('k'))?.ownerId).toBeNull();
    await w.clock.advanceTo(5_000);
    const o2 = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'other' }));
    expect(o2.error).toBeUndefined();
    const o = await settled(w.clock, kernel.handle(h.id));
    expect(o.value).toBe('ok');
    expect(log).toEqual(['flaky@0', 'other@5000', 'flaky@20000']);
    await kernel.stop();
  });

  it('a new kernel taking over during a backoff keeps the original retry time', async () => {
    const w = world(1_000);
    const tries: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.step('s', () => {
        tries.push(w.clock.now());
        if (tries.length === 1) throw new RetryableError('later', { retryAfterMs: 60_000 });
        return tries.length;
      }),
    );
    const first = await startKernel(w, [f]);
    const h = await first.kernel.submit({ key: 'k', flow: 'f' });
    await first.kernel.once('run:waiting');
    await w.clock.advanceTo(5_000);
    await stopKernel(w, first.kernel);
    await w.clock.advanceTo(30_000);
    const second = await startKernel(w, [f]);
    const o = await settled(w.clock, second.kernel.handle(h.id));
    expect(o.value).toBe(2);
    expect(tries).toEqual([1_000, 61_000]);
    expect((await w.store.getStepAttempts(h.id)).map((a) => a.retryAt)).toEqual([61_000]);
    await second.kernel.stop();
  });
});
