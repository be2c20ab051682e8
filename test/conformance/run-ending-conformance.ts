import { describe, expect, it } from 'vitest';
import { HoldfastError, StaleEpochError } from '../../src/errors.js';
import type { Fence, Store } from '../../src/ports/store.js';
import { claimed, command, own } from './store-fixtures.js';

/**
 * Conformance of what ending a run lets go of, and of the deadlines of runs that wait their turn
 * (D3, D8): effects a run held when it ended, overdue queued and waiting runs (expireOverdue), and
 * an operator's retry of a run (fresh deadline and retry budget; a compacted run is refused). Run
 * by runDurableConformance.
 */
export function runRunEndingConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  const running = async (store: Store, id: string, key: string): Promise<Fence> => {
    await store.enqueue(command({ id, key }));
    const fence = await own(store, key);
    await claimed(store, fence, 1000, id);
    return fence;
  };
  const claimOf = (f: Fence, runId: string, effectKey: string, origins: string[], now: number) => ({
    ...f,
    runId,
    seq: 0,
    name: 'reply',
    effectKey,
    origins,
    now,
  });

  describe(`Run ending conformance: ${name}`, () => {
    it('a run that ends while holding a claimed effect lets it go: failed run_ended, origins free, the next claim is attempt 2', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      await store.claimEffect(claimOf(fa, 'a', 'reply:1', ['comment:1'], 1100));
      await store.finishRun({ ...fa, runId: 'a', status: 'cancelled', error: { code: 'cancelled', message: 'x' }, now: 1200 });
      const [effect] = await store.listEffects();
      expect(effect).toMatchObject({ key: 'reply:1', status: 'failed', nextAttemptAt: null, error: { code: 'run_ended' } });
      expect(effect!.error!.message).toContain('run a ended cancelled');
      const fb = await running(store, 'b', 'repo:b');
      // Another effect may now claim the origin the ended run covered...
      expect(await store.claimEffect(claimOf(fb, 'b', 'reply:other', ['comment:1'], 1300))).toMatchObject({ state: 'claimed' });
      // ...and the released key itself is claimable at once, with the same key and one more attempt.
      const fc = await running(store, 'c', 'repo:c');
      expect(await store.claimEffect(claimOf(fc, 'c', 'reply:1', [], 1400))).toEqual({ state: 'claimed', attempt: 2, origins: [] });
      await store.close();
    });

    it('a run that ends during an effect backoff loses the backoff; a delivered or terminally failed effect is untouched', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      await store.claimEffect(claimOf(fa, 'a', 'backoff', [], 1100));
      await store.failEffect({ ...fa, runId: 'a', effectKey: 'backoff', error: { code: 'flaky', message: 'm' }, now: 1100, retryAt: 9000 });
      const fb = await running(store, 'b', 'repo:b');
      await store.claimEffect(claimOf(fb, 'b', 'done', [], 1100));
      await store.recordEffect({ ...fb, runId: 'b', seq: 0, name: 'reply', effectKey: 'done', artifact: 1, now: 1150 });
      await store.claimEffect({ ...claimOf(fb, 'b', 'terminal', [], 1160), seq: 1 });
      const terminal = { code: 'bad', message: 'no' };
      await store.failEffect({ ...fb, runId: 'b', effectKey: 'terminal', error: terminal, now: 1170, retryAt: null });
      await store.requestCancel({ runId: 'a', mode: 'abort-drop', now: 1200 });
      await claimedNothing(store, fa, 1300); // the claim drops the waiting run
      await store.finishRun({ ...fb, runId: 'b', status: 'failed', error: terminal, now: 1300 });
      const byKey = Object.fromEntries((await store.listEffects()).map((e) => [e.key, e]));
      expect(byKey['backoff']).toMatchObject({ status: 'failed', nextAttemptAt: null, error: { code: 'flaky' } });
      expect(byKey['done']).toMatchObject({ status: 'delivered', artifact: 1 });
      expect(byKey['terminal']).toMatchObject({ status: 'failed', nextAttemptAt: null, error: terminal });
      await store.close();
    });

    it('expireOverdue fails the queued and waiting runs of the key past their deadline, never the running one', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'sleeper', deadlineAt: 3500 }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'sleeper');
      await store.suspendRun({ ...fence, runId: 'sleeper', now: 1000, wait: { kind: 'timer', wakeAt: 10_000, detail: null } });
      await store.enqueue(command({ id: 'busy', deadlineAt: 2000 }));
      await store.enqueue(command({ id: 'late', deadlineAt: 3000 }));
      await store.enqueue(command({ id: 'on-time', deadlineAt: 9000 }));
      await store.enqueue(command({ id: 'other-key', key: 'repo:b', deadlineAt: 3000 }));
      await claimed(store, fence, 1000, 'busy');
      expect((await store.keysWithWork({ limit: 10, now: 2999 })).find((k) => k.key === 'repo:a')?.overdue).toBe(false);
      expect((await store.keysWithWork({ limit: 10, now: 3000 })).find((k) => k.key === 'repo:a')?.overdue).toBe(true);
      expect(await store.expireOverdue({ ...fence, now: 2999 })).toEqual([]);
      const expired = await store.expireOverdue({ ...fence, now: 4000 });
      expect(expired.map((e) => [e.run.id, e.run.status, e.run.error?.code])).toEqual([
        ['sleeper', 'failed', 'deadline'],
        ['late', 'failed', 'deadline'],
      ]);
      expect(expired[0]!.run.error!.message).toContain('passed its deadline');
      expect((await store.getRun('busy'))?.status).toBe('running'); // its own timer ends it, not this
      expect((await store.getRun('on-time'))?.status).toBe('queued');
      expect((await store.getRun('other-key'))?.status).toBe('queued');
      expect((await store.keysWithWork({ limit: 10, now: 4000 })).find((k) => k.key === 'repo:a')?.overdue).toBe(false);
      await store.close();
    });

    it('expireOverdue is fenced, and ends runs like finishRun: the parent woken, the children asked to drop', async () => {
      const store = await makeStore();
      const fp = await running(store, 'parent', 'repo:p');
      await store.spawnChild({
        ...fp,
        runId: 'parent',
        seq: 0,
        name: 'spawn:g',
        child: command({ id: 'child', key: 'repo:c', idempotencyKey: 'parent/spawn/0', deadlineAt: 2000 }),
      });
      await store.suspendRun({ ...fp, runId: 'parent', now: 1000, wait: { kind: 'child', wakeAt: null, onRun: 'child', detail: null } });
      await store.enqueue(command({ id: 'busy', key: 'repo:c' }));
      const fc = await own(store, 'repo:c');
      await expect(store.expireOverdue({ ...fc, epoch: fc.epoch - 1, now: 3000 })).rejects.toBeInstanceOf(StaleEpochError);
      expect((await store.getRun('child'))?.status).toBe('queued');
      const [ended] = await store.expireOverdue({ ...fc, now: 3000 });
      expect(ended!.run).toMatchObject({ id: 'child', status: 'failed', error: { code: 'deadline' } });
      expect(ended!.wake).toEqual([{ key: 'repo:p' }]);
      expect((await store.getRun('parent'))?.wait?.wakeAt).toBe(3000);
      await store.close();
    });

    it("retry gives a run a fresh deadline and retry budget; a compacted run's journal is gone, so it is refused", async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r', deadlineAt: 5000 }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'r');
      const failure = { seq: 0, attempt: 1, name: 'flaky', error: { code: 'x', message: 'y' }, failedAt: 1000, retryAt: 1100 };
      await store.suspendRun({ ...fence, runId: 'r', now: 1000, failure, wait: { kind: 'retry', wakeAt: 1100, detail: null } });
      await claimed(store, fence, 1100, 'r');
      await store.finishRun({ ...fence, runId: 'r', status: 'failed', error: { code: 'x', message: 'y' }, now: 1200 });
      expect(await store.reopenRun({ runId: 'r', now: 1300 })).toMatchObject({ status: 'queued', deadlineAt: null });
      expect(await store.getRun('r')).toMatchObject({ status: 'queued', deadlineAt: null });
      expect(await store.getStepAttempts('r')).toEqual([]);
      await claimed(store, fence, 1400, 'r');
      await store.finishRun({ ...fence, runId: 'r', status: 'failed', error: { code: 'x', message: 'y' }, now: 1500 });
      await store.compactRuns({ finishedBefore: 2000, limit: 10 });
      const refused = await store.reopenRun({ runId: 'r', now: 2100 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(HoldfastError);
      expect(refused).toMatchObject({ code: 'run_not_retryable' });
      expect((refused as Error).message).toContain('compacted');
      expect(await store.getRun('r')).toMatchObject({ status: 'failed', compacted: true });
      expect(await store.operatorActions('r')).toHaveLength(1);
      await store.close();
    });
  });
}

async function claimedNothing(store: Store, fence: Fence, now: number): Promise<void> {
  const outcome = await store.claimNext({ ...fence, now });
  expect(outcome.claimed).toBeUndefined();
}
