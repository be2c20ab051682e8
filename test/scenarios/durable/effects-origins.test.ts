/** D3: the Kennel owed-reply contract — origins covered by one reply, released by a failed emit. */
import { describe, expect, it } from 'vitest';
import { defineFlow } from 'holdfast';
import { deferred, outcome, settled, startKernel, until, world } from './harness.js';

interface ReplyInput {
  readonly comments: string[];
}

describe('effects: owed replies (Kennel)', () => {
  it('an origin covered by an in-progress reply is refused: fn is not called, the effect returns undefined', async () => {
    const w = world(0);
    const posting = deferred<string>();
    const emits: { run: string; origins: readonly string[] }[] = [];
    const reply = defineFlow('reply', async (ctx, input: ReplyInput) => {
      const posted = await ctx.effect(
        'post-reply',
        async (e) => {
          emits.push({ run: ctx.runId, origins: e.origins });
          return e.origins.includes('c1') ? posting.promise : `reply-to-${e.origins.join('+')}`;
        },
        { origins: input.comments },
      );
      return posted ?? 'nothing owed';
    });
    const { kernel, events } = await startKernel(w, [reply]);
    // Two deliveries of one thread, on keys of their own so both can be in flight at once.
    const r1 = await kernel.submit<ReplyInput, string>({ key: 'delivery-1', flow: 'reply', input: { comments: ['c1', 'c2'] } });
    await kernel.once('effect:claimed', (e) => e.runId === r1.id);
    const r2 = await kernel.submit<ReplyInput, string>({ key: 'delivery-2', flow: 'reply', input: { comments: ['c2'] } });
    const o2 = await settled(w.clock, r2);
    expect(o2.value).toBe('nothing owed');
    const r3 = await kernel.submit<ReplyInput, string>({ key: 'delivery-3', flow: 'reply', input: { comments: ['c2', 'c3'] } });
    const o3 = await settled(w.clock, r3);
    expect(o3.value).toBe('reply-to-c3');
    expect(emits).toEqual([
      { run: r1.id, origins: ['c1', 'c2'] },
      { run: r3.id, origins: ['c3'] },
    ]);
    const r2Steps = await w.store.getSteps(r2.id);
    expect(r2Steps.map((s) => [s.name, s.result])).toEqual([['effect:post-reply', { coveredBy: [`${r1.id}/0/post-reply`] }]]);
    posting.resolve('comment-901');
    const o1 = await settled(w.clock, r1);
    expect(o1.value).toBe('comment-901');
    expect((await w.store.listEffects()).map((e) => [e.key, e.status, e.origins, e.artifact])).toEqual([
      [`${r1.id}/0/post-reply`, 'delivered', ['c1', 'c2'], 'comment-901'],
      [`${r3.id}/0/post-reply`, 'delivered', ['c3'], 'reply-to-c3'],
    ]);
    expect(events('effect:delivered').map((e) => e.event.runId)).toEqual([r3.id, r1.id]);
    await kernel.stop();
  });

  it('recording a posted reply twice keeps the first artifact (store transaction)', async () => {
    const w = world(0);
    const { store } = w;
    await store.enqueue({
      id: 'run-1',
      key: 'k',
      flow: 'reply',
      input: null,
      idempotencyKey: 'd-1',
      priority: 'normal',
      preempt: null,
      now: 0,
    });
    const lease = await store.acquireOwner({ key: 'k', ownerId: 'host/1/test', now: 0, ttlMs: 60_000, channel: null });
    const fence = { key: 'k', ownerId: 'host/1/test', epoch: lease!.epoch };
    const claimed = await store.claimNext({ ...fence, now: 0 });
    expect(claimed.claimed?.run.id).toBe('run-1');
    const claim = await store.claimEffect({
      ...fence,
      runId: 'run-1',
      seq: 0,
      name: 'post',
      effectKey: 'reply:1',
      origins: ['c1'],
      now: 1,
    });
    expect(claim).toEqual({ state: 'claimed', attempt: 1, origins: ['c1'] });
    const first = await store.recordEffect({
      ...fence,
      runId: 'run-1',
      seq: 0,
      name: 'post',
      effectKey: 'reply:1',
      artifact: 'comment-1',
      now: 2,
    });
    const again = await store.recordEffect({
      ...fence,
      runId: 'run-1',
      seq: 0,
      name: 'post',
      effectKey: 'reply:1',
      artifact: 'comment-2',
      now: 3,
    });
    expect([first, again]).toEqual(['comment-1', 'comment-1']);
    const [effect] = await store.listEffects();
    expect(effect).toMatchObject({ key: 'reply:1', status: 'delivered', artifact: 'comment-1', deliveredAt: 2, attempts: 1 });
    expect((await store.getSteps('run-1')).map((s) => s.result)).toEqual([{ artifact: 'comment-1' }]);
  });

  it('a failed emit releases its origin: another run claims it, and the failed run then finds it covered', async () => {
    const w = world(0);
    const emits: string[] = [];
    const reply = defineFlow('reply', async (ctx, input: ReplyInput & { fail: boolean }) => {
      const posted = await ctx.effect(
        'post',
        (e) => {
          emits.push(`${ctx.key}:${e.origins.join('+')}@${w.clock.now()}`);
          if (input.fail) throw new Error('502 from the forge');
          return `posted-by-${ctx.key}`;
        },
        { origins: input.comments },
      );
      return posted ?? 'covered';
    });
    const { kernel, events } = await startKernel(w, [reply]);
    const r1 = await kernel.submit<unknown, string>({ key: 'd1', flow: 'reply', input: { comments: ['c1'], fail: true } });
    await kernel.once('effect:failed', (e) => e.runId === r1.id);
    const failed = (await w.store.listEffects())[0];
    expect(failed).toMatchObject({ status: 'failed', nextAttemptAt: 2_000, error: { code: 'effect_failed' } });
    const r2 = await kernel.submit<unknown, string>({ key: 'd2', flow: 'reply', input: { comments: ['c1'], fail: false } });
    const [o1, o2] = [outcome(r1), outcome(r2)];
    await until(w.clock, () => o1.done && o2.done);
    expect(o2.value).toBe('posted-by-d2');
    expect(o1.value).toBe('covered');
    expect(emits).toEqual(['d1:c1@0', 'd2:c1@0']);
    expect(events('effect:failed').map((e) => [e.event.runId, e.event.attempt, e.event.retryAt])).toEqual([[r1.id, 1, 2_000]]);
    expect(events('run:waiting').map((e) => [e.event.runId, e.event.kind, e.event.wakeAt])).toEqual([[r1.id, 'effect', 2_000]]);
    await kernel.stop();
  });

  it('an emit that fails because its run was cancelled releases its origins: a later delivery answers them', async () => {
    const w = world(0);
    const emits: string[] = [];
    const reply = defineFlow('reply', async (ctx, input: ReplyInput) => {
      const posted = await ctx.effect(
        'post',
        (e) => {
          emits.push(`${ctx.key}:${e.origins.join('+')}`);
          if (ctx.key === 'd1') {
            // The forge call is cut off by the run's signal: the emit fails, nothing was posted.
            return new Promise<never>((_, reject) => e.signal.addEventListener('abort', () => reject(e.signal.reason as Error)));
          }
          return `posted-by-${ctx.key}`;
        },
        { origins: input.comments },
      );
      return posted ?? 'covered';
    });
    const { kernel } = await startKernel(w, [reply]);
    const r1 = await kernel.submit<ReplyInput, string>({ key: 'd1', flow: 'reply', input: { comments: ['c1'] } });
    await kernel.once('effect:claimed', (e) => e.runId === r1.id);
    await kernel.cancel(r1.id, { mode: 'abort-drop' });
    expect((await settled(w.clock, r1)).error).toMatchObject({ status: 'cancelled' });
    // c1 is still owed: nobody recorded a reply to it.
    const r2 = await kernel.submit<ReplyInput, string>({ key: 'd2', flow: 'reply', input: { comments: ['c1'] } });
    const o2 = await settled(w.clock, r2);
    expect(emits).toEqual(['d1:c1', 'd2:c1']);
    expect(o2.value).toBe('posted-by-d2');
    expect((await w.store.listEffects({ status: ['delivered'] })).flatMap((e) => e.origins)).toEqual(['c1']);
    await kernel.stop();
  });
});
