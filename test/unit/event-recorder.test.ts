import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';
import type { Logger } from '../../src/ports/logger.js';
import { EventRecorder } from '../../src/runtime/event-recorder.js';
import { KernelEventEmitter } from '../../src/runtime/events.js';
import { advanceUntil, unreliable } from '../support/unreliable-store.js';

function capturingLogger() {
  const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) };
  return { logger, warnings };
}

function setup(options: { maxPending?: number; batchSize?: number } = {}) {
  const inner = memoryStore();
  const u = unreliable(inner);
  const clock = virtualClock(1_000);
  const events = new KernelEventEmitter();
  const { logger, warnings } = capturingLogger();
  const recorder = new EventRecorder({ store: u.store, clock, logger, flushMs: 50, ...options });
  recorder.attach(events);
  const queued = (n: number) => events.emit('run:queued', { runId: `r${n}`, key: 'repo:a', flow: 'f', priority: 'normal' });
  const feed = async () => (await inner.readEvents({ after: 0, limit: 100_000 })).map((e) => e.runId);
  return { inner, u, clock, events, recorder, warnings, queued, feed };
}

describe('EventRecorder: kernel events into the durable feed', () => {
  it('batches: nothing is appended before flushMs, then one append holds every event, in emit order', async () => {
    const t = setup();
    for (let n = 1; n <= 5; n++) t.queued(n);
    await t.clock.advance(49);
    expect(t.u.calls('appendEvents')).toBe(0);
    await t.clock.advance(1);
    expect(t.u.calls('appendEvents')).toBe(1);
    expect(await t.feed()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('batchSize queued events start the flush at once, one append per batch of at most batchSize', async () => {
    const t = setup({ batchSize: 4 });
    for (let n = 1; n <= 10; n++) t.queued(n);
    await t.clock.advance(0);
    expect(t.u.calls('appendEvents')).toBe(3); // 4 + 4 + 2
    expect(await t.feed()).toHaveLength(10);
    t.queued(11);
    await t.clock.advance(49);
    expect(t.u.calls('appendEvents')).toBe(3);
    await t.clock.advance(1);
    expect(t.u.calls('appendEvents')).toBe(4);
  });

  it('survives a store outage: the failed batch is kept and appended, in order, once the store is back; nothing is lost', async () => {
    const t = setup();
    for (let n = 1; n <= 3; n++) t.queued(n);
    t.u.state.down = true;
    await t.clock.advance(50);
    expect(t.u.calls('appendEvents')).toBe(1);
    for (let n = 4; n <= 6; n++) t.queued(n);
    await t.clock.advance(2_000); // retries with backoff, all failing
    const failedCalls = t.u.calls('appendEvents');
    expect(failedCalls).toBeGreaterThan(2);
    expect(failedCalls).toBeLessThan(12); // backoff, not one attempt every 50 ms
    expect(t.recorder.queued).toBe(6);
    t.u.state.down = false;
    await advanceUntil(t.clock, () => t.recorder.queued === 0, 10_000);
    expect(await t.feed()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(t.recorder.dropped).toBe(0);
    expect(t.warnings).toEqual([]);
    // Once recovered it batches at flushMs again.
    t.queued(7);
    const before = t.u.calls('appendEvents');
    await t.clock.advance(50);
    expect(t.u.calls('appendEvents')).toBe(before + 1);
  });

  it('a long outage keeps at most maxPending events, dropping the oldest with one counted warning', async () => {
    const t = setup({ maxPending: 5 });
    t.u.state.down = true;
    for (let n = 1; n <= 8; n++) t.queued(n);
    await t.clock.advance(500);
    t.queued(9);
    expect(t.recorder.dropped).toBe(4);
    expect(t.warnings.map((w) => w.message)).toEqual([expect.stringContaining('dropping the oldest')]);
    t.u.state.down = false;
    await advanceUntil(t.clock, () => t.recorder.queued === 0, 10_000);
    expect(await t.feed()).toEqual(['r5', 'r6', 'r7', 'r8', 'r9']);
    expect(t.warnings.at(-1)).toMatchObject({ message: expect.stringContaining('recording again'), fields: { dropped: 4 } });
  });

  it('an append that fails for another reason drops its batch with a warning and records what comes next', async () => {
    const t = setup();
    const failing = { ...t.inner, appendEvents: () => Promise.reject(new Error('disk on fire')) };
    const recorder = new EventRecorder({ store: failing, clock: t.clock, flushMs: 50, logger: { ...console, warn: () => {} } });
    recorder.record('kernel:hung', { hung: true });
    await t.clock.advance(50);
    expect(recorder.dropped).toBe(1);
    expect(recorder.queued).toBe(0);
  });

  it('turn:output: small chunks of one turn are coalesced, a chunk over 4 KB is cut and marked; kernel:error is not recorded', async () => {
    const t = setup();
    const ids = { runId: 'r1', key: 'repo:a', seq: 2 };
    t.events.emit('turn:output', { ...ids, chunk: { kind: 'text', data: 'hello ' } });
    t.events.emit('turn:output', { ...ids, chunk: { kind: 'text', data: 'world' } });
    t.events.emit('turn:output', { ...ids, chunk: { kind: 'stderr', data: 'warn' } });
    t.events.emit('turn:output', { ...ids, chunk: { kind: 'text', data: 'y'.repeat(10_000) } });
    t.events.emit('turn:output', { ...ids, chunk: { kind: 'json', data: { big: 'z'.repeat(5_000) } } });
    t.events.emit('kernel:error', { error: new Error('x'), context: 'test' });
    t.events.emit('run:failed', { runId: 'r1', key: 'repo:a', error: { code: 'boom', message: 'it broke' } });
    await t.clock.advance(50);
    const read = await t.inner.readEvents({ after: 0, limit: 100 });
    expect(read.map((e) => e.type)).toEqual(['turn:output', 'turn:output', 'turn:output', 'turn:output', 'run:failed']);
    const chunks = read.slice(0, 4).map((e) => (e.data as { chunk: Record<string, unknown> }).chunk);
    expect(chunks[0]).toEqual({ kind: 'text', data: 'hello world' });
    expect(chunks[1]).toEqual({ kind: 'stderr', data: 'warn' });
    expect(chunks[2]).toEqual({ kind: 'text', data: 'y'.repeat(4096), truncated: true, length: 10_000 });
    expect(chunks[3]).toMatchObject({ kind: 'json', truncated: true });
    expect((chunks[3]!.data as string).length).toBe(4096);
    expect(read[4]!.data).toEqual({ runId: 'r1', key: 'repo:a', error: { code: 'boom', message: 'it broke' } });
  });

  it('close() stops listening and flushes what is queued', async () => {
    const t = setup();
    t.queued(1);
    await t.recorder.close();
    expect(await t.feed()).toEqual(['r1']);
    t.queued(2);
    await t.clock.advance(100);
    expect(await t.feed()).toEqual(['r1']);
  });
});

describe('createKernel({ eventFeed })', () => {
  it('records the run into the feed; stop() flushes it; retainMs prunes old events', async () => {
    const store = memoryStore();
    const clock = virtualClock(1_000);
    const flow = defineFlow('one', async (ctx) => ctx.step('s', () => 1));
    const kernel = createKernel({ store, flows: [flow], clock, random: seededRandom(3), eventFeed: { flushMs: 1_000, retainMs: 30_000 } });
    await kernel.start();
    const handle = await kernel.submit({ key: 'repo:a', flow: 'one', input: null });
    let done = false;
    void handle.result().then(() => (done = true));
    await advanceUntil(clock, () => done, 500, 10);
    await kernel.stop();
    const types = (await store.readEvents({ after: 0, limit: 100, runId: handle.id })).map((e) => e.type);
    expect(types).toEqual(['run:queued', 'run:started', 'step:committed', 'run:completed']);

    const later = createKernel({ store, flows: [flow], clock, random: seededRandom(4), eventFeed: { retainMs: 30_000 } });
    await later.start();
    await clock.advance(60_000);
    expect(await store.readEvents({ after: 0, limit: 100, runId: handle.id })).toEqual([]);
    await later.stop();
  });

  it('rejects a bad eventFeed option', () => {
    expect(() => createKernel({ store: memoryStore(), flows: [], eventFeed: { flushMs: -1 } })).toThrow(/eventFeed.flushMs/);
  });
});
