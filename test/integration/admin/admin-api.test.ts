import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from 'holdfast';
import { createAdminRoutes } from '../../../src/daemon/admin/admin-routes.js';
import type { HoldfastClient } from '../../../src/daemon/client/holdfast-client.js';
import type { NewFeedEvent } from '../../../src/ports/event-feed.js';
import { daemonStyleClient, seedDatabase, serveApp, tempDir, type SeededDatabase } from '../cli/cli-harness.js';

const TOKEN = 's3cret-admin-token';

interface Answer {
  readonly status: number;
  readonly body: { error?: { code: string; message: string; candidates?: string[] } } & Record<string, unknown>;
  readonly headers: Headers;
}

describe('admin API', () => {
  let seeded: SeededDatabase;
  let server: { url: string; close(): Promise<void> };
  let client: HoldfastClient;
  let feedReads = 0;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; token?: string | null } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
  }

  const events = (n: number, from = 0): NewFeedEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      at: 1_000 + from + i,
      type: 'step:committed',
      runId: 'r',
      key: 'repo:x',
      data: { i: from + i },
    }));

  beforeAll(async () => {
    seeded = await seedDatabase(join(tempDir('hf-admin-'), 'state.db'));
    const inner = daemonStyleClient(seeded);
    client = {
      ...inner,
      events: (query) => {
        feedReads += 1;
        return inner.events(query);
      },
    };
    const app = createAdminRoutes({ client, adminToken: TOKEN, eventStream: { pollMs: 20, keepAliveMs: 60 } });
    server = await serveApp(app);
  });
  afterAll(async () => {
    await server.close();
    await seeded.stop();
  });

  it('every /v1 route needs the bearer token: 401 JSON without it or with a wrong one', async () => {
    for (const token of [null, 'wrong', `${TOKEN}x`]) {
      const answer = await call('GET', '/v1/status', { token });
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('unauthorized');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call('POST', '/v1/commands', { token: null, body: { key: 'k', flow: 'ok' } })).status).toBe(401);
    expect((await call('GET', '/v1/nothing-here', { token: null })).status).toBe(401);
    expect((await call('GET', '/v1/status')).status).toBe(200);
  });

  it('GET /v1/status, /v1/runs (filters), /v1/runs/:id (prefix), /v1/outbox, /v1/lanes', async () => {
    const status = await call('GET', '/v1/status');
    expect(status.body).toMatchObject({ totals: { keys: 2, running: 1 } });
    const failed = await call('GET', '/v1/runs?status=failed,cancelled&limit=5');
    expect((failed.body.runs as { id: string }[]).map((r) => r.id).sort()).toEqual([seeded.runs.failed, seeded.runs.cancelled].sort());
    const ofKey = await call('GET', '/v1/runs?key=repo:d');
    expect((ofKey.body.runs as unknown[]).length).toBe(3);
    const run = await call('GET', `/v1/runs/${seeded.runs.parent.slice(0, 8)}`);
    expect([run.status, run.body.id, (run.body.children as unknown[]).length]).toEqual([200, seeded.runs.parent, 1]);
    const ambiguous = await call('GET', '/v1/runs/0000000');
    expect([ambiguous.status, ambiguous.body.error?.code]).toEqual([409, 'run_id_ambiguous']);
    expect(ambiguous.body.error?.candidates).toContain(seeded.runs.completed);
    const missing = await call('GET', '/v1/runs/ffff');
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'run_not_found']);
    const outbox = await call('GET', '/v1/outbox?status=delivered');
    expect((outbox.body.effects as { key: string }[]).map((e) => e.key)).toEqual(['reply:7']);
    expect((await call('GET', '/v1/outbox?status=all')).body.effects).toHaveLength(1);
    expect(await call('GET', '/v1/lanes')).toMatchObject({ status: 200, body: { leases: [] } });
  });

  it('bad query parameters are 400 naming the parameter', async () => {
    const badStatus = await call('GET', '/v1/runs?status=sleeping');
    expect([badStatus.status, badStatus.body.error?.message]).toEqual([
      400,
      expect.stringContaining('query parameter "status" has "sleeping"'),
    ]);
    const badLimit = await call('GET', '/v1/runs?limit=-3');
    expect([badLimit.status, badLimit.body.error?.message]).toEqual([
      400,
      expect.stringContaining('query parameter "limit" must be an integer'),
    ]);
    expect((await call('GET', '/v1/outbox?status=lost')).status).toBe(400);
    expect((await call('GET', '/v1/events?after=x')).status).toBe(400);
  });

  it('POST /v1/commands: 202 {runId, created} once durable; idempotent; validation errors name the field', async () => {
    const first = await call('POST', '/v1/commands', { body: { key: 'repo:api', flow: 'ok', input: { n: 2 }, idempotencyKey: 'api-1' } });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ runId: expect.any(String), created: true });
    expect(await seeded.store.getRun(first.body.runId as string)).toMatchObject({ key: 'repo:api', flow: 'ok', idempotencyKey: 'api-1' });
    const again = await call('POST', '/v1/commands', { body: { key: 'repo:api', flow: 'ok', input: { n: 2 }, idempotencyKey: 'api-1' } });
    expect([again.status, again.body]).toEqual([202, { runId: first.body.runId, created: false }]);
    const conflict = await call('POST', '/v1/commands', { body: { key: 'repo:api', flow: 'bad', idempotencyKey: 'api-1' } });
    expect([conflict.status, conflict.body.error?.code]).toEqual([409, 'idempotency_conflict']);
    const unknown = await call('POST', '/v1/commands', { body: { key: 'repo:api', flow: 'nope' } });
    expect([unknown.status, unknown.body.error?.code]).toEqual([400, 'unknown_flow']);
    const urgent = await call('POST', '/v1/commands', {
      body: { key: 'repo:api2', flow: 'ok', priority: 'urgent', preempt: 'abort-keep', deadlineMs: 60_000 },
    });
    expect(urgent.status).toBe(202);

    const cases: [unknown, string][] = [
      [{ flow: 'ok' }, 'field "key": expected a string'],
      [{ key: '  ', flow: 'ok' }, 'field "key": expected a non-empty string'],
      [{ key: 'k' }, 'field "flow"'],
      [{ key: 'k', flow: 'ok', priority: 'asap' }, 'field "priority": expected one of urgent, normal, background'],
      [{ key: 'k', flow: 'ok', preempt: 'yank' }, 'field "preempt": expected one of steal, abort-keep, abort-drop'],
      [{ key: 'k', flow: 'ok', deadlineMs: -5 }, 'field "deadlineMs": expected a positive integer number of milliseconds'],
      [{ key: 'k', flow: 'ok', idempotencyKey: 7 }, 'field "idempotencyKey"'],
      [{ key: 'k', flow: 'ok', bogus: 1 }, 'unknown field "bogus"'],
      [[1, 2], 'the body: '],
      [{ key: 'k', flow: 'ok', preempt: 'steal' }, 'preempt` only applies to urgent commands'],
    ];
    for (const [body, message] of cases) {
      const answer = await call('POST', '/v1/commands', { body });
      expect([answer.status, answer.body.error?.message], JSON.stringify(body)).toEqual([400, expect.stringContaining(message)]);
    }
    const shape = await call('POST', '/v1/commands', { body: { flow: 'ok' } });
    expect(shape.body.error?.message).toContain('expected {"key": string, "flow": string');
    const notJson = await call('POST', '/v1/commands', { raw: '{"key":' });
    expect([notJson.status, notJson.body.error?.code]).toEqual([400, 'invalid_json']);
    const empty = await call('POST', '/v1/commands', { raw: '' });
    expect([empty.status, empty.body.error?.code]).toEqual([400, 'invalid_request']);
    // On a server of its own: the server closes a connection whose body it refused to read.
    const own = await serveApp(createAdminRoutes({ client, adminToken: TOKEN }));
    try {
      const huge = await fetch(`${own.url}/v1/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'k', flow: 'ok', input: 'x'.repeat(1_100_000) }),
      });
      expect([huge.status, ((await huge.json()) as Answer['body']).error?.code]).toEqual([413, 'body_too_large']);
    } finally {
      await own.close();
    }
  });

  it('POST cancel and retry: {runId, status}; bad mode 400, not retryable 409, unknown 404', async () => {
    const badMode = await call('POST', `/v1/runs/${seeded.runs.running}/cancel`, { body: { mode: 'steal' } });
    expect([badMode.status, badMode.body.error?.message]).toEqual([
      400,
      expect.stringContaining('field "mode": expected abort-drop or abort-keep'),
    ]);
    const cancelled = seeded.kernel.once('run:cancelled', (e) => e.runId === seeded.runs.running);
    const cancel = await call('POST', `/v1/runs/${seeded.runs.running.slice(0, 8)}/cancel`, { raw: '' });
    expect([cancel.status, cancel.body]).toEqual([200, { runId: seeded.runs.running, status: 'running' }]);
    await cancelled;
    const retry = await call('POST', `/v1/runs/${seeded.runs.running}/retry`);
    expect([retry.status, retry.body]).toEqual([200, { runId: seeded.runs.running, status: 'queued' }]);
    const completed = await call('POST', `/v1/runs/${seeded.runs.completed}/retry`);
    expect([completed.status, completed.body.error?.code]).toEqual([409, 'run_not_retryable']);
    expect((await call('POST', '/v1/runs/ffff/cancel')).status).toBe(404);
  });

  it('POST /v1/journal/compact: totals; olderThanMs is required', async () => {
    expect(await call('POST', '/v1/journal/compact', { body: { olderThanMs: 86_400_000 } })).toMatchObject({
      status: 200,
      body: { runs: 0 },
    });
    const missing = await call('POST', '/v1/journal/compact', { body: {} });
    expect([missing.status, missing.body.error?.message]).toEqual([400, expect.stringContaining('field "olderThanMs"')]);
  });

  it('unknown routes are 404 JSON', async () => {
    const answer = await call('GET', '/v1/nothing-here');
    expect([answer.status, answer.body.error?.code]).toEqual([404, 'not_found']);
    expect((await call('DELETE', '/v1/status')).status).toBe(404);
  });

  it("a store that is unavailable is 503 (retry), and a failure that is nobody's input is 500 JSON", async () => {
    const broken: HoldfastClient = {
      ...client,
      status: () => Promise.reject(new StoreUnavailableError('locked', 'sqlite:x', 'database is locked')),
      listRuns: () => Promise.reject(new Error('disk on fire')),
    };
    const other = await serveApp(createAdminRoutes({ client: broken }));
    try {
      const unavailable = await fetch(`${other.url}/v1/status`);
      expect([unavailable.status, ((await unavailable.json()) as Answer['body']).error?.code]).toEqual([503, 'store_unavailable']);
      const internal = await fetch(`${other.url}/v1/runs`);
      expect([internal.status, ((await internal.json()) as Answer['body']).error?.code]).toEqual([500, 'internal']);
    } finally {
      await other.close();
    }
  });

  describe('GET /v1/events', () => {
    let base = 0;
    beforeAll(async () => {
      base = (await seeded.store.readEvents({ after: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;
      await seeded.store.appendEvents(events(5));
    });

    it('as JSON pages: {events, next}', async () => {
      const first = await call('GET', `/v1/events?after=${base}&limit=3`);
      const page = first.body as unknown as { events: { seq: number; data: { i: number } }[]; next: number };
      expect(page.events.map((e) => e.data.i)).toEqual([0, 1, 2]);
      expect(page.next).toBe(page.events[2]!.seq);
      const rest = (await call('GET', `/v1/events?after=${page.next}&limit=100`)).body as unknown as typeof page;
      expect(rest.events.map((e) => e.data.i).slice(0, 2)).toEqual([3, 4]);
      const past = (await call('GET', '/v1/events?after=999999999')).body as unknown as typeof page;
      expect(past).toEqual({ events: [], next: 999999999 });
    });

    it('as server-sent events: id is the seq, Last-Event-ID resumes, new events arrive, keep-alives, stops on disconnect', async () => {
      const first = await openStream(`${server.url}/v1/events?after=${base}`);
      const firstFive = await first.until((frames) => frames.filter((f) => f.id !== undefined).length >= 5);
      const ids = firstFive.filter((f) => f.id !== undefined).map((f) => Number(f.id));
      expect(firstFive[0]).toMatchObject({ event: 'step:committed' });
      expect((JSON.parse(firstFive[0]!.data!) as { data: { i: number } }).data.i).toBe(0);
      await seeded.store.appendEvents(events(2, 100));
      await first.until((frames) => frames.some((f) => f.data?.includes('"i":101'))); // polled while connected
      const idle = await first.until((frames) => frames.some((f) => f.comment === 'keep-alive'));
      expect(idle.filter((f) => f.id !== undefined).map((f) => Number(f.id))).toEqual([...ids, ids[4]! + 1, ids[4]! + 2]);
      first.close();

      const resumed = await openStream(`${server.url}/v1/events?after=0`, { 'last-event-id': String(ids[2]) });
      const after = await resumed.until((frames) => frames.filter((f) => f.id !== undefined).length >= 4);
      expect(
        after
          .filter((f) => f.id !== undefined)
          .map((f) => (JSON.parse(f.data!) as { data: { i: number } }).data.i)
          .slice(0, 4),
      ).toEqual([3, 4, 100, 101]);
      resumed.close();

      await new Promise((resolve) => setTimeout(resolve, 100));
      const readsAfterClose = feedReads;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(feedReads - readsAfterClose).toBeLessThanOrEqual(1); // both streams stopped polling
    });
  });

  interface Frame {
    id?: string;
    event?: string;
    data?: string;
    comment?: string;
  }

  /** Reads an SSE response with fetch and a reader, frame by frame. */
  async function openStream(url: string, headers: Record<string, string> = {}) {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${TOKEN}`, ...headers },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const frames: Frame[] = [];
    let buffer = '';
    return {
      async until(done: (frames: Frame[]) => boolean): Promise<Frame[]> {
        while (!done(frames)) {
          const { value, done: ended } = await reader.read();
          if (ended) throw new Error('the event stream ended');
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame: Frame = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) frame.comment = line.slice(1).trim();
              else {
                const colon = line.indexOf(':');
                const field = line.slice(0, colon) as 'id' | 'event' | 'data';
                frame[field] = line.slice(colon + 1).trimStart();
              }
            }
            frames.push(frame);
          }
        }
        return frames;
      },
      close: () => abort.abort(),
    };
  }
});
