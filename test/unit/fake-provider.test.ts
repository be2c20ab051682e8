import { describe, expect, it } from 'vitest';
import { HoldfastError } from '../../src/errors.js';
import type { Json } from '../../src/model/index.js';
import type { ProviderChunk, TurnRequest } from '../../src/ports/provider.js';
import { fakeProvider } from '../../src/providers/fake-provider.js';
import { virtualClock } from '../../src/testing/virtual-clock.js';

function turnRequest(overrides: Partial<TurnRequest> = {}) {
  const chunks: { at: number; chunk: ProviderChunk }[] = [];
  const clockRef: { now: () => number } = { now: () => 0 };
  const request: TurnRequest = {
    turn: { runId: 'run-1', turnSeq: 1, attempt: 0, epoch: 1 },
    input: { prompt: 'hi' },
    sessionId: 'sess-1',
    interrupted: false,
    signal: new AbortController().signal,
    onChunk: (chunk) => chunks.push({ at: clockRef.now(), chunk }),
    ...overrides,
  };
  return { request, chunks, clockRef };
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('fakeProvider', () => {
  it('emits chunks at their offsets and resolves after its duration, on the virtual clock only', async () => {
    const clock = virtualClock(100);
    const provider = fakeProvider(
      [
        {
          durationMs: 1000,
          chunks: [
            { atMs: 500, data: 'half' },
            { atMs: 0, data: 'start' },
            { atMs: 2000, kind: 'json', data: { clamped: true } },
          ],
          result: (input) => ({ echoed: input }),
        },
      ],
      { clock },
    );
    const t = turnRequest();
    t.clockRef.now = () => clock.now();
    const turn = track(provider.runTurn(t.request));
    await clock.advance(499);
    expect(t.chunks).toEqual([{ at: 100, chunk: { kind: 'text', data: 'start' } }]);
    await clock.advance(1);
    expect(t.chunks.map((c) => c.at)).toEqual([100, 600]);
    await clock.advance(499);
    expect(turn.settled).toBe(false);
    await clock.advance(1);
    expect(t.chunks.at(-1)).toEqual({ at: 1100, chunk: { kind: 'json', data: { clamped: true } } });
    expect(turn).toEqual({ settled: true, value: { echoed: { prompt: 'hi' } } });
    expect(provider.calls[0]).toMatchObject({ outcome: 'resolved', startedAt: 100, settledAt: 1100, aborted: false });
  });

  it('a zero-duration turn settles without advancing the clock; scripted failures reject', async () => {
    const clock = virtualClock();
    const provider = fakeProvider([{ result: 'quick' }, { fail: 'model overloaded' }, { durationMs: 10, fail: new TypeError('boom') }], {
      clock,
    });
    await expect(provider.runTurn(turnRequest().request)).resolves.toBe('quick');
    const failed = await provider.runTurn(turnRequest().request).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(HoldfastError);
    expect((failed as HoldfastError).code).toBe('provider_failed');
    const late = track(provider.runTurn(turnRequest().request));
    await clock.advance(10);
    expect(late.error).toBeInstanceOf(TypeError);
    const exhausted = await provider.runTurn(turnRequest().request).catch((e: unknown) => e);
    expect((exhausted as HoldfastError).code).toBe('fake_script_exhausted');
  });

  it('on abort rejects at once with the signal reason and emits nothing more', async () => {
    const clock = virtualClock();
    const provider = fakeProvider(
      [
        {
          durationMs: 1000,
          chunks: [
            { atMs: 100, data: 'a' },
            { atMs: 900, data: 'b' },
          ],
          result: 'never',
        },
      ],
      { clock },
    );
    const ac = new AbortController();
    const t = turnRequest({ signal: ac.signal });
    const turn = track(provider.runTurn(t.request));
    await clock.advance(200);
    const reason = new Error('preempted');
    ac.abort(reason);
    await clock.flush();
    expect(turn).toEqual({ settled: true, error: reason });
    expect(clock.pending()).toBe(0);
    await clock.advance(2000);
    expect(t.chunks.map((c) => c.chunk.data)).toEqual(['a']);
    expect(provider.calls[0]).toMatchObject({ aborted: true, abortedAt: 200, outcome: 'rejected', settledAt: 200 });

    const again = fakeProvider([{ durationMs: 5, result: 'never' }], { clock });
    const pre = await again.runTurn(turnRequest({ signal: AbortSignal.abort('gone') }).request).catch((e: unknown) => e);
    expect(pre).toBe('gone');
  });

  it('with ignoreAbort keeps going after abort and resolves at its scripted time', async () => {
    const clock = virtualClock();
    const provider = fakeProvider(() => ({ durationMs: 500, chunks: [{ atMs: 400, data: 'still here' }], result: 'late' }), {
      clock,
      ignoreAbort: true,
    });
    const ac = new AbortController();
    const t = turnRequest({ signal: ac.signal });
    const turn = track(provider.runTurn(t.request));
    await clock.advance(100);
    ac.abort(new Error('stop'));
    await clock.advance(300);
    expect(turn.settled).toBe(false);
    expect(provider.calls[0]).toMatchObject({ aborted: true, abortedAt: 100, outcome: 'running' });
    await clock.advance(100);
    expect(turn).toEqual({ settled: true, value: 'late' });
    expect(t.chunks.map((c) => c.chunk.data)).toEqual(['still here']);
    expect(provider.calls[0]).toMatchObject({ outcome: 'resolved', settledAt: 500, result: 'late' });
  });

  it('records every call with its input, session, interrupted flag and turn identity', async () => {
    const clock = virtualClock();
    const seen: [Json, number][] = [];
    const provider = fakeProvider(
      (request, index) => {
        seen.push([request.input, index]);
        return { result: request.interrupted ? 'resumed' : 'fresh' };
      },
      { clock },
    );
    await provider.runTurn(turnRequest({ input: 'one' }).request);
    const resumed = await provider.runTurn(
      turnRequest({ input: 'two', sessionId: 'sess-9', interrupted: true, turn: { runId: 'run-2', turnSeq: 4, attempt: 2, epoch: 3 } })
        .request,
    );
    expect(resumed).toBe('resumed');
    expect(seen).toEqual([
      ['one', 0],
      ['two', 1],
    ]);
    expect(
      provider.calls.map(({ index, input, sessionId, interrupted, turn, aborted }) => ({
        index,
        input,
        sessionId,
        interrupted,
        turn,
        aborted,
      })),
    ).toEqual([
      {
        index: 0,
        input: 'one',
        sessionId: 'sess-1',
        interrupted: false,
        turn: { runId: 'run-1', turnSeq: 1, attempt: 0, epoch: 1 },
        aborted: false,
      },
      {
        index: 1,
        input: 'two',
        sessionId: 'sess-9',
        interrupted: true,
        turn: { runId: 'run-2', turnSeq: 4, attempt: 2, epoch: 3 },
        aborted: false,
      },
    ]);
  });
});
