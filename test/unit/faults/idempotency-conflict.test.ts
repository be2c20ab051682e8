import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, createKernel, defineFlow, memoryStore, type Json } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

const echo = defineFlow('echo', async (ctx, input: Json) => ctx.step('echo', () => input));
const other = defineFlow('other', async (ctx, input: Json) => ctx.step('other', () => input));

function setup(options: { start: boolean }) {
  const store = memoryStore();
  const clock = virtualClock(0);
  const kernel = createKernel({ store, flows: [echo, other], clock, random: seededRandom(5), pollIntervalMs: 60_000 });
  const queued: string[] = [];
  kernel.on('run:queued', (e) => queued.push(e.runId));
  return { store, clock, kernel, queued, started: options.start ? kernel.start() : Promise.resolve() };
}

const INPUT = { issue: 7, labels: ['bug', 'ui'], meta: { from: 'webhook', at: 12 } };

describe('idempotence-key reuse (K3)', () => {
  for (const start of [false, true]) {
    const mode = start ? 'an owning kernel' : 'a pure client';
    it(`on ${mode}: the same key with a different key, flow or input throws idempotency_conflict naming the run and field, and writes nothing`, async () => {
      const w = setup({ start });
      await w.started;
      const first = await w.kernel.submit({ key: 'repo:a', flow: 'echo', input: INPUT, idempotencyKey: 'delivery-1' });
      expect(first.created).toBe(true);
      const cases: { field: 'key' | 'flow' | 'input'; command: { key: string; flow: string; input?: Json } }[] = [
        { field: 'key', command: { key: 'repo:b', flow: 'echo', input: INPUT } },
        { field: 'flow', command: { key: 'repo:a', flow: 'other', input: INPUT } },
        { field: 'input', command: { key: 'repo:a', flow: 'echo', input: { ...INPUT, issue: 8 } } },
        { field: 'input', command: { key: 'repo:a', flow: 'echo', input: { ...INPUT, labels: ['ui', 'bug'] } } },
        { field: 'input', command: { key: 'repo:a', flow: 'echo', input: { ...INPUT, extra: null } } },
        { field: 'input', command: { key: 'repo:a', flow: 'echo' } },
      ];
      for (const { field, command } of cases) {
        const attempt = w.kernel.submit({ ...command, idempotencyKey: 'delivery-1' });
        await expect(attempt).rejects.toBeInstanceOf(IdempotencyConflictError);
        await expect(attempt).rejects.toMatchObject({
          code: 'idempotency_conflict',
          runId: first.id,
          field,
          message: expect.stringMatching(new RegExp(`"delivery-1" already names run ${first.id}.*different ${field}`)),
        });
      }
      // Nothing was written: still one run, unchanged, and only one run:queued event.
      const runs = await w.store.listRuns({});
      expect(runs.map((r) => [r.id, r.key, r.flow, r.idempotencyKey])).toEqual([[first.id, 'repo:a', 'echo', 'delivery-1']]);
      expect(runs[0]!.input).toEqual(INPUT);
      expect(w.queued).toEqual([first.id]);
      await w.kernel.stop();
    });
  }

  it('the same command again (input keys in another order, another priority) returns the first run and runs it once', async () => {
    const w = setup({ start: true });
    await w.started;
    let executions = 0;
    w.kernel.on('run:started', () => executions++);
    const first = await w.kernel.submit({ key: 'repo:a', flow: 'echo', input: INPUT, idempotencyKey: 'delivery-2' });
    const reordered = { meta: { at: 12, from: 'webhook' }, labels: ['bug', 'ui'], issue: 7 };
    const again = await w.kernel.submit({ key: 'repo:a', flow: 'echo', input: reordered, idempotencyKey: 'delivery-2' });
    expect(again.id).toBe(first.id);
    expect(again.created).toBe(false);
    expect(await first.result()).toEqual(INPUT);
    const redelivered = await w.kernel.submit({
      key: 'repo:a',
      flow: 'echo',
      input: reordered,
      idempotencyKey: 'delivery-2',
      priority: 'urgent',
    });
    expect(redelivered).toMatchObject({ id: first.id, created: false });
    expect(await redelivered.result()).toEqual(INPUT);
    // A conflicting submit after completion still names the completed run.
    await expect(w.kernel.submit({ key: 'repo:a', flow: 'echo', input: 1, idempotencyKey: 'delivery-2' })).rejects.toMatchObject({
      code: 'idempotency_conflict',
      runId: first.id,
      field: 'input',
    });
    expect(executions).toBe(1);
    expect(await w.store.listRuns({})).toHaveLength(1);
    expect(w.queued).toEqual([first.id]);
    await w.kernel.stop();
  });
});
