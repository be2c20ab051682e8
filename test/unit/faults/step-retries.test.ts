import { describe, expect, it } from 'vitest';
import { RetryableError, TerminalError, createKernel, defineFlow, memoryStore, type KernelEvents, type KernelOptions } from 'holdfast';
import { seededRandom, virtualClock, type VirtualClock } from 'holdfast/testing';

const T0 = 10_000;

/** A step that fails with `failures[i]` on attempt i+1 and succeeds once they are used up. */
function flaky(failures: readonly Error[], calls: number[], clock: () => number) {
  return defineFlow('flaky', async (ctx) => {
    const value = await ctx.step('call-api', () => {
      calls.push(clock());
      const failure = failures[calls.length - 1];
      if (failure) throw failure;
      return `ok after ${calls.length} attempt(s)`;
    });
    return value;
  });
}

function setup(make: (clock: VirtualClock) => KernelOptions['flows'][number]) {
  const clock = virtualClock(T0);
  const store = memoryStore();
  const flow = make(clock);
  const kernel = createKernel({ store, flows: [flow], clock, random: seededRandom(8), pollIntervalMs: 600_000 });
  const retrying: KernelEvents['step:retrying'][] = [];
  const committed: KernelEvents['step:committed'][] = [];
  kernel.on('step:retrying', (e) => retrying.push(e));
  kernel.on('step:committed', (e) => committed.push(e));
  return { clock, store, kernel, retrying, committed, flow: flow.name };
}

describe('step retries (D6)', () => {
  it('a step failing twice with RetryableError then succeeding commits once, after backoffs of 1 s and 2 s', async () => {
    const calls: number[] = [];
    const w = setup((clock) => flaky([new RetryableError('503 from api'), new RetryableError('503 again')], calls, () => clock.now()));
    await w.kernel.start();
    const handle = await w.kernel.submit({ key: 'repo:a', flow: w.flow });
    await w.kernel.once('step:retrying');
    expect(calls).toEqual([T0]);
    await w.clock.advance(999);
    expect(calls).toEqual([T0]);
    await w.clock.advance(1);
    expect(calls).toEqual([T0, T0 + 1_000]);
    await w.clock.advance(1_999);
    expect(calls).toHaveLength(2);
    expect(w.committed).toEqual([]);
    await w.clock.advance(1);
    expect(await handle.result()).toBe('ok after 3 attempt(s)');
    expect(calls).toEqual([T0, T0 + 1_000, T0 + 3_000]);
    expect(w.retrying).toEqual([
      {
        runId: handle.id,
        key: 'repo:a',
        seq: 0,
        name: 'call-api',
        attempt: 1,
        delayMs: 1_000,
        error: { code: 'retryable', message: '503 from api' },
      },
      {
        runId: handle.id,
        key: 'repo:a',
        seq: 0,
        name: 'call-api',
        attempt: 2,
        delayMs: 2_000,
        error: { code: 'retryable', message: '503 again' },
      },
    ]);
    expect(w.committed).toEqual([{ runId: handle.id, key: 'repo:a', seq: 0, name: 'call-api', flow: 'flaky', durationMs: 0 }]);
    const steps = await w.store.getSteps(handle.id);
    expect(steps.map((s) => [s.seq, s.name, s.result, s.committedAt])).toEqual([[0, 'call-api', 'ok after 3 attempt(s)', T0 + 3_000]]);
    // Each retry is a durable wait: the run waits without its key and is claimed again when due.
    expect(await w.store.getRun(handle.id)).toMatchObject({ status: 'completed', attempts: 3 });
    expect((await w.store.getStepAttempts(handle.id)).map((a) => [a.seq, a.attempt, a.error.message, a.failedAt, a.retryAt])).toEqual([
      [0, 1, '503 from api', T0, T0 + 1_000],
      [0, 2, '503 again', T0 + 1_000, T0 + 3_000],
    ]);
    await w.kernel.stop();
  });

  it("a RetryableError's retryAfterMs replaces the backoff", async () => {
    const calls: number[] = [];
    const w = setup((clock) =>
      flaky(
        [
          new RetryableError('rate limited', { code: 'rate_limited', retryAfterMs: 250 }),
          new RetryableError('again', { retryAfterMs: 4_000 }),
        ],
        calls,
        () => clock.now(),
      ),
    );
    await w.kernel.start();
    const handle = await w.kernel.submit({ key: 'repo:a', flow: w.flow });
    await w.kernel.once('step:retrying');
    await w.clock.advance(249);
    expect(calls).toEqual([T0]);
    await w.clock.advance(1);
    expect(calls).toEqual([T0, T0 + 250]);
    await w.clock.advance(3_999);
    expect(calls).toHaveLength(2);
    await w.clock.advance(1);
    expect(await handle.result()).toBe('ok after 3 attempt(s)');
    expect(calls).toEqual([T0, T0 + 250, T0 + 4_250]);
    expect(w.retrying.map((e) => [e.attempt, e.delayMs, e.error.code])).toEqual([
      [1, 250, 'rate_limited'],
      [2, 4_000, 'retryable'],
    ]);
    await w.kernel.stop();
  });

  it("after 3 failed attempts the run fails with the error's code and nothing is committed", async () => {
    const calls: number[] = [];
    const errors = [1, 2, 3, 4].map((n) => new RetryableError(`upstream down (${n})`, { code: 'upstream_down' }));
    const w = setup((clock) => flaky(errors, calls, () => clock.now()));
    await w.kernel.start();
    const handle = await w.kernel.submit({ key: 'repo:a', flow: w.flow });
    const outcome = expect(handle.result()).rejects.toMatchObject({ status: 'failed', code: 'upstream_down' });
    await w.kernel.once('step:retrying');
    await w.clock.advance(3_000);
    await outcome;
    expect(calls).toEqual([T0, T0 + 1_000, T0 + 3_000]);
    expect(w.retrying.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 1_000],
      [2, 2_000],
    ]);
    expect(await w.store.getRun(handle.id)).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_down', message: 'upstream down (3)' },
    });
    expect(await w.store.getSteps(handle.id)).toEqual([]);
    await w.clock.advance(60_000);
    expect(calls).toHaveLength(3);
    await w.kernel.stop();
  });

  it('a TerminalError is never retried, nor is a plain Error', async () => {
    for (const [failure, code] of [
      [new TerminalError('card declined', 'card_declined'), 'card_declined'],
      [new TypeError('x is undefined'), 'flow_error'],
    ] as const) {
      const calls: number[] = [];
      const w = setup((clock) => flaky([failure], calls, () => clock.now()));
      await w.kernel.start();
      const handle = await w.kernel.submit({ key: 'repo:a', flow: w.flow });
      await expect(handle.result()).rejects.toMatchObject({ status: 'failed', code });
      await w.clock.advance(60_000);
      expect(calls).toEqual([T0]);
      expect(w.retrying).toEqual([]);
      expect(await w.store.getSteps(handle.id)).toEqual([]);
      await w.kernel.stop();
    }
  });
});
