import { describe, expect, it } from 'vitest';
import { StaleEpochError } from '../../src/errors.js';
import type { Json, RunError, ScheduleRecord } from '../../src/model/index.js';
import type { ClaimEffect, Fence, RecordEffect, Store } from '../../src/ports/store.js';
import { claim, claimed, command, own, schedule } from './store-fixtures.js';

const FLAKY: RunError = { code: 'flaky', message: 'try again' };

/**
 * Conformance of the outbox (D3, with the owed-reply rules of core/effect-claim), schedules (D4)
 * and retention (D5: compactRuns). Run by runDurableConformance.
 */
export function runOutboxScheduleConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  /** Enqueues `id` on `key`, takes the key and claims the run: the run's fence. */
  const running = async (store: Store, id: string, key: string, over: { deadlineAt?: number } = {}): Promise<Fence> => {
    await store.enqueue(command({ id, key, ...over }));
    const fence = await own(store, key);
    await claimed(store, fence, 1000, id);
    return fence;
  };
  const claimOf = (f: Fence, runId: string, seq: number, effectKey: string, origins: string[], now: number, as = 'reply'): ClaimEffect => ({
    ...f,
    runId,
    seq,
    name: as,
    effectKey,
    origins,
    now,
  });
  const recordOf = (f: Fence, runId: string, seq: number, effectKey: string, artifact: Json, now: number): RecordEffect => ({
    ...f,
    runId,
    seq,
    name: 'reply',
    effectKey,
    artifact,
    now,
  });
  const journal = async (store: Store, runId: string) => (await store.getSteps(runId)).map((s) => [s.seq, s.name, s.result]);

  describe(`Outbox, schedule and retention conformance: ${name}`, () => {
    it('claim, record, and a delivered key claimed by another run returns the first artifact, journaled', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      const fb = await running(store, 'b', 'repo:b');
      expect(await store.claimEffect(claimOf(fa, 'a', 0, 'post:1', [], 1100))).toEqual({ state: 'claimed', attempt: 1, origins: [] });
      const claimedRecord = { key: 'post:1', name: 'reply', runId: 'a', status: 'claimed', origins: [], attempts: 1, claimedAt: 1100 };
      const unset = { artifact: undefined, error: undefined, nextAttemptAt: null, deliveredAt: null };
      expect(await store.listEffects()).toEqual([{ ...claimedRecord, ...unset }]);
      expect(await store.getSteps('a')).toEqual([]);
      expect(await store.recordEffect(recordOf(fa, 'a', 0, 'post:1', { url: 'c/1' }, 1200))).toEqual({ url: 'c/1' });
      expect(await journal(store, 'a')).toEqual([[0, 'effect:reply', { artifact: { url: 'c/1' } }]]);
      const delivered = { key: 'post:1', runId: 'a', status: 'delivered', artifact: { url: 'c/1' }, deliveredAt: 1200, attempts: 1 };
      expect(await store.listEffects()).toMatchObject([delivered]);
      expect(await store.recordEffect(recordOf(fa, 'a', 0, 'post:1', { url: 'c/2' }, 1300))).toEqual({ url: 'c/1' });
      expect(await journal(store, 'a')).toEqual([[0, 'effect:reply', { artifact: { url: 'c/1' } }]]);
      expect(await store.claimEffect(claimOf(fb, 'b', 3, 'post:1', [], 1400))).toEqual({ state: 'delivered', artifact: { url: 'c/1' } });
      expect(await journal(store, 'b')).toEqual([[3, 'effect:reply', { artifact: { url: 'c/1' } }]]);
      expect(await store.recordEffect(recordOf(fb, 'b', 4, 'post:1', 'other', 1500))).toEqual({ url: 'c/1' });
      expect(await store.listEffects()).toMatchObject([delivered]);
      await store.close();
    });

    it('a key claimed by another run is busy; its holder claiming again after a crash gets attempt 2, same key', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      const fb = await running(store, 'b', 'repo:b');
      expect(await store.claimEffect(claimOf(fa, 'a', 0, 'k', ['c1'], 1100))).toEqual({ state: 'claimed', attempt: 1, origins: ['c1'] });
      expect(await store.claimEffect(claimOf(fb, 'b', 0, 'k', ['c1'], 1200))).toEqual({ state: 'busy', holder: 'a' });
      expect(await store.getSteps('b')).toEqual([]);
      const heir = await own(store, 'repo:a', 'o2', 60_000); // the holder's kernel died between emit and record
      expect((await claim(store, { ...heir, now: 60_000 }))?.run).toMatchObject({ id: 'a', attempts: 2 });
      await expect(store.claimEffect(claimOf(fa, 'a', 0, 'k', ['c1'], 60_001))).rejects.toBeInstanceOf(StaleEpochError);
      expect(await store.claimEffect(claimOf(heir, 'a', 0, 'k', ['c1'], 60_001))).toEqual({
        state: 'claimed',
        attempt: 2,
        origins: ['c1'],
      });
      expect(await store.listEffects()).toMatchObject([{ key: 'k', runId: 'a', status: 'claimed', attempts: 2, origins: ['c1'] }]);
      await store.close();
    });

    it('failEffect with retryAt: failed, the run waits; backoff before retryAt, attempt 2 with the same key at it', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a', { deadlineAt: 3000 });
      const fb = await running(store, 'b', 'repo:b');
      await store.claimEffect(claimOf(fa, 'a', 0, 'k', [], 1100));
      await store.failEffect({ ...fa, runId: 'a', effectKey: 'k', error: FLAKY, now: 1500, retryAt: 5000 });
      expect(await store.getRun('a')).toMatchObject({
        status: 'waiting',
        wait: { kind: 'effect', wakeAt: 5000, onRun: null, detail: { effectKey: 'k' }, since: 1500 },
      });
      expect(await store.listEffects()).toMatchObject([{ key: 'k', status: 'failed', error: FLAKY, nextAttemptAt: 5000, attempts: 1 }]);
      expect(await store.claimEffect(claimOf(fb, 'b', 0, 'k', [], 1600))).toEqual({ state: 'busy', holder: 'a' });
      expect((await claim(store, { ...fa, now: 3000 }))?.run.id).toBe('a'); // its deadline came before its retry
      expect(await store.claimEffect(claimOf(fa, 'a', 0, 'k', [], 3000))).toEqual({ state: 'backoff', retryAt: 5000 });
      expect(await store.getSteps('a')).toEqual([]);
      await store.suspendRun({ ...fa, runId: 'a', now: 3000, wait: { kind: 'effect', wakeAt: 5000, detail: { effectKey: 'k' } } });
      expect((await claim(store, { ...fa, now: 5000 }))?.run.id).toBe('a');
      expect(await store.claimEffect(claimOf(fa, 'a', 0, 'k', [], 5000))).toEqual({ state: 'claimed', attempt: 2, origins: [] });
      expect(await store.listEffects({ status: ['claimed'] })).toMatchObject([
        { key: 'k', runId: 'a', attempts: 2, error: undefined, nextAttemptAt: null },
      ]);
      await store.close();
    });

    it('failEffect without retryAt is terminal: the run does not wait, and another run can take the key over', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      const fb = await running(store, 'b', 'repo:b');
      await store.claimEffect(claimOf(fa, 'a', 0, 'k', ['c1'], 1100));
      await store.failEffect({ ...fa, runId: 'a', effectKey: 'k', error: FLAKY, now: 1200, retryAt: null });
      expect(await store.getRun('a')).toMatchObject({ status: 'running', wait: null });
      expect(await store.listEffects()).toMatchObject([{ key: 'k', status: 'failed', error: FLAKY, nextAttemptAt: null }]);
      expect(await store.nextWakeAt(0)).toBeUndefined();
      await store.finishRun({ ...fa, runId: 'a', status: 'failed', error: FLAKY, now: 1300 });
      expect(await store.claimEffect(claimOf(fb, 'b', 0, 'k', ['c1'], 1400))).toEqual({ state: 'claimed', attempt: 2, origins: ['c1'] });
      expect(await store.listEffects()).toMatchObject([{ key: 'k', runId: 'b', status: 'claimed', attempts: 2 }]);
      await store.close();
    });

    it('owed replies: an origin covered by another claimed or delivered effect is not claimed again', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      const fb = await running(store, 'b', 'repo:b');
      const owed = (seq: number, key: string, origins: string[], now: number) =>
        store.claimEffect(claimOf(fb, 'b', seq, key, origins, now));
      expect(await store.claimEffect(claimOf(fa, 'a', 0, 'reply:A', ['c1', 'c2'], 1000))).toMatchObject({ origins: ['c1', 'c2'] });
      expect(await owed(0, 'reply:B', ['c2', 'c1'], 1100)).toEqual({ state: 'covered', coveredBy: ['reply:A'] });
      expect(await owed(1, 'reply:C', ['c2', 'c3'], 1200)).toEqual({ state: 'claimed', attempt: 1, origins: ['c3'] });
      expect(await owed(2, 'reply:D', ['c3', 'c1'], 1300)).toEqual({ state: 'covered', coveredBy: ['reply:A', 'reply:C'] });
      await store.recordEffect(recordOf(fa, 'a', 0, 'reply:A', 'posted', 1400));
      expect(await owed(3, 'reply:E', ['c1'], 1500)).toEqual({ state: 'covered', coveredBy: ['reply:A'] });
      expect(await journal(store, 'b')).toEqual([
        [0, 'effect:reply', { coveredBy: ['reply:A'] }],
        [2, 'effect:reply', { coveredBy: ['reply:A', 'reply:C'] }],
        [3, 'effect:reply', { coveredBy: ['reply:A'] }],
      ]);
      expect((await store.listEffects()).map((e) => [e.key, e.status, e.origins])).toEqual([
        ['reply:A', 'delivered', ['c1', 'c2']],
        ['reply:C', 'claimed', ['c3']],
      ]);
      await store.close();
    });

    it('a failed emit releases its origins: another effect claims them, and the retry claims only what is left', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      const fb = await running(store, 'b', 'repo:b');
      await store.claimEffect(claimOf(fa, 'a', 0, 'reply:A', ['c1', 'c2'], 1000));
      await store.failEffect({ ...fa, runId: 'a', effectKey: 'reply:A', error: FLAKY, now: 1100, retryAt: 9000 });
      expect(await store.claimEffect(claimOf(fb, 'b', 0, 'reply:B', ['c1'], 1200))).toEqual({
        state: 'claimed',
        attempt: 1,
        origins: ['c1'],
      });
      expect((await claim(store, { ...fa, now: 9000 }))?.run.id).toBe('a');
      const retry = await store.claimEffect(claimOf(fa, 'a', 0, 'reply:A', ['c1', 'c2'], 9000));
      expect(retry).toEqual({ state: 'claimed', attempt: 2, origins: ['c2'] });
      expect((await store.listEffects()).map((e) => [e.key, e.origins, e.claimedAt])).toEqual([
        ['reply:B', ['c1'], 1200],
        ['reply:A', ['c2'], 9000],
      ]);
      await store.close();
    });

    it('an effect key reused under another effect name throws effect_key_conflict and writes nothing', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      await store.claimEffect(claimOf(fa, 'a', 0, 'k', ['c1'], 1000));
      const conflict = { code: 'effect_key_conflict', message: expect.stringMatching(/reply.*label/) };
      await expect(store.claimEffect(claimOf(fa, 'a', 1, 'k', ['c1'], 1100, 'label'))).rejects.toMatchObject(conflict);
      expect(await store.listEffects()).toMatchObject([{ key: 'k', name: 'reply', attempts: 1, status: 'claimed' }]);
      await store.recordEffect(recordOf(fa, 'a', 0, 'k', 'posted', 1200));
      await expect(store.claimEffect(claimOf(fa, 'a', 1, 'k', [], 1300, 'label'))).rejects.toMatchObject(conflict);
      expect((await store.getSteps('a')).map((s) => s.seq)).toEqual([0]);
      await store.close();
    });

    it('outbox writes are fenced and only for a running run; a refused one writes nothing', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'q' }));
      const fq = await own(store);
      await expect(store.claimEffect(claimOf(fq, 'q', 0, 'k0', [], 1000))).rejects.toMatchObject({ code: 'run_not_running' });
      const fa = await running(store, 'a', 'repo:b');
      const stale = { ...fa, epoch: fa.epoch + 1 };
      await expect(store.claimEffect(claimOf(stale, 'a', 0, 'k', ['c1'], 1000))).rejects.toBeInstanceOf(StaleEpochError);
      expect(await store.listEffects()).toEqual([]);
      await store.claimEffect(claimOf(fa, 'a', 0, 'k', ['c1'], 1000));
      await expect(store.recordEffect(recordOf(stale, 'a', 0, 'k', 'x', 1100))).rejects.toBeInstanceOf(StaleEpochError);
      const failure = { runId: 'a', effectKey: 'k', error: FLAKY, now: 1100, retryAt: 5000 };
      await expect(store.failEffect({ ...stale, ...failure })).rejects.toBeInstanceOf(StaleEpochError);
      expect(await store.listEffects()).toMatchObject([{ key: 'k', status: 'claimed', attempts: 1, origins: ['c1'] }]);
      expect([await store.getSteps('a'), (await store.getRun('a'))?.status]).toEqual([[], 'running']);
      await expect(store.recordEffect(recordOf(fa, 'a', 1, 'nope', 'x', 1200))).rejects.toMatchObject({ code: 'effect_not_claimed' });
      await expect(store.failEffect({ ...fa, ...failure, effectKey: 'nope' })).rejects.toMatchObject({ code: 'effect_not_claimed' });
      expect([await store.getSteps('a'), (await store.getRun('a'))?.status]).toEqual([[], 'running']);
      await store.close();
    });

    it('a record the journal refuses (its position holds another step) leaves the effect claimed', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      await store.commitStep({ ...fa, runId: 'a', seq: 0, name: 'plan', result: 1, now: 1000 });
      await store.claimEffect(claimOf(fa, 'a', 0, 'k', [], 1100));
      await expect(store.recordEffect(recordOf(fa, 'a', 0, 'k', 'posted', 1200))).rejects.toMatchObject({ code: 'step_already_committed' });
      expect(await store.listEffects()).toMatchObject([{ key: 'k', status: 'claimed', artifact: undefined, deliveredAt: null }]);
      await store.close();
    });

    it('listEffects filters by status, oldest claim first, up to limit', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      for (const [seq, key] of ['k1', 'k2', 'k3'].entries()) await store.claimEffect(claimOf(fa, 'a', seq, key, [], 1000 + 100 * seq));
      await store.recordEffect(recordOf(fa, 'a', 1, 'k2', 'posted', 1300));
      await store.failEffect({ ...fa, runId: 'a', effectKey: 'k3', error: FLAKY, now: 1400, retryAt: null });
      const keys = async (query?: Parameters<Store['listEffects']>[0]) => (await store.listEffects(query)).map((e) => e.key);
      expect(await keys()).toEqual(['k1', 'k2', 'k3']);
      expect(await keys({ status: ['delivered'] })).toEqual(['k2']);
      expect(await keys({ status: ['failed', 'claimed'] })).toEqual(['k1', 'k3']);
      expect(await keys({ limit: 2 })).toEqual(['k1', 'k2']);
      expect(await keys({ status: ['claimed', 'failed'], limit: 1 })).toEqual(['k1']);
      await store.close();
    });

    it('listEffects with an empty status list lists every effect, as listRuns does', async () => {
      const store = await makeStore();
      const fa = await running(store, 'a', 'repo:a');
      await store.claimEffect(claimOf(fa, 'a', 0, 'k1', [], 1000));
      expect((await store.listRuns({ status: [] })).map((r) => r.id)).toEqual(['a']);
      expect((await store.listEffects({ status: [] })).map((e) => e.key)).toEqual(['k1']);
      await store.close();
    });

    it('putSchedule registers a schedule; registering the same one again leaves the record as it is', async () => {
      const store = await makeStore();
      expect(await store.putSchedule(schedule())).toEqual(schedule());
      const again = await store.putSchedule(schedule({ nextFireAt: 999_000, lastFireAt: 2, createdAt: 5000 }));
      expect(again).toEqual(schedule());
      const cron = schedule({ id: 'cron', timing: { cron: '0 * * * *', timezone: 'Europe/Paris' }, catchUp: true, input: null });
      const once = schedule({ id: 'once', timing: { at: 70_000 }, nextFireAt: 70_000, priority: 'urgent' });
      for (const s of [cron, once, cron, once]) expect(await store.putSchedule(s)).toEqual(s);
      expect(await store.listSchedules()).toEqual([cron, once, schedule()]);
      await store.close();
    });

    it('listSchedules is in id order (code-unit order, as keysWithWork orders keys)', async () => {
      const store = await makeStore();
      for (const id of ['b', 'a', 'B']) await store.putSchedule(schedule({ id }));
      expect((await store.listSchedules()).map((s) => s.id)).toEqual(['B', 'a', 'b']);
      await store.close();
    });

    it('a schedule registered again with any field changed throws schedule_conflict naming it, writing nothing', async () => {
      const store = await makeStore();
      await store.putSchedule(schedule());
      const changes: [string, Partial<ScheduleRecord>][] = [
        ['key', { key: 'repo:other' }],
        ['flow', { flow: 'other' }],
        ['input', { input: { n: 2 } }],
        ['priority', { priority: 'urgent' }],
        ['timing', { timing: { every: 30_000 } }],
        ['catchUp', { catchUp: true }],
      ];
      for (const [field, over] of changes) {
        await expect(store.putSchedule(schedule(over))).rejects.toMatchObject({
          code: 'schedule_conflict',
          message: expect.stringContaining(`another ${field} (`),
        });
      }
      expect(await store.listSchedules()).toEqual([schedule()]);
      await store.close();
    });

    it('dueSchedules lists due ticks; fireSchedule moves the tick and enqueues its command once', async () => {
      const store = await makeStore();
      await store.putSchedule(schedule());
      await store.putSchedule(schedule({ id: 'later', nextFireAt: 200_000 }));
      await store.putSchedule(schedule({ id: 'spent', timing: { at: 5000 }, nextFireAt: null, lastFireAt: 5000 }));
      const due = async (now: number) => (await store.dueSchedules(now)).map((s) => s.id).sort();
      expect([await due(60_999), await due(61_000), await due(1e9)]).toEqual([[], ['tick'], ['later', 'tick']]);
      const tick = (id: string) =>
        command({ id, key: 'repo:s', flow: 'tick', idempotencyKey: 'schedule:tick:61000', priority: 'background', now: 61_000 });
      const fire = (run: string) => store.fireSchedule({ id: 'tick', fireAt: 61_000, nextAt: 121_000, command: tick(run), now: 61_000 });
      expect(await fire('tick-1')).toMatchObject({ created: true, run: { id: 'tick-1', key: 'repo:s', status: 'queued' } });
      expect((await store.listSchedules()).find((s) => s.id === 'tick')).toMatchObject({ nextFireAt: 121_000, lastFireAt: 61_000 });
      expect(await fire('tick-2')).toBeUndefined(); // another kernel fired this tick first
      expect((await store.listRuns({ key: 'repo:s' })).map((r) => r.id)).toEqual(['tick-1']);
      expect(await due(61_000)).toEqual([]);
      expect(await store.nextWakeAt(61_000)).toBe(121_000);
      expect(await store.fireSchedule({ id: 'missing', fireAt: 61_000, nextAt: null, command: tick('x'), now: 61_000 })).toBeUndefined();
      expect(await store.getRun('x')).toBeUndefined();
      await store.close();
    });

    it('a skipped tick moves the schedule and enqueues nothing; a one-off is spent; deleteSchedule', async () => {
      const store = await makeStore();
      await store.putSchedule(schedule());
      await store.putSchedule(schedule({ id: 'once', timing: { at: 70_000 }, nextFireAt: 70_000 }));
      const skip = () => store.fireSchedule({ id: 'tick', fireAt: 61_000, nextAt: 301_000, command: null, now: 250_000 });
      expect(await skip()).toBeNull();
      expect(await skip()).toBeUndefined();
      const once = command({ id: 'once-run', key: 'repo:s', idempotencyKey: 'schedule:once', now: 70_000 });
      expect(await store.fireSchedule({ id: 'once', fireAt: 70_000, nextAt: null, command: once, now: 70_000 })).toMatchObject({
        created: true,
      });
      expect((await store.listSchedules()).map((s) => [s.id, s.nextFireAt, s.lastFireAt])).toEqual([
        ['once', null, 70_000],
        ['tick', 301_000, null],
      ]);
      expect((await store.listRuns({})).map((r) => r.id)).toEqual(['once-run']);
      expect((await store.dueSchedules(1e9)).map((s) => s.id)).toEqual(['tick']);
      expect([await store.deleteSchedule('tick'), await store.deleteSchedule('tick')]).toEqual([true, false]);
      expect((await store.listSchedules()).map((s) => s.id)).toEqual(['once']);
      expect(await store.fireSchedule({ id: 'tick', fireAt: 301_000, nextAt: 361_000, command: null, now: 301_000 })).toBeUndefined();
      expect(await store.nextWakeAt(0)).toBeUndefined();
      await store.close();
    });

    it('compactRuns: finished runs ended before the cut, at most limit per call; summary and idempotence kept', async () => {
      const store = await makeStore();
      for (const id of ['old1', 'old2', 'recent', 'live']) await store.enqueue(command({ id, idempotencyKey: `delivery-${id}` }));
      const fence = await own(store);
      const step = (runId: string, seq: number, name: string, result: Json, now: number) =>
        store.commitStep({ ...fence, runId, seq, name, result, now });
      await claimed(store, fence, 5, 'old1');
      await step('old1', 0, 'a', 'x', 6);
      await step('old1', 1, 'bb', { y: [1, 2] }, 7);
      await store.finishRun({ ...fence, runId: 'old1', status: 'completed', result: { ok: 1 }, now: 10 });
      await claimed(store, fence, 11, 'old2');
      await step('old2', 0, 'c', 42, 12);
      const failure = { seq: 1, name: 'flaky', attempt: 1, error: FLAKY, failedAt: 13, retryAt: 15 };
      await store.suspendRun({ ...fence, runId: 'old2', now: 13, failure, wait: { kind: 'retry', wakeAt: 15, detail: null } });
      await claimed(store, fence, 15, 'old2');
      await store.finishRun({ ...fence, runId: 'old2', status: 'failed', error: { code: 'boom', message: 'it broke' }, now: 20 });
      await claimed(store, fence, 400, 'recent');
      await step('recent', 0, 'd', 1, 401);
      await store.finishRun({ ...fence, runId: 'recent', status: 'completed', now: 500 });
      await claimed(store, fence, 600, 'live');
      await step('live', 0, 'e', 1, 601);

      const bytes = (...parts: string[]) => parts.reduce((n, p) => n + p.length, 0);
      expect(await store.compactRuns({ finishedBefore: 100, limit: 1 })).toEqual({
        runs: 1,
        steps: 2,
        bytes: bytes('a', '"x"', 'bb', '{"y":[1,2]}'),
        keys: ['repo:a'],
      });
      expect(await store.getRun('old1')).toMatchObject({ status: 'completed', result: { ok: 1 }, compacted: true, finishedAt: 10 });
      expect([await store.getSteps('old1'), (await store.getRun('old2'))?.compacted]).toEqual([[], false]);
      expect(await store.compactRuns({ finishedBefore: 100, limit: 10 })).toEqual({
        runs: 1,
        steps: 1,
        bytes: bytes('c', '42', 'flaky', 'try again'),
        keys: ['repo:a'],
      });
      expect(await store.getRun('old2')).toMatchObject({ status: 'failed', error: { code: 'boom', message: 'it broke' }, compacted: true });
      expect([await store.getSteps('old2'), await store.getStepAttempts('old2')]).toEqual([[], []]);
      expect(await store.compactRuns({ finishedBefore: 100, limit: 10 })).toEqual({ runs: 0, steps: 0, bytes: 0, keys: [] });
      expect(await store.compactRuns({ finishedBefore: 500, limit: 10 })).toMatchObject({ runs: 0 }); // ended at 500: not before it
      const dedup = await store.enqueue(command({ id: 'again', idempotencyKey: 'delivery-old1' }));
      expect([dedup.created, dedup.run.id, dedup.run.compacted, dedup.run.result]).toEqual([false, 'old1', true, { ok: 1 }]);
      expect((await store.getSteps('recent')).map((s) => s.name)).toEqual(['d']);
      expect(await store.compactRuns({ finishedBefore: 1_000_000, limit: 10 })).toMatchObject({ runs: 1, steps: 1, keys: ['repo:a'] });
      expect(await store.getRun('live')).toMatchObject({ status: 'running', compacted: false });
      expect((await store.getSteps('live')).map((s) => s.name)).toEqual(['e']);
      await store.close();
    });

    it('compactRuns takes the runs that ended earliest first', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'first-in', key: 'x' }));
      await store.enqueue(command({ id: 'second-in', key: 'y' }));
      const fx = await own(store, 'x');
      const fy = await own(store, 'y');
      await claimed(store, fx, 5, 'first-in');
      await claimed(store, fy, 5, 'second-in');
      await store.finishRun({ ...fy, runId: 'second-in', status: 'completed', now: 20 });
      await store.finishRun({ ...fx, runId: 'first-in', status: 'completed', now: 30 });
      expect(await store.compactRuns({ finishedBefore: 100, limit: 1 })).toMatchObject({ runs: 1, keys: ['y'] });
      expect((await store.getRun('second-in'))?.compacted).toBe(true);
      expect((await store.getRun('first-in'))?.compacted).toBe(false);
      await store.close();
    });

    it('compactRuns counts the UTF-8 bytes of what it removes', async () => {
      const store = await makeStore();
      await store.enqueue(command({ id: 'r' }));
      const fence = await own(store);
      await claimed(store, fence, 1, 'r');
      await store.commitStep({ ...fence, runId: 'r', seq: 0, name: 'é', result: '😀', now: 2 });
      await store.finishRun({ ...fence, runId: 'r', status: 'completed', now: 3 });
      const utf8 = Buffer.byteLength('é') + Buffer.byteLength(JSON.stringify('😀'));
      expect(await store.compactRuns({ finishedBefore: 10, limit: 10 })).toEqual({ runs: 1, steps: 1, bytes: utf8, keys: ['repo:a'] });
      await store.close();
    });
  });
}
