/** D3: effect delivery — emit backoff, terminal failures, crashes, a key held by another run. */
import { describe, expect, it } from 'vitest';
import { TerminalError, defineFlow, type EffectCall, type FencingToken, type Json } from 'holdfast';
import { deferred, never, outcome, settled, startKernel, stopKernel, until, world } from './harness.js';

describe('effects: delivery', () => {
  it('failed emits are retried with backoff min(1 h, 2^n s): 2 s, 4 s, 8 s, 16 s', async () => {
    const w = world(0);
    const emits: [number, number][] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.effect(
        'call-api',
        (e) => {
          emits.push([w.clock.now(), e.attempt]);
          if (e.attempt < 5) throw new Error(`attempt ${e.attempt} failed`);
          return { id: 'ok' };
        },
        { key: 'api:1' },
      ),
    );
    const { kernel, events } = await startKernel(w, [f]);
    const o = await settled(w.clock, await kernel.submit({ key: 'k', flow: 'f' }));
    expect(o.value).toEqual({ id: 'ok' });
    expect(emits).toEqual([
      [0, 1],
      [2_000, 2],
      [6_000, 3],
      [14_000, 4],
      [30_000, 5],
    ]);
    expect(events('effect:failed').map((e) => e.event.retryAt)).toEqual([2_000, 6_000, 14_000, 30_000]);
    expect(await w.store.listEffects()).toMatchObject([{ key: 'api:1', status: 'delivered', attempts: 5, artifact: { id: 'ok' } }]);
    await kernel.stop();
  });

  it('the emit backoff is capped at one hour (attempt 12 on)', async () => {
    const w = world(0);
    const emits: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.effect('call-api', (e) => {
        emits.push(w.clock.now());
        if (e.attempt < 14) throw new Error('still down');
        return 'up';
      }),
    );
    const { kernel } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = outcome(h);
    await until(w.clock, () => o.done, { maxMs: 4 * 3_600_000, stepMs: 60_000 });
    expect(o.value).toBe('up');
    const gaps = emits.slice(1).map((t, i) => (t - emits[i]!) / 1_000);
    expect(gaps).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 2_048, 3_600, 3_600]);
    await kernel.stop();
  });

  it('a TerminalError from the emit fails the run with its code and the effect stays failed', async () => {
    const w = world(0);
    let calls = 0;
    const f = defineFlow('f', async (ctx) =>
      ctx.effect('post', () => {
        calls++;
        throw new TerminalError('thread is locked', 'thread_locked');
      }),
    );
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    const o = await settled(w.clock, h);
    expect(o.error).toMatchObject({ code: 'thread_locked', status: 'failed' });
    await w.clock.advance(3_600_000);
    expect(calls).toBe(1);
    expect(await w.store.listEffects()).toMatchObject([
      { key: `${h.id}/0/post`, status: 'failed', nextAttemptAt: null, error: { code: 'thread_locked' } },
    ]);
    expect(events('effect:failed').map((e) => e.event.retryAt)).toEqual([null]);
    await kernel.stop();
  });

  it('the effect fn gets { idempotencyKey, fencingToken, attempt, origins, signal }', async () => {
    const w = world(0);
    const seen: { call: EffectCall; token: FencingToken }[] = [];
    const f = defineFlow('f', async (ctx) => {
      await ctx.step('first', () => 1);
      const keyed = await ctx.effect('a', (e) => (seen.push({ call: e, token: ctx.fencingToken }), 'A'), { key: 'ext:a', origins: ['o1'] });
      const unkeyed = await ctx.effect('b', (e) => (seen.push({ call: e, token: ctx.fencingToken }), 'B'));
      return [keyed ?? null, unkeyed] satisfies Json;
    });
    const { kernel, events } = await startKernel(w, [f]);
    const h = await kernel.submit({ key: 'k', flow: 'f' });
    expect((await settled(w.clock, h)).value).toEqual(['A', 'B']);
    const epoch = events('run:started')[0]!.event.epoch;
    expect(seen.map(({ call }) => [call.idempotencyKey, call.attempt, call.origins, call.fencingToken])).toEqual([
      ['ext:a', 1, ['o1'], { key: 'k', epoch }],
      [`${h.id}/2/b`, 1, [], { key: 'k', epoch }],
    ]);
    for (const { call, token } of seen) {
      expect(call.signal).toBeInstanceOf(AbortSignal);
      expect(call.signal.aborted).toBe(false);
      expect(call.fencingToken).toEqual(token);
    }
    await kernel.stop();
  });

  it('a run that crashes while its emit is in flight re-emits with the same idempotency key after restart', async () => {
    const w = world(0);
    const received: { key: string; attempt: number }[] = [];
    const posted = new Map<string, string>(); // a receiver that dedupes on the idempotency key
    let stuck = true;
    const f = defineFlow('f', async (ctx) =>
      ctx.effect('post', async (e) => {
        received.push({ key: e.idempotencyKey, attempt: e.attempt });
        if (!posted.has(e.idempotencyKey)) posted.set(e.idempotencyKey, `comment-${posted.size + 1}`);
        if (stuck) await never(); // the reply is lost with the process
        return posted.get(e.idempotencyKey)!;
      }),
    );
    const first = await startKernel(w, [f], { interruptGraceMs: 100 });
    const h = await first.kernel.submit<null, string>({ key: 'k', flow: 'f' });
    await first.kernel.once('effect:claimed');
    await stopKernel(w, first.kernel);
    expect(first.events('step:abandoned').map((e) => e.event.name)).toEqual(['effect:post']);
    expect(await w.store.listEffects()).toMatchObject([{ status: 'claimed', attempts: 1 }]);
    expect((await w.store.getRun(h.id))?.status).toBe('queued');
    stuck = false;
    const second = await startKernel(w, [f]);
    const o = await settled(w.clock, second.kernel.handle<string>(h.id));
    expect(o.value).toBe('comment-1');
    expect(received).toEqual([
      { key: `${h.id}/0/post`, attempt: 1 },
      { key: `${h.id}/0/post`, attempt: 2 },
    ]);
    expect(posted.size).toBe(1);
    expect(await w.store.listEffects()).toMatchObject([{ status: 'delivered', attempts: 2, artifact: 'comment-1' }]);
    await second.kernel.stop();
  });

  it('two runs with the same effect key: the second waits (busy) and gets the first artifact without emitting', async () => {
    const w = world(0);
    const emitting = deferred<string>();
    const emitters: string[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.effect(
        'post',
        () => {
          emitters.push(ctx.runId);
          return emitting.promise;
        },
        { key: 'reply:thread-7' },
      ),
    );
    const { kernel, events } = await startKernel(w, [f]);
    const a = await kernel.submit<null, string>({ key: 'k1', flow: 'f' });
    await kernel.once('effect:claimed', (e) => e.runId === a.id);
    const b = await kernel.submit<null, string>({ key: 'k2', flow: 'f' });
    await kernel.once('run:waiting', (e) => e.runId === b.id);
    expect((await w.store.getRun(b.id))?.wait).toMatchObject({ kind: 'effect', detail: { effectKey: 'reply:thread-7', holder: a.id } });
    await w.clock.advance(3_500); // b looks again every second and still finds it busy
    emitting.resolve('comment-77');
    const [oa, ob] = [outcome(a), outcome(b)];
    await until(w.clock, () => oa.done && ob.done);
    expect([oa.value, ob.value]).toEqual(['comment-77', 'comment-77']);
    expect(emitters).toEqual([a.id]);
    expect(events('effect:claimed').map((e) => e.event.runId)).toEqual([a.id]);
    expect((await w.store.getSteps(b.id)).map((s) => s.result)).toEqual([{ artifact: 'comment-77' }]);
    await kernel.stop();
  });

  it('a claim left by a run that ended (deadline) does not block the key: the next run re-emits with the same key', async () => {
    const w = world(0);
    const emits: string[] = [];
    const f = defineFlow('f', async (ctx, input: { hang: boolean }) =>
      ctx.effect(
        'post',
        async (e) => {
          emits.push(`${ctx.key}#${e.attempt}:${e.idempotencyKey}`);
          if (input.hang) await never();
          return 'posted';
        },
        { key: 'reply:thread-3' },
      ),
    );
    const { kernel } = await startKernel(w, [f], { interruptGraceMs: 100 });
    const a = await kernel.submit({ key: 'a', flow: 'f', input: { hang: true }, deadlineMs: 5_000 });
    expect((await settled(w.clock, a)).error).toMatchObject({ code: 'deadline' });
    const b = await kernel.submit<{ hang: boolean }, string>({ key: 'b', flow: 'f', input: { hang: false } });
    const ob = outcome(b);
    // Today b finds the key "busy" (held by the ended run a) and looks again every second, forever.
    await until(w.clock, () => ob.done, { maxMs: 30_000 }).catch(() => undefined);
    expect({ done: ob.done, value: ob.value }).toEqual({ done: true, value: 'posted' });
    expect(emits).toEqual(['a#1:reply:thread-3', 'b#2:reply:thread-3']);
    await kernel.stop();
  });

  it('a new kernel taking over during an emit backoff keeps the original retry time', async () => {
    const w = world(1_000);
    const emits: number[] = [];
    const f = defineFlow('f', async (ctx) =>
      ctx.effect('post', (e) => {
        emits.push(w.clock.now());
        if (e.attempt < 3) throw new Error('forge down');
        return 'ok';
      }),
    );
    const first = await startKernel(w, [f]);
    const h = await first.kernel.submit<null, string>({ key: 'k', flow: 'f' });
    await until(w.clock, () => emits.length === 2); // failed at 1 s and 3 s; next try due at 7 s
    await stopKernel(w, first.kernel);
    await w.clock.advanceTo(5_000);
    const second = await startKernel(w, [f]);
    expect((await settled(w.clock, second.kernel.handle<string>(h.id))).value).toBe('ok');
    expect(emits).toEqual([1_000, 3_000, 7_000]);
    await second.kernel.stop();
  });
});
