import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Priority, type RunRecord } from 'holdfast';
import { reorderingStore, seededRandom, virtualClock } from 'holdfast/testing';

/**
 * An operator's abort-drop of a queued run, racing the owner's claim, on a store that applies the
 * port calls it receives in a seeded order other than issue order (as a networked store may).
 * The drop and the claim are one transaction now, so whatever the order, a run whose drop was
 * recorded before it was claimed never executes.
 */

const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);
const PRIORITY_OF_DOOMED: readonly Priority[] = ['normal', 'urgent', 'background'];

interface Outcome {
  readonly entered: string[];
  readonly doomed: RunRecord | undefined;
  readonly cancelledEvents: string[];
  readonly completed: string[];
}

function jobFlow(entered: string[], gate?: Promise<void>) {
  return defineFlow('job', async (ctx, input: { name: string }) => {
    entered.push(input.name);
    if (input.name === 'blocker' && gate) await ctx.step('wait', () => gate);
    return ctx.step('work', () => input.name);
  });
}

/** A pure client records the run and the drop; then an owner starts and claims the key. */
async function clientThenOwner(seed: number): Promise<Outcome> {
  const store = reorderingStore(memoryStore(), { seed });
  const clock = virtualClock(0);
  const entered: string[] = [];
  const job = jobFlow(entered);
  const client = createKernel({ store, flows: [job], clock, random: seededRandom(seed), wake: null });
  const owner = createKernel({ store, flows: [job], clock, random: seededRandom(seed + 1_000), pollIntervalMs: 60_000, wake: null });
  const priority = PRIORITY_OF_DOOMED[seed % PRIORITY_OF_DOOMED.length]!;
  const doomed = await client.submit({ key: 'repo:a', flow: 'job', input: { name: 'doomed' }, priority });
  const next = await client.submit({ key: 'repo:a', flow: 'job', input: { name: 'next' } });
  const other = await client.submit({ key: 'repo:b', flow: 'job', input: { name: 'other' } });
  const cancelledEvents: string[] = [];
  const completed: string[] = [];
  owner.on('run:cancelled', (e) => cancelledEvents.push(e.runId));
  owner.on('run:completed', (e) => completed.push(e.runId));
  // The drop is recorded first; then the owner starts, scans, acquires the key and claims it.
  expect(await client.cancel(doomed.id, { mode: 'abort-drop' })).toBe('queued');
  await owner.start();
  await Promise.all([owner.handle(next.id).result(), owner.handle(other.id).result()]);
  await expect(owner.handle(doomed.id).result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
  const record = await store.getRun(doomed.id);
  await owner.stop();
  return { entered, doomed: record, cancelledEvents: cancelledEvents.filter((id) => id === doomed.id), completed };
}

/**
 * The key is busy; the doomed run waits behind the active one (an urgent doomed run may first
 * preempt it: the blocker is then parked and resumed). The drop is recorded, then the active run
 * finishes and the runtime claims the key's next run through the reordering store.
 */
async function busyKey(seed: number): Promise<Outcome> {
  const store = reorderingStore(memoryStore(), { seed });
  const clock = virtualClock(0);
  const entered: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const job = jobFlow(entered, gate);
  const owner = createKernel({ store, flows: [job], clock, random: seededRandom(seed), pollIntervalMs: 60_000, wake: null });
  const cancelledEvents: string[] = [];
  const completed: string[] = [];
  owner.on('run:cancelled', (e) => cancelledEvents.push(e.runId));
  owner.on('run:completed', (e) => completed.push(e.runId));
  await owner.start();
  const blocker = await owner.submit({ key: 'repo:a', flow: 'job', input: { name: 'blocker' } });
  await owner.once('run:started', (e) => e.runId === blocker.id);
  const priority = PRIORITY_OF_DOOMED[seed % PRIORITY_OF_DOOMED.length]!;
  const doomed = await owner.submit({ key: 'repo:a', flow: 'job', input: { name: 'doomed' }, priority });
  const next = await owner.submit({ key: 'repo:a', flow: 'job', input: { name: 'next' } });
  expect(await owner.cancel(doomed.id, { mode: 'abort-drop' })).toBe('queued');
  release();
  await Promise.all([owner.handle(blocker.id).result(), owner.handle(next.id).result()]);
  await expect(owner.handle(doomed.id).result()).rejects.toMatchObject({ status: 'cancelled', code: 'cancelled' });
  const record = await store.getRun(doomed.id);
  await owner.stop();
  return { entered, doomed: record, cancelledEvents: cancelledEvents.filter((id) => id === doomed.id), completed };
}

describe('abort-drop of a queued run racing the claim (reorderingStore, seeds 1..100)', () => {
  it('a run dropped by a pure client before the owner claims never executes, whatever order the store applies calls in', async () => {
    const failures: string[] = [];
    for (const seed of SEEDS) {
      const o = await clientThenOwner(seed);
      if (o.entered.includes('doomed')) failures.push(`seed ${seed}: the dropped run's flow was entered (${o.entered.join(', ')})`);
      if (o.doomed?.status !== 'cancelled' || o.doomed.error?.code !== 'cancelled')
        failures.push(`seed ${seed}: dropped run ended ${o.doomed?.status} (${o.doomed?.error?.code})`);
      if (o.doomed?.attempts !== 0) failures.push(`seed ${seed}: dropped run was claimed ${o.doomed?.attempts} time(s)`);
      if (o.cancelledEvents.length !== 1) failures.push(`seed ${seed}: ${o.cancelledEvents.length} run:cancelled events`);
      if ([...o.entered].sort().join() !== 'next,other') failures.push(`seed ${seed}: entered ${o.entered.join(', ')}`);
    }
    expect(failures).toEqual([]);
  });

  it('a run dropped while the run ahead of it finishes never executes, and the run behind it does', async () => {
    const failures: string[] = [];
    for (const seed of SEEDS) {
      const o = await busyKey(seed);
      if (o.entered.includes('doomed')) failures.push(`seed ${seed}: the dropped run's flow was entered (${o.entered.join(', ')})`);
      if (o.doomed?.status !== 'cancelled' || o.doomed.error?.code !== 'cancelled')
        failures.push(`seed ${seed}: dropped run ended ${o.doomed?.status} (${o.doomed?.error?.code})`);
      if (o.doomed?.attempts !== 0) failures.push(`seed ${seed}: dropped run was claimed ${o.doomed?.attempts} time(s)`);
      if (o.cancelledEvents.length !== 1) failures.push(`seed ${seed}: ${o.cancelledEvents.length} run:cancelled events`);
      if ([...new Set(o.entered)].join() !== 'blocker,next') failures.push(`seed ${seed}: entered ${o.entered.join(', ')}`);
      if (o.completed.length !== 2) failures.push(`seed ${seed}: ${o.completed.length} runs completed`);
    }
    expect(failures).toEqual([]);
  });
});
