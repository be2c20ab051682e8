import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, execProvider, sqliteStore } from 'holdfast';
import type { FeedEvent } from '../../../src/ports/event-feed.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hf-feed-')), 'state.db');

/** Every feed event, paging by cursor. */
async function readAll(store: ReturnType<typeof sqliteStore>, runId?: string): Promise<FeedEvent[]> {
  const all: FeedEvent[] = [];
  for (let after = 0; ;) {
    const page = await store.readEvents({ after, limit: 50, ...(runId === undefined ? {} : { runId }) });
    if (page.length === 0) return all;
    all.push(...page);
    after = page.at(-1)!.seq;
  }
}

describe('the durable run-event feed of a kernel (real SQLite file)', () => {
  it('a flow run reads back as run:queued, run:started, step:committed..., run:completed, in order, with increasing seq', async () => {
    const path = fresh();
    const store = sqliteStore({ path });
    const flow = defineFlow('two-steps', async (ctx, input: { n: number }) => {
      const a = await ctx.step('double', () => input.n * 2);
      const b = await ctx.step('add', () => a + 1);
      return { b };
    });
    const kernel = createKernel({ store, flows: [flow], eventFeed: { flushMs: 10 } });
    await kernel.start();
    const handle = await kernel.submit({ key: 'repo:feed', flow: 'two-steps', input: { n: 20 } });
    expect(await handle.result()).toEqual({ b: 41 });
    await kernel.stop(); // flushes the feed
    await store.close();

    const reopened = sqliteStore({ path });
    try {
      const events = await readAll(reopened, handle.id);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => ['run:queued', 'run:started', 'step:committed', 'run:completed'].includes(t))).toEqual([
        'run:queued',
        'run:started',
        'step:committed',
        'step:committed',
        'run:completed',
      ]);
      for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
      for (const e of events) expect([e.runId, e.key]).toEqual([handle.id, 'repo:feed']);
      expect(events.find((e) => e.type === 'run:queued')!.data).toMatchObject({ runId: handle.id, flow: 'two-steps', priority: 'normal' });
      expect(events.filter((e) => e.type === 'step:committed').map((e) => (e.data as { name: string }).name)).toEqual(['double', 'add']);
      expect(events.find((e) => e.type === 'run:completed')!.data).toMatchObject({ result: { b: 41 } });
      // Events without a run (owner:acquired ...) are in the feed too, outside the run filter.
      const everything = await readAll(reopened);
      expect(everything.length).toBeGreaterThan(events.length);
      expect(everything.map((e) => e.type)).toContain('owner:acquired');
    } finally {
      await reopened.close();
    }
  });

  it('without eventFeed a kernel appends nothing to the feed', async () => {
    const store = sqliteStore({ path: fresh() });
    const flow = defineFlow('one', async (ctx) => ctx.step('s', () => 1));
    const kernel = createKernel({ store, flows: [flow] });
    await kernel.start();
    await (await kernel.submit({ key: 'repo:x', flow: 'one', input: null })).result();
    await kernel.stop();
    expect(await store.readEvents({ after: 0, limit: 10 })).toEqual([]);
    await store.close();
  });

  it('a provider turn records its process group, ends the record when the group is gone, and its output reaches the feed cut to 4 KB', async () => {
    const store = sqliteStore({ path: fresh() });
    const script = "process.stdout.write('x'.repeat(10000)); process.stdout.write('\\ndone\\n');";
    const flow = defineFlow('talk', async (ctx) => ctx.turn('agent', 'hi'));
    const kernel = createKernel({
      store,
      flows: [flow],
      providers: { agent: execProvider({ argv: [process.execPath, '-e', script] }) },
      eventFeed: true,
    });
    await kernel.start();
    const ended = kernel.once('turn:process-ended');
    const handle = await kernel.submit({ key: 'repo:t', flow: 'talk', input: null });
    await handle.result();
    const { pgid } = await ended;
    await kernel.stop();
    const [record] = await store.listProcessGroups({});
    expect(record).toMatchObject({ pgid, ownerId: kernel.ownerId, pid: process.pid, runId: handle.id, key: 'repo:t' });
    expect(record!.endedAt).not.toBeNull();
    expect(await store.listProcessGroups({ open: true })).toEqual([]);
    const events = await readAll(store, handle.id);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['turn:process', 'turn:process-ended', 'turn:output']));
    for (const e of events.filter((x) => x.type === 'turn:output')) {
      const chunk = (e.data as { chunk: { data: string; truncated?: boolean; length?: number } }).chunk;
      expect(chunk.data.length).toBeLessThanOrEqual(4096);
      if (chunk.truncated) expect(chunk.length).toBeGreaterThan(4096);
    }
    await store.close();
  });
});
