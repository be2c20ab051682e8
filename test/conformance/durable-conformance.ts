import { describe, expect, it } from 'vitest';
import { StaleEpochError } from '../../src/errors.js';
import type { ParkedFrame, RunError } from '../../src/model/index.js';
import type { Fence, Store, SuspendRun } from '../../src/ports/store.js';
import { runOutboxScheduleConformance } from './durable-outbox-conformance.js';
import { runRunEndingConformance } from './run-ending-conformance.js';
import { claim, claimed, command, own, schedule } from './store-fixtures.js';

const FLAKY: RunError = { code: 'flaky', message: 'try again' };

/**
 * Conformance of durable execution (D3-D8): suspension and wake-ups, child runs, failed attempts
 * and nextWakeAt here; the outbox, schedules and retention in durable-outbox-conformance. Every
 * Store must pass it; the memory store is the executable specification and SQLite must agree.
 */
export function runDurableConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  const sleep = (fence: Fence, runId: string, now: number, wakeAt: number): SuspendRun => ({
    ...fence,
    runId,
    now,
    wait: { kind: 'timer', wakeAt, detail: null },
  });
  const spawn = (store: Store, fence: Fence, parent: string, seq: number, id: string, key: string) =>
    store.spawnChild({
      ...fence,
      runId: parent,
      seq,
      name: 'spawn:g',
      child: command({ id, key, idempotencyKey: `${parent}/spawn/${seq}` }),
    });
  const joinChild = (fence: Fence, runId: string, child: string, now: number): SuspendRun => ({
    ...fence,
    runId,
    now,
    wait: { kind: 'child', wakeAt: null, onRun: child, detail: { childId: child } },
  });

  describe(`Durable store conformance: ${name}`, () => {
    it('suspendRun is fenced and only for a running run of the key; a refused suspension writes nothing', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      const request = (f: Fence): SuspendRun => ({
        ...f,
        runId: 'r',
        now: 1500,
        commit: { seq: 0, name: 'sleep', result: { until: 5000 } },
        failure: { seq: 1, name: 'flaky', attempt: 1, error: FLAKY, failedAt: 1500, retryAt: 5000 },
        wait: { kind: 'timer', wakeAt: 5000, detail: null },
      });
      await expect(store.suspendRun(request(fence))).rejects.toMatchObject({ code: 'run_not_running' });
      await claimed(store, fence, 1000, 'r');
      await expect(store.suspendRun(request(await own(store, 'repo:b')))).rejects.toMatchObject({ code: 'run_not_found' });
      const heir = await own(store, 'repo:a', 'o2', 50_000);
      await expect(store.suspendRun(request(fence))).rejects.toBeInstanceOf(StaleEpochError);
      await expect(store.suspendRun(request({ ...heir, ownerId: 'intruder' }))).rejects.toBeInstanceOf(StaleEpochError);
      expect(await store.getSteps('r')).toEqual([]);
      expect(await store.getStepAttempts('r')).toEqual([]);
      expect(await store.getRun('r')).toMatchObject({ status: 'running', wait: null });
      expect(await store.nextWakeAt(0)).toBeUndefined();
      await store.close();
    });

    it('suspendRun commits the entry, records the failed attempt and enters the wait in one transaction', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'r');
      await store.commitStep({ ...fence, runId: 'r', seq: 0, name: 'plan', result: 'p', now: 1100 });
      const failure = { seq: 2, name: 'flaky', attempt: 1, error: FLAKY, failedAt: 1500, retryAt: 5000 };
      const commit = { seq: 1, name: 'sleep', result: { until: 4000 } };
      const wait = { kind: 'retry' as const, wakeAt: 5000, detail: { seq: 2 } };
      const clash = store.suspendRun({ ...fence, runId: 'r', now: 1500, commit: { ...commit, seq: 0 }, failure, wait });
      await expect(clash).rejects.toMatchObject({ code: 'step_already_committed' }); // all or nothing
      expect([await store.getStepAttempts('r'), (await store.getRun('r'))?.status]).toEqual([[], 'running']);
      expect(await store.suspendRun({ ...fence, runId: 'r', now: 1500, commit, failure, wait })).toEqual({ suspended: true });
      expect(await store.getRun('r')).toMatchObject({ status: 'waiting', parked: false, wait: { ...wait, onRun: null, since: 1500 } });
      expect((await store.getSteps('r')).map((s) => [s.seq, s.name, s.result, s.epoch, s.committedAt])).toEqual([
        [0, 'plan', 'p', fence.epoch, 1100],
        [1, 'sleep', { until: 4000 }, fence.epoch, 1500],
      ]);
      expect(await store.getStepAttempts('r')).toEqual([{ runId: 'r', ...failure }]);
      expect((await store.listRuns({ status: ['waiting'] })).map((r) => r.id)).toEqual(['r']);
      await expect(store.commitStep({ ...fence, runId: 'r', seq: 3, name: 'x', result: 1, now: 1600 })).rejects.toMatchObject({
        code: 'run_not_running',
      });
      await store.close();
    });

    it('a waiting run is claimed only once its wake has come, its wait ended, with its journal and failed attempts in order', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'w' }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'w');
      await store.commitStep({ ...fence, runId: 'w', seq: 0, name: 'plan', result: 1, now: 1000 });
      const a1 = { seq: 1, name: 'flaky', attempt: 1, error: FLAKY, failedAt: 1000, retryAt: 3000 };
      await store.suspendRun({ ...fence, runId: 'w', now: 1000, failure: a1, wait: { kind: 'retry', wakeAt: 3000, detail: null } });
      await store.enqueue(command({ id: 'other' }));
      await claimed(store, fence, 1001, 'other'); // the waiting run does not hold its key
      await store.finishRun({ ...fence, runId: 'other', status: 'completed', now: 1002 });
      expect(await claim(store, { ...fence, now: 2999 })).toBeUndefined();
      const woken = await claimed(store, fence, 3000, 'w');
      expect(woken.run).toMatchObject({ status: 'running', attempts: 2, wait: null, parked: false });
      expect(woken.steps.map((s) => s.name)).toEqual(['plan']);
      expect(woken.attempts).toEqual([{ runId: 'w', ...a1 }]);
      expect(woken.frame).toBeUndefined();
      const a2 = { ...a1, attempt: 2, error: { code: 'flaky', message: 'again' }, failedAt: 3000, retryAt: 6000 };
      await store.suspendRun({ ...fence, runId: 'w', now: 3000, failure: a2, wait: { kind: 'retry', wakeAt: 6000, detail: null } });
      await store.enqueue(command({ id: 'n-later' }));
      await store.enqueue(command({ id: 'u', priority: 'urgent' }));
      const order: string[] = [];
      for (let next = await claim(store, { ...fence, now: 6000 }); next; next = await claim(store, { ...fence, now: 6000 })) {
        order.push(next.run.id);
        if (next.run.id === 'w') {
          expect(next.attempts).toEqual([
            { runId: 'w', ...a1 },
            { runId: 'w', ...a2 },
          ]);
          await store.commitStep({ ...fence, runId: 'w', seq: 1, name: 'flaky', result: 'ok', now: 6001 });
        }
        await store.finishRun({ ...fence, runId: next.run.id, status: 'completed', now: 6002 });
      }
      expect(order).toEqual(['u', 'w', 'n-later']); // a woken run re-enters at its priority, FIFO
      expect((await store.getStepAttempts('w')).map((a) => a.attempt)).toEqual([1, 2]);
      await store.close();
    });

    it('keysWithWork and an idle release count a waiting run only once its wake has come; a child wait never', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r', key: 'k', priority: 'background' }));
      await store.enqueue(command({ id: 'p', key: 'j' }));
      const fence = await own(store, 'k');
      const fj = await own(store, 'j');
      await claimed(store, fence, 1000, 'r');
      await store.suspendRun(sleep(fence, 'r', 1000, 5000));
      await claimed(store, fj, 1000, 'p');
      await spawn(store, fj, 'p', 0, 'c', 'elsewhere');
      await store.suspendRun(joinChild(fj, 'p', 'c', 1000));
      expect((await store.keysWithWork({ limit: 10, now: 4999 })).map((w) => w.key)).toEqual(['elsewhere']);
      expect(await store.releaseOwner({ ...fence, ifIdle: true, now: 4999 })).toBe(true);
      expect(await store.releaseOwner({ ...fj, ifIdle: true, now: 1_000_000 })).toBe(true);
      const work = await store.keysWithWork({ limit: 10, now: 5000 });
      expect(work.map((w) => [w.key, w.topPriority, w.owner?.ownerId ?? null])).toEqual([
        ['elsewhere', 'normal', null],
        ['k', 'background', null],
      ]);
      const again = await own(store, 'k', 'o1', 5000);
      expect(await store.releaseOwner({ ...again, ifIdle: true, now: 5000 })).toBe(false);
      expect((await store.getOwner('k'))?.ownerId).toBe('o1');
      await store.close();
    });

    it('a waiting run asked to drop, or past its deadline, gives its key work before its wake', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'd', key: 'd', deadlineAt: 3000 }));
      await store.enqueue(command({ id: 'x', key: 'x' }));
      const fd = await own(store, 'd');
      const fx = await own(store, 'x');
      await claimed(store, fd, 1000, 'd');
      await claimed(store, fx, 1000, 'x');
      await store.suspendRun(sleep(fd, 'd', 1000, 9000));
      await store.suspendRun(sleep(fx, 'x', 1000, 9000));
      expect(await store.keysWithWork({ limit: 10, now: 2000 })).toEqual([]);
      expect((await store.requestCancel({ runId: 'x', mode: 'abort-drop', now: 2000 }))?.status).toBe('waiting');
      expect((await store.keysWithWork({ limit: 10, now: 2000 })).map((w) => w.key)).toEqual(['x']);
      expect(await store.releaseOwner({ ...fx, ifIdle: true, now: 2000 })).toBe(false);
      const drop = await store.claimNext({ ...fx, now: 2000 });
      expect([drop.claimed, drop.dropped.map((r) => [r.id, r.status, r.wait])]).toEqual([undefined, [['x', 'cancelled', null]]]);
      expect(await store.claimNext({ ...fd, now: 2999 })).toEqual({ claimed: undefined, dropped: [], wake: [] });
      expect(await store.releaseOwner({ ...fd, ifIdle: true, now: 2999 })).toBe(true);
      expect((await store.keysWithWork({ limit: 10, now: 3000 })).map((w) => w.key)).toEqual(['d']);
      const late = await claimed(store, await own(store, 'd', 'o1', 3000), 3000, 'd');
      expect(late.run).toMatchObject({ status: 'running', wait: null, attempts: 2, deadlineAt: 3000 });
      await store.close();
    });

    it('a child wait on a run that has already ended is not entered: { suspended: false }, nothing written', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p' }));
      const fp = await own(store);
      await claimed(store, fp, 1000, 'p');
      await spawn(store, fp, 'p', 0, 'c', 'repo:c');
      const fc = await own(store, 'repo:c');
      await claimed(store, fc, 1100, 'c');
      await store.finishRun({ ...fc, runId: 'c', status: 'failed', error: FLAKY, now: 1200 });
      const failure = { seq: 1, name: 'join', attempt: 1, error: FLAKY, failedAt: 1300, retryAt: null };
      const outcome = await store.suspendRun({ ...joinChild(fp, 'p', 'c', 1300), commit: { seq: 1, name: 'x', result: 1 }, failure });
      expect(outcome).toEqual({ suspended: false });
      expect((await store.getSteps('p')).map((s) => s.name)).toEqual(['spawn:g']);
      expect(await store.getStepAttempts('p')).toEqual([]);
      expect(await store.getRun('p')).toMatchObject({ status: 'running', wait: null });
      await expect(store.suspendRun(joinChild(fp, 'p', 'missing', 1300))).rejects.toMatchObject({ code: 'run_not_found' });
      expect(await store.getRun('p')).toMatchObject({ status: 'running', wait: null });
      await store.close();
    });

    it('a child wait is ended by the transaction that finishes the child, and finishRun names the parent key', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p', key: 'A' }));
      const fa = await own(store, 'A');
      await claimed(store, fa, 1000, 'p');
      await spawn(store, fa, 'p', 0, 'c', 'B');
      await spawn(store, fa, 'p', 1, 'd', 'A');
      expect(await store.suspendRun(joinChild(fa, 'p', 'c', 1100))).toEqual({ suspended: true });
      expect((await store.getRun('p'))?.wait).toEqual({ kind: 'child', wakeAt: null, onRun: 'c', detail: { childId: 'c' }, since: 1100 });
      expect(await store.nextWakeAt(1100)).toBeUndefined();
      await claimed(store, fa, 1200, 'd'); // the waiting parent does not hold its key
      expect((await store.finishRun({ ...fa, runId: 'd', status: 'completed', now: 1300 })).wake).toEqual([]);
      expect(await claim(store, { ...fa, now: 1_000_000 })).toBeUndefined();
      expect((await store.keysWithWork({ limit: 10, now: 1_000_000 })).map((w) => w.key)).toEqual(['B']);
      const fb = await own(store, 'B');
      await claimed(store, fb, 2000, 'c');
      const done = await store.finishRun({ ...fb, runId: 'c', status: 'completed', result: { ok: true }, now: 2500 });
      expect(done.run).toMatchObject({ id: 'c', status: 'completed', result: { ok: true }, finishedAt: 2500, parentId: 'p' });
      expect(done.wake).toEqual([{ key: 'A' }]);
      expect((await store.keysWithWork({ limit: 10, now: 2500 })).map((w) => w.key)).toEqual(['A']);
      const resumed = await claimed(store, fa, 2500, 'p');
      expect(resumed.run).toMatchObject({ status: 'running', wait: null, attempts: 2 });
      expect(resumed.steps.map((s) => s.result)).toEqual([{ childId: 'c' }, { childId: 'd' }]);
      await store.close();
    });

    it('a child dropped by a claim wakes the parent waiting for it; the claim names the parent key', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p', key: 'A' }));
      const fa = await own(store, 'A');
      await claimed(store, fa, 1000, 'p');
      await spawn(store, fa, 'p', 0, 'c', 'B');
      await store.suspendRun(joinChild(fa, 'p', 'c', 1000));
      await store.requestCancel({ runId: 'c', mode: 'abort-drop', now: 1100 });
      const outcome = await store.claimNext({ ...(await own(store, 'B')), now: 1200 });
      expect([outcome.claimed, outcome.dropped.map((r) => [r.id, r.status]), outcome.wake]).toEqual([
        undefined,
        [['c', 'cancelled']],
        [{ key: 'A' }],
      ]);
      await claimed(store, fa, 1200, 'p');
      await store.close();
    });

    it('a parent that ends failed or cancelled asks its pending children to drop, and wake names them', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p', key: 'A' }));
      const fa = await own(store, 'A');
      const fb = await own(store, 'B');
      await claimed(store, fa, 1000, 'p');
      await spawn(store, fa, 'p', 0, 'c-done', 'B');
      await spawn(store, fa, 'p', 1, 'c-other', 'B');
      await spawn(store, fa, 'p', 2, 'c-asked', 'B');
      await spawn(store, fa, 'p', 3, 'c-same', 'A');
      await claimed(store, fb, 1100, 'c-done');
      await store.finishRun({ ...fb, runId: 'c-done', status: 'completed', now: 1200 });
      await store.requestCancel({ runId: 'c-asked', mode: 'abort-drop', now: 1300 });
      const failed = await store.finishRun({ ...fa, runId: 'p', status: 'failed', error: FLAKY, now: 2000 });
      expect([...failed.wake].sort((a, b) => (a.cancelRunId ?? '').localeCompare(b.cancelRunId ?? ''))).toEqual([
        { key: 'B', cancelRunId: 'c-other' },
        { key: 'A', cancelRunId: 'c-same' },
      ]);
      expect((await store.childrenOf('p')).map((c) => [c.id, c.status, c.cancelRequested])).toEqual([
        ['c-done', 'completed', null],
        ['c-other', 'queued', 'abort-drop'],
        ['c-asked', 'queued', 'abort-drop'],
        ['c-same', 'queued', 'abort-drop'],
      ]);
      const onB = await store.claimNext({ ...fb, now: 2100 });
      expect([onB.claimed, onB.dropped.map((r) => r.id)]).toEqual([undefined, ['c-other', 'c-asked']]);
      expect((await store.claimNext({ ...fa, now: 2100 })).dropped.map((r) => r.id)).toEqual(['c-same']);
      // Cancelled asks the same; completed asks nothing.
      await store.enqueue(command({ id: 'q', key: 'A' }));
      await store.enqueue(command({ id: 'ok', key: 'A' }));
      await claimed(store, fa, 3000, 'q');
      await spawn(store, fa, 'q', 0, 'q-child', 'B');
      expect((await store.finishRun({ ...fa, runId: 'q', status: 'cancelled', error: FLAKY, now: 3100 })).wake).toEqual([
        { key: 'B', cancelRunId: 'q-child' },
      ]);
      await claimed(store, fa, 3200, 'ok');
      await spawn(store, fa, 'ok', 0, 'ok-child', 'B');
      expect((await store.finishRun({ ...fa, runId: 'ok', status: 'completed', now: 3300 })).wake).toEqual([]);
      expect((await store.getRun('ok-child'))?.cancelRequested).toBeNull();
      await store.close();
    });

    it('spawnChild enqueues the child and journals the spawn together, idempotent on the child idempotence key', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p' }));
      const f1 = await own(store);
      await claimed(store, f1, 1000, 'p');
      const child = command({ id: 'c1', key: 'repo:b', flow: 'g', input: { x: 1 }, idempotencyKey: 'p/spawn/0', now: 1100 });
      const first = await store.spawnChild({ ...f1, runId: 'p', seq: 0, name: 'spawn:g', child: { ...child, deadlineAt: 90_000 } });
      expect(first).toMatchObject({ id: 'c1', key: 'repo:b', flow: 'g', input: { x: 1 }, parentId: 'p', status: 'queued' });
      expect(first).toMatchObject({ deadlineAt: 90_000, createdAt: 1100, attempts: 0, compacted: false, wait: null });
      expect(await store.getRun('c1')).toEqual(first);
      const journaled = { runId: 'p', seq: 0, name: 'spawn:g', result: { childId: 'c1' }, epoch: f1.epoch, committedAt: 1100 };
      expect(await store.getSteps('p')).toEqual([journaled]);
      const again = await store.spawnChild({ ...f1, runId: 'p', seq: 0, name: 'spawn:g', child: { ...child, id: 'c1-again', now: 1200 } });
      expect(again).toEqual(first);
      expect(await store.getRun('c1-again')).toBeUndefined();
      expect(await store.getSteps('p')).toEqual([journaled]);
      await spawn(store, f1, 'p', 1, 'c2', 'repo:a');
      // A re-run after a take-over spawns at the same position again and gets the same child.
      const f2 = await own(store, 'repo:a', 'o2', 60_000);
      expect((await claimed(store, f2, 60_000, 'p')).steps.map((s) => s.result)).toEqual([{ childId: 'c1' }, { childId: 'c2' }]);
      const rerun = await store.spawnChild({
        ...f2,
        runId: 'p',
        seq: 0,
        name: 'spawn:g',
        child: { ...child, id: 'c1-rerun', now: 60_000 },
      });
      expect(rerun.id).toBe('c1');
      expect((await store.childrenOf('p')).map((r) => [r.id, r.parentId])).toEqual([
        ['c1', 'p'],
        ['c2', 'p'],
      ]);
      expect(await store.childrenOf('c1')).toEqual([]);
      expect((await store.listRuns({})).map((r) => r.id)).toEqual(['p', 'c1', 'c2']);
      await store.close();
    });

    it('a refused spawn writes nothing: a parent not running, a stale epoch, a position journaled under another name', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'p' }));
      const fence = await own(store);
      const spawnAs = (f: Fence, seq: number, id: string) =>
        store.spawnChild({ ...f, runId: 'p', seq, name: 'spawn:g', child: command({ id, idempotencyKey: `idem-${id}` }) });
      await expect(spawnAs(fence, 0, 'c0')).rejects.toMatchObject({ code: 'run_not_running' });
      await claimed(store, fence, 1000, 'p');
      await store.commitStep({ ...fence, runId: 'p', seq: 0, name: 'plan', result: 1, now: 1000 });
      await expect(spawnAs({ ...fence, epoch: fence.epoch + 1 }, 1, 'c1')).rejects.toBeInstanceOf(StaleEpochError);
      await expect(spawnAs(fence, 0, 'c2')).rejects.toMatchObject({ code: 'step_already_committed' });
      expect(await Promise.all(['c0', 'c1', 'c2'].map((id) => store.getRun(id)))).toEqual([undefined, undefined, undefined]);
      expect(await store.childrenOf('p')).toEqual([]);
      expect((await store.getSteps('p')).map((s) => s.name)).toEqual(['plan']);
      await store.close();
    });

    const frameOf = (fence: Fence, runId: string, turnSeq: number, provider: string | null, parkedAt: number): ParkedFrame => {
      const turn = provider === null ? { input: null, sessionId: null } : { input: { prompt: 'p' }, sessionId: 'session-1' };
      return { runId, key: fence.key, epoch: fence.epoch, turnSeq, attempt: 1, provider, ...turn, parkedBy: 'u', parkedAt };
    };

    it("a parked run's frame outlives its claim and a suspension before its position, until a step at or past it commits", async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'w' }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'w');
      await store.commitStep({ ...fence, runId: 'w', seq: 0, name: 'plan', result: 1, now: 1000 });
      const frame = frameOf(fence, 'w', 1, 'agent', 1100);
      await store.parkRun({ ...fence, frame });
      const resumed = await claimed(store, fence, 1200, 'w');
      expect([resumed.frame, resumed.run.wait, resumed.run.parked]).toEqual([frame, null, true]);
      // The re-issued turn fails and is retried later: no step at the frame's position committed.
      const failure = { seq: 1, name: 'turn:agent', attempt: 1, error: FLAKY, failedAt: 1300, retryAt: 3000 };
      await store.suspendRun({ ...fence, runId: 'w', now: 1300, failure, wait: { kind: 'retry', wakeAt: 3000, detail: null } });
      expect((await store.getRun('w'))?.wait).toMatchObject({ kind: 'retry', wakeAt: 3000 });
      const retried = await claimed(store, fence, 3000, 'w');
      expect(retried.frame).toEqual(frame);
      await store.commitStep({ ...fence, runId: 'w', seq: 1, name: 'turn:agent', result: 'answer', now: 3100 });
      expect((await store.getRun('w'))?.parked).toBe(false);
      await store.requeueRun({ ...fence, runId: 'w' });
      expect((await claimed(store, fence, 3200, 'w')).frame).toBeUndefined();
      await store.close();
    });

    it("a suspension that commits at a parked frame's position ends the frame: the run is no longer parked", async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'w', priority: 'background' }));
      const fence = await own(store);
      await claimed(store, fence, 1000, 'w');
      await store.parkRun({ ...fence, frame: frameOf(fence, 'w', 0, null, 1100) });
      await store.enqueue(command({ id: 'n' }));
      expect((await claimed(store, fence, 1200, 'w')).frame).toBeDefined(); // parked ranks before normal work
      await store.suspendRun({ ...sleep(fence, 'w', 1300, 5000), commit: { seq: 0, name: 'sleep', result: { until: 5000 } } });
      expect(await store.getRun('w')).toMatchObject({ status: 'waiting', parked: false, wait: { kind: 'timer', wakeAt: 5000 } });
      expect((await claimed(store, fence, 5000, 'n')).frame).toBeUndefined(); // no longer parked: normal before background
      await store.finishRun({ ...fence, runId: 'n', status: 'completed', now: 5001 });
      expect((await claimed(store, fence, 5002, 'w')).frame).toBeUndefined();
      await store.close();
    });

    it("nextWakeAt is the earliest future wake among waits, pending runs' deadlines and schedule ticks", async () => {
      const store = await makeStore();
      expect(await store.nextWakeAt(0)).toBeUndefined();
      await store.enqueue(command({ id: 'timer', key: 't' }));
      await store.enqueue(command({ id: 'deadline', key: 'd', deadlineAt: 6000 }));
      await store.enqueue(command({ id: 'join', key: 'j' }));
      await store.enqueue(command({ id: 'queued', key: 'q', deadlineAt: 4000 })); // queued behind nobody, but its deadline needs a kernel too
      const ft = await own(store, 't');
      const fd = await own(store, 'd');
      const fj = await own(store, 'j');
      await claimed(store, ft, 1000, 'timer');
      await claimed(store, fd, 1000, 'deadline');
      await claimed(store, fj, 1000, 'join');
      await store.suspendRun(sleep(ft, 'timer', 1000, 7000));
      await store.suspendRun(sleep(fd, 'deadline', 1000, 9000));
      await store.suspendRun(joinChild(fj, 'join', 'queued', 1000));
      await store.putSchedule(schedule({ nextFireAt: 8000 }));
      const wakes: (number | undefined)[] = [];
      for (const now of [0, 5999, 6000, 7000, 8000, 9000]) wakes.push(await store.nextWakeAt(now));
      expect(wakes).toEqual([4000, 6000, 7000, 8000, 9000, undefined]);
      await claimed(store, ft, 7000, 'timer'); // a wake that was claimed no longer counts
      expect(await store.nextWakeAt(6000)).toBe(8000);
      await store.close();
    });
  });

  runOutboxScheduleConformance(name, makeStore);
  runRunEndingConformance(name, makeStore);
}
