import { describe, expect, it } from 'vitest';
import { HoldfastError, StaleEpochError } from '../../src/errors.js';
import type { Store } from '../../src/ports/store.js';
import { claim, command, own } from './store-fixtures.js';

/**
 * The one behaviour suite every Store implementation must pass. The memory store is the
 * executable specification; SQLite (and later Postgres) must agree with it.
 */
export function runStoreConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Store conformance: ${name}`, () => {
    it('enqueue is idempotent on the idempotence key, forever', async () => {
      const store = await makeStore();
      const first = await store.enqueue(command({ id: 'r1', idempotencyKey: 'delivery-1' }));
      expect(first.created).toBe(true);
      const fence = await own(store);
      await claim(store, { ...fence, now: 1001 });
      await store.finishRun({ ...fence, runId: 'r1', status: 'completed', result: 'ok', now: 1002 });
      const again = await store.enqueue(command({ id: 'r2', idempotencyKey: 'delivery-1', input: { other: true } }));
      expect(again.created).toBe(false);
      expect(again.run.id).toBe('r1');
      expect(again.run.status).toBe('completed');
      expect(await store.getRun('r2')).toBeUndefined();
      await store.close();
    });

    it('claims in mailbox order: running first, then urgent > normal > background, FIFO within', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'bg', priority: 'background' }));
      await store.enqueue(command({ id: 'n1' }));
      await store.enqueue(command({ id: 'u1', priority: 'urgent', preempt: 'steal' }));
      await store.enqueue(command({ id: 'n2' }));
      await store.enqueue(command({ id: 'u2', priority: 'urgent', preempt: 'abort-keep' }));
      await store.enqueue(command({ id: 'other-key', key: 'repo:b', priority: 'urgent' }));
      const fence = await own(store);
      const order: string[] = [];
      for (;;) {
        const claimed = await claim(store, { ...fence, now: 2000 });
        if (!claimed) break;
        order.push(claimed.run.id);
        expect(claimed.run.status).toBe('running');
        expect(claimed.run.attempts).toBe(1);
        await store.finishRun({ ...fence, runId: claimed.run.id, status: 'completed', now: 2001 });
      }
      expect(order).toEqual(['u1', 'u2', 'n1', 'n2', 'bg']);
      await store.close();
    });

    it('a run left running is claimed again first, with its committed steps and one more attempt', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'a' }));
      await store.enqueue(command({ id: 'b', priority: 'urgent' }));
      const f1 = await own(store, 'repo:a', 'o1', 1000);
      const first = await claim(store, { ...f1, now: 1000 });
      expect(first?.run.id).toBe('b');
      await store.commitStep({ ...f1, runId: 'b', seq: 0, name: 's0', result: { x: 1 }, now: 1001 });
      // Owner o1 dies; o2 takes over after expiry and must resume b, not start a.
      const lease2 = await store.acquireOwner({ key: 'repo:a', ownerId: 'o2', now: 1000 + 20_000, ttlMs: 10_000, channel: null });
      expect(lease2?.epoch).toBe(f1.epoch + 1);
      const f2 = { key: 'repo:a', ownerId: 'o2', epoch: lease2!.epoch };
      const again = await claim(store, { ...f2, now: 21_000 });
      expect(again?.run.id).toBe('b');
      expect(again?.run.attempts).toBe(2);
      expect(again?.steps.map((s) => [s.seq, s.name, s.result])).toEqual([[0, 's0', { x: 1 }]]);
      await store.close();
    });

    it('rejects a write with a superseded epoch, writing nothing', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const old = await own(store, 'repo:a', 'o1', 1000);
      await claim(store, { ...old, now: 1000 });
      const taken = await store.acquireOwner({ key: 'repo:a', ownerId: 'o2', now: 50_000, ttlMs: 10_000, channel: null });
      expect(taken?.epoch).toBe(old.epoch + 1);
      await expect(store.commitStep({ ...old, runId: 'r', seq: 0, name: 's', result: 1, now: 50_001 })).rejects.toBeInstanceOf(
        StaleEpochError,
      );
      await expect(store.finishRun({ ...old, runId: 'r', status: 'completed', now: 50_001 })).rejects.toMatchObject({
        code: 'stale_epoch',
      });
      await expect(store.claimNext({ ...old, now: 50_001 })).rejects.toBeInstanceOf(StaleEpochError);
      expect(await store.getSteps('r')).toEqual([]);
      expect((await store.getRun('r'))?.status).toBe('running');
      // The same epoch with another owner id is rejected too.
      await expect(
        store.commitStep({ key: 'repo:a', ownerId: 'intruder', epoch: taken!.epoch, runId: 'r', seq: 0, name: 's', result: 1, now: 1 }),
      ).rejects.toBeInstanceOf(StaleEpochError);
      await store.close();
    });

    it('owner leases: a live lease blocks others, expiry or a proven-dead holder allows take-over with epoch + 1', async () => {
      const store = await makeStore();
      const a = await store.acquireOwner({ key: 'k', ownerId: 'a', now: 0, ttlMs: 100, channel: null });
      expect(a?.epoch).toBe(1);
      expect(await store.acquireOwner({ key: 'k', ownerId: 'b', now: 50, ttlMs: 100, channel: null })).toBeUndefined();
      const renewedSelf = await store.acquireOwner({ key: 'k', ownerId: 'a', now: 60, ttlMs: 100, channel: 'sock' });
      expect(renewedSelf).toMatchObject({ epoch: 2, expiresAt: 160, channel: 'sock' }); // every acquisition bumps the epoch
      expect(
        await store.acquireOwner({ key: 'k', ownerId: 'b', now: 70, ttlMs: 100, channel: null, takeOverFrom: 'someone-else' }),
      ).toBeUndefined();
      const dead = await store.acquireOwner({ key: 'k', ownerId: 'b', now: 70, ttlMs: 100, channel: null, takeOverFrom: 'a' });
      expect(dead?.epoch).toBe(3);
      const renewal = await store.renewOwners({ ownerId: 'a', leases: [{ key: 'k', epoch: 2 }], now: 80, ttlMs: 100 });
      expect(renewal).toEqual({ renewed: [], lost: ['k'] });
      const c = await store.acquireOwner({ key: 'k', ownerId: 'c', now: 171, ttlMs: 100, channel: null });
      expect(c?.epoch).toBe(4);
      await store.close();
    });

    it('release keeps the epoch and, with ifIdle, refuses while work is pending', async () => {
      const store = await makeStore();
      const fence = await own(store, 'k');
      await store.enqueue(command({ id: 'p', key: 'k' }));
      expect(await store.releaseOwner({ ...fence, ifIdle: true })).toBe(false);
      expect((await store.getOwner('k'))?.ownerId).toBe('o1');
      const claimed = await claim(store, { ...fence, now: 1 });
      await store.finishRun({ ...fence, runId: claimed!.run.id, status: 'completed', now: 2 });
      expect(await store.releaseOwner({ ...fence, ifIdle: true })).toBe(true);
      expect(await store.getOwner('k')).toMatchObject({ ownerId: null, epoch: fence.epoch });
      const next = await store.acquireOwner({ key: 'k', ownerId: 'o1', now: 3, ttlMs: 10, channel: null });
      expect(next?.epoch).toBe(fence.epoch + 1);
      await store.close();
    });

    it('keysWithWork lists pending keys with their owner and best priority, in key order, page by page', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'x1', key: 'x' }));
      await store.enqueue(command({ id: 'y1', key: 'y', priority: 'urgent' }));
      await store.enqueue(command({ id: 'y2', key: 'y', priority: 'background' }));
      await store.enqueue(command({ id: 'w1', key: 'w', priority: 'background' }));
      await store.enqueue(command({ id: 'z1', key: 'z' }));
      await own(store, 'x');
      const work = await store.keysWithWork({ limit: 10, now: 1000 });
      expect(work.map((w) => [w.key, w.topPriority, w.owner?.ownerId ?? null])).toEqual([
        ['w', 'background', null],
        ['x', 'normal', 'o1'],
        ['y', 'urgent', null],
        ['z', 'normal', null],
      ]);
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.keysWithWork({ after, limit: 3, now: 1000 });
        pages.push(page.map((w) => w.key));
        if (page.length < 3) break;
        after = page.at(-1)!.key;
      }
      expect(pages).toEqual([['w', 'x', 'y'], ['z']]);
      await store.close();
    });

    it('a step cannot be committed twice, nor for a run that is not running', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      await expect(store.commitStep({ ...fence, runId: 'r', seq: 0, name: 's', result: 1, now: 1 })).rejects.toMatchObject({
        code: 'run_not_running',
      });
      await claim(store, { ...fence, now: 1 });
      await store.commitStep({ ...fence, runId: 'r', seq: 0, name: 's', result: 1, now: 1 });
      // The same commit repeated (its reply was lost) gets the journaled record back, unchanged.
      expect(await store.commitStep({ ...fence, runId: 'r', seq: 0, name: 's', result: 2, now: 9 })).toMatchObject({
        seq: 0,
        name: 's',
        result: 1,
      });
      const dup = store.commitStep({ ...fence, runId: 'r', seq: 0, name: 'other', result: 2, now: 1 });
      await expect(dup).rejects.toBeInstanceOf(HoldfastError);
      await expect(dup).rejects.toMatchObject({ code: 'step_already_committed' });
      expect((await store.getSteps('r')).map((s) => s.result)).toEqual([1]);
      await store.finishRun({ ...fence, runId: 'r', status: 'failed', error: { code: 'boom', message: 'it broke' }, now: 2 });
      await expect(store.finishRun({ ...fence, runId: 'r', status: 'completed', now: 3 })).rejects.toMatchObject({
        code: 'run_already_finished',
      });
      expect(await store.getRun('r')).toMatchObject({ status: 'failed', error: { code: 'boom', message: 'it broke' }, finishedAt: 2 });
      await store.close();
    });

    it('requeue puts a running run back, keeping its steps', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      await claim(store, { ...fence, now: 1 });
      await store.commitStep({ ...fence, runId: 'r', seq: 0, name: 's', result: 'kept', now: 1 });
      await store.requeueRun({ ...fence, runId: 'r' });
      expect((await store.getRun('r'))?.status).toBe('queued');
      const again = await claim(store, { ...fence, now: 2 });
      expect(again?.steps.map((s) => s.result)).toEqual(['kept']);
      await store.close();
    });

    it('park: the frame is kept, the urgent burst goes first, the parked run before older normal work', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'older-normal' }));
      await store.enqueue(command({ id: 'worker', priority: 'background' }));
      const fence = await own(store);
      // Claim the background worker by finishing the older normal run first.
      const first = await claim(store, { ...fence, now: 1 });
      expect(first?.run.id).toBe('older-normal');
      await store.requeueRun({ ...fence, runId: 'older-normal' });
      await store.enqueue(command({ id: 'later-normal' }));
      // Pretend the worker is active and gets stolen by two urgent commands.
      const worker = (await store.listRuns({})).find((r) => r.id === 'worker')!;
      expect(worker.status).toBe('queued');
      await store.finishRun({ ...fence, runId: 'older-normal', status: 'completed', now: 2 }).catch(() => undefined);
      const claimedWorker = await claim(store, { ...fence, now: 3 });
      expect(claimedWorker?.run.id).toBe('later-normal');
      await store.finishRun({ ...fence, runId: 'later-normal', status: 'completed', now: 3 });
      const w = await claim(store, { ...fence, now: 4 });
      expect(w?.run.id).toBe('worker');
      await store.commitStep({ ...fence, runId: 'worker', seq: 0, name: 'plan', result: 'p', now: 4 });
      await store.enqueue(command({ id: 'u1', priority: 'urgent', preempt: 'steal' }));
      await store.enqueue(command({ id: 'n3' }));
      expect((await store.peekUrgent('repo:a'))?.id).toBe('u1');
      const frame = {
        runId: 'worker',
        key: 'repo:a',
        epoch: fence.epoch,
        turnSeq: 1,
        attempt: 1,
        provider: 'agent',
        input: { prompt: 'x' },
        sessionId: 'sess-1',
        parkedBy: 'u1',
        parkedAt: 5,
      };
      await store.parkRun({ ...fence, frame });
      expect(await store.getRun('worker')).toMatchObject({ status: 'waiting', parked: true, wait: { kind: 'preempted', detail: frame } });
      await store.enqueue(command({ id: 'u2', priority: 'urgent' }));
      const order: string[] = [];
      for (;;) {
        const c = await claim(store, { ...fence, now: 6 });
        if (!c) break;
        order.push(c.run.id);
        if (c.run.id === 'worker') {
          expect(c.frame).toEqual(frame);
          expect(c.steps.map((st) => st.name)).toEqual(['plan']);
          await store.commitStep({ ...fence, runId: 'worker', seq: 1, name: 'turn:agent', result: 'answer', now: 7 });
          expect((await store.getRun('worker'))?.parked).toBe(false);
        }
        await store.finishRun({ ...fence, runId: c.run.id, status: 'completed', now: 8 });
      }
      expect(order).toEqual(['u1', 'u2', 'worker', 'n3']);
      expect(await store.peekUrgent('repo:a')).toBeUndefined();
      await store.close();
    });

    it('parking is fenced and only for a running run; finishing removes the frame', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      const frame = {
        runId: 'r',
        key: 'repo:a',
        epoch: fence.epoch,
        turnSeq: 0,
        attempt: 1,
        provider: null,
        input: null,
        sessionId: null,
        parkedBy: null,
        parkedAt: 1,
      };
      await expect(store.parkRun({ ...fence, frame })).rejects.toMatchObject({ code: 'run_not_running' });
      await claim(store, { ...fence, now: 1 });
      await expect(store.parkRun({ ...fence, epoch: fence.epoch + 1, frame })).rejects.toBeInstanceOf(StaleEpochError);
      await store.parkRun({ ...fence, frame });
      const again = await claim(store, { ...fence, now: 2 });
      expect(again?.frame).toEqual(frame);
      await store.finishRun({ ...fence, runId: 'r', status: 'cancelled', error: { code: 'preempted', message: 'dropped' }, now: 3 });
      expect(await store.getRun('r')).toMatchObject({ status: 'cancelled', parked: false });
      await store.close();
    });

    it('cancel requests: recorded unfenced with the operator action, drop applied by the claim, keep cleared by requeue', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'q1' }));
      await store.enqueue(command({ id: 'q2' }));
      await store.enqueue(command({ id: 'done' }));
      expect(await store.requestCancel({ runId: 'missing', mode: 'abort-drop', now: 4 })).toBeUndefined();
      expect((await store.requestCancel({ runId: 'q2', mode: 'abort-drop', now: 4 }))?.cancelRequested).toBe('abort-drop');
      const fence = await own(store);
      const first = await store.claimNext({ ...fence, now: 5 });
      expect(first.dropped.map((r) => [r.id, r.status, r.error?.code, r.finishedAt])).toEqual([['q2', 'cancelled', 'cancelled', 5]]);
      expect(first.claimed?.run.id).toBe('q1');
      expect((await store.requestCancel({ runId: 'q1', mode: 'abort-keep', now: 6 }))?.cancelRequested).toBe('abort-keep');
      await store.requeueRun({ ...fence, runId: 'q1' });
      expect(await store.getRun('q1')).toMatchObject({ status: 'queued', cancelRequested: null });
      const q1 = await claim(store, { ...fence, now: 7 });
      await store.finishRun({ ...fence, runId: q1!.run.id, status: 'completed', now: 8 });
      expect((await store.requestCancel({ runId: 'q1', mode: 'abort-drop', now: 9 }))?.status).toBe('completed');
      expect((await store.getRun('q1'))?.cancelRequested).toBeNull();
      expect(await store.operatorActions('q2')).toEqual([{ runId: 'q2', action: 'cancel', detail: 'abort-drop', at: 4 }]);
      expect((await store.operatorActions('q1')).map((a) => a.detail)).toEqual(['abort-keep']);
      await store.close();
    });

    it('a run asked to be dropped is never claimed, even when the drop and the claim race (one transaction)', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'left', key: 'k' }));
      await store.enqueue(command({ id: 'next', key: 'k' }));
      const dead = await own(store, 'k', 'dead-owner', 0);
      await claim(store, { ...dead, now: 1 }); // 'left' is left running by an owner that dies
      await store.requestCancel({ runId: 'left', mode: 'abort-drop', now: 2 });
      await store.requestCancel({ runId: 'next', mode: 'abort-drop', now: 2 });
      const heir = await store.acquireOwner({ key: 'k', ownerId: 'heir', now: 60_000, ttlMs: 10_000, channel: null });
      const outcome = await store.claimNext({ key: 'k', ownerId: 'heir', epoch: heir!.epoch, now: 60_001 });
      expect(outcome.claimed).toBeUndefined();
      expect(outcome.dropped.map((r) => [r.id, r.status])).toEqual([
        ['left', 'cancelled'],
        ['next', 'cancelled'],
      ]);
      await store.close();
    });

    it('a requeue keeps an abort-drop request for the next claim, whichever was applied first', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r', key: 'k' }));
      const fence = await own(store, 'k');
      await claim(store, { ...fence, now: 1 });
      await store.requestCancel({ runId: 'r', mode: 'abort-drop', now: 2 });
      await store.requeueRun({ ...fence, runId: 'r' });
      expect(await store.getRun('r')).toMatchObject({ status: 'queued', cancelRequested: 'abort-drop' });
      const next = await store.claimNext({ ...fence, now: 3 });
      expect(next.claimed).toBeUndefined();
      expect(next.dropped.map((r) => [r.id, r.status])).toEqual([['r', 'cancelled']]);
      await store.close();
    });

    it('urgent demand ignores an urgent run an operator asked to drop', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'u1', key: 'k', priority: 'urgent', preempt: 'steal' }));
      await store.enqueue(command({ id: 'u2', key: 'k', priority: 'urgent', preempt: 'steal' }));
      await store.requestCancel({ runId: 'u1', mode: 'abort-drop', now: 1 });
      expect((await store.peekUrgent('k'))?.id).toBe('u2');
      await store.requestCancel({ runId: 'u2', mode: 'abort-drop', now: 1 });
      expect(await store.peekUrgent('k')).toBeUndefined();
      await store.close();
    });

    it('urgentOnly claims only an urgent run; a pending abort-keep is cleared by the claim', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'n', key: 'k' }));
      const fence = await own(store, 'k');
      expect((await store.claimNext({ ...fence, now: 1, urgentOnly: true })).claimed).toBeUndefined();
      await store.enqueue(command({ id: 'u', key: 'k', priority: 'urgent', preempt: 'steal' }));
      await store.requestCancel({ runId: 'u', mode: 'abort-keep', now: 2 });
      const urgent = await store.claimNext({ ...fence, now: 3, urgentOnly: true });
      expect(urgent.claimed?.run).toMatchObject({ id: 'u', status: 'running', cancelRequested: null });
      await store.close();
    });

    it('reopen: a failed or cancelled run is queued again with its journal, recorded; others are refused', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'f', idempotencyKey: 'delivery-f' }));
      await store.enqueue(command({ id: 'ok' }));
      const fence = await own(store);
      await claim(store, { ...fence, now: 1 });
      await store.commitStep({ ...fence, runId: 'f', seq: 0, name: 'kept', result: 'k', now: 2 });
      await store.finishRun({ ...fence, runId: 'f', status: 'failed', error: { code: 'boom', message: 'x' }, now: 3 });
      expect(await store.reopenRun({ runId: 'missing', now: 4 })).toBeUndefined();
      const again = await store.reopenRun({ runId: 'f', now: 4 });
      expect(again).toMatchObject({ id: 'f', status: 'queued', error: undefined, finishedAt: null, attempts: 1 });
      expect(await store.getRun('f')).toMatchObject({ status: 'queued', error: undefined, finishedAt: null });
      await expect(store.reopenRun({ runId: 'f', now: 5 })).rejects.toMatchObject({ code: 'run_not_retryable' });
      const dedup = await store.enqueue(command({ id: 'f2', idempotencyKey: 'delivery-f' }));
      expect([dedup.created, dedup.run.id]).toEqual([false, 'f']);
      const resumed = await claim(store, { ...fence, now: 6 });
      expect([resumed?.run.id, resumed?.run.attempts, resumed?.steps.map((s) => s.name)]).toEqual(['f', 2, ['kept']]);
      await store.finishRun({ ...fence, runId: 'f', status: 'completed', now: 7 });
      await expect(store.reopenRun({ runId: 'f', now: 8 })).rejects.toMatchObject({ code: 'run_not_retryable' });
      expect(await store.operatorActions('f')).toEqual([{ runId: 'f', action: 'retry', detail: 'failed', at: 4 }]);
      await store.close();
    });

    it('round-trips JSON values exactly, including null results and nested input', async () => {
      const store = await makeStore();
      const input = { s: 'é\u0000"', n: -1.5e-7, b: false, nil: null, arr: [1, [2, { deep: 'x' }]] };
      await store.enqueue(command({ id: 'j', input }));
      const fence = await own(store);
      const claimed = await claim(store, { ...fence, now: 1 });
      expect(claimed?.run.input).toEqual(input);
      await store.commitStep({ ...fence, runId: 'j', seq: 0, name: 'null', result: null, now: 1 });
      await store.finishRun({ ...fence, runId: 'j', status: 'completed', result: null, now: 1 });
      expect((await store.getSteps('j'))[0]?.result).toBeNull();
      expect((await store.getRun('j'))?.result).toBeNull();
      expect((await store.listRuns({ key: 'repo:a', status: ['completed'] })).map((r) => r.id)).toEqual(['j']);
      await store.close();
    });
  });
}
