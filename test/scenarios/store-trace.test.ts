import { describe, expect, it } from 'vitest';
import { memoryStore } from 'holdfast';
import type { NewCommand } from '../../src/ports/store.js';
import { StoreTrace } from './store-trace.js';

const command = (id: string, priority: NewCommand['priority']): NewCommand => ({
  id,
  key: 'k',
  flow: 'f',
  input: null,
  idempotencyKey: id,
  priority,
  preempt: null,
  now: 0,
});

/** The checker the reordered scenarios rely on finds each kind of breach (it is not vacuous). */
describe('StoreTrace', () => {
  it('reports a turn started over recorded urgent demand, a commit after an interruption, work on a cancelled run, a failed call', async () => {
    const trace = new StoreTrace();
    const store = trace.record(trace.record(memoryStore(), 'apply'), 'issue');
    const event = (name: 'turn:started' | 'run:interrupted' | 'run:cancelled', runId: string) =>
      trace.entries.push({ at: trace.entries.length, kind: 'event', name, runId, detail: '' });
    await store.enqueue(command('n', 'normal'));
    const lease = await store.acquireOwner({ key: 'k', ownerId: 'o', now: 0, ttlMs: 1_000, channel: null });
    const fence = { key: 'k', ownerId: 'o', epoch: lease!.epoch };
    await store.claimNext({ ...fence, now: 0 });
    await store.enqueue(command('u', 'urgent'));
    await store.commitStep({ ...fence, runId: 'n', seq: 0, name: 'plan', result: 1, now: 0 });
    event('turn:started', 'n'); // u was recorded before n's last write: the check before the turn must have seen it
    event('run:interrupted', 'n');
    await store.commitStep({ ...fence, runId: 'n', seq: 1, name: 'late', result: 1, now: 0 });
    event('run:cancelled', 'n');
    await store.commitStep({ ...fence, runId: 'n', seq: 2, name: 'after', result: 1, now: 0 });
    await store.close();
    await store.enqueue(command('x', 'normal')).catch(() => undefined);
    const found = trace.violations();
    expect(found.some((v) => /turn of n started while urgent u/.test(v))).toBe(true);
    expect(found.some((v) => /commitStep issued for n after its interruption/.test(v))).toBe(true);
    expect(found.some((v) => /commitStep applied for n after it was cancelled/.test(v))).toBe(true);
    expect(found.some((v) => /enqueue failed/.test(v))).toBe(true);
  });

  it('reports a second run claimed while another is active on the key', () => {
    const trace = new StoreTrace();
    const claimed = (runId: string) => ({ ok: true as const, value: { claimed: { run: { id: runId } }, dropped: [] } });
    for (const id of ['a', 'b']) {
      trace.entries.push({
        at: trace.entries.length,
        kind: 'apply',
        op: 'enqueue',
        args: [command(id, 'normal')],
        outcome: { ok: true, value: { created: true } },
      });
    }
    trace.entries.push({ at: trace.entries.length, kind: 'apply', op: 'claimNext', args: [{ key: 'k' }], outcome: claimed('a') });
    trace.entries.push({ at: trace.entries.length, kind: 'apply', op: 'claimNext', args: [{ key: 'k' }], outcome: claimed('b') });
    expect(trace.violations()).toEqual(['#3 claimed b while a was active on k']);
  });
});
