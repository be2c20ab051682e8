import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { InvalidInputError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../platform/system-clock.js';
import type { HoldfastClient } from '../client/holdfast-client.js';
import type { CommandSink } from '../command-sink.js';
import { traceContextOf } from '../trace-header.js';
import { requireBearerToken } from './admin-auth.js';
import { answerError, answerProblem } from './admin-errors.js';
import { effectStatusesParam, integerParam, parseCancel, parseCommand, parseCompact, runStatusesParam } from './admin-requests.js';
import { streamEvents, type EventStreamTiming } from './event-stream.js';
import { SharedFeedReader } from './shared-feed-reader.js';

export interface AdminRoutesOptions {
  /** What every route reads and acts through. */
  readonly client: HoldfastClient;
  /** When set, every /v1 route requires `Authorization: Bearer <adminToken>`. */
  readonly adminToken?: string;
  /** Where `POST /v1/commands` hands commands (the serving kernel's submit); default `client.submit`. */
  readonly submit?: CommandSink;
  /** The clock the event stream sleeps on (default: the system clock). */
  readonly clock?: Clock;
  readonly eventStream?: Partial<EventStreamTiming>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_LIMIT = 10_000;

/**
 * The admin API: JSON over HTTP on one `HoldfastClient`, as the CLI's `--url` expects.
 *
 *   GET  /v1/status                      keys, owners, epochs, mailboxes (HoldfastStatus)
 *   GET  /v1/runs?key=&status=&limit=    {runs}
 *   GET  /v1/runs/:id                    one run (id or unique prefix) with its timeline
 *   POST /v1/runs/:id/cancel {mode?}     {runId, status}
 *   POST /v1/runs/:id/retry              {runId, status}
 *   POST /v1/commands {key, flow, ...}   202 {runId, created}, answered once the command is durable
 *                                        (a W3C `traceparent` header is stored with the run: its spans continue that trace)
 *   GET  /v1/outbox?status=&limit=       {effects}
 *   GET  /v1/lanes                       {leases}
 *   POST /v1/journal/compact {olderThanMs} {runs, steps, bytes}
 *   GET  /v1/events?after=&limit=        {events, next}; server-sent events with Accept: text/event-stream
 *
 * Errors are `{error:{code,message}}`: 400 bad input (naming the field), 401 without the token,
 * 404 unknown run or route, 409 ambiguous prefix / not retryable / idempotency conflict, 413 a
 * body over 1 MiB, 503 store unavailable (retry). A client's fault is never a 5xx.
 */
export function createAdminRoutes(options: AdminRoutesOptions): Hono {
  const { client } = options;
  const clock = options.clock ?? systemClock;
  const timing: EventStreamTiming = { pollMs: 250, keepAliveMs: 15_000, ...options.eventStream };
  const submit: CommandSink = options.submit ?? ((command) => client.submit(command));
  const feed = new SharedFeedReader(client, clock, timing.pollMs);
  const app = new Hono();

  app.onError((error, c) => answerError(c, error));
  app.notFound((c) =>
    answerProblem(
      c,
      404,
      'not_found',
      `no route ${c.req.method} ${c.req.path}; the admin API is under /v1 (GET /v1/status, /v1/runs, ...)`,
    ),
  );
  if (options.adminToken !== undefined) app.use('/v1/*', requireBearerToken(options.adminToken));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => answerProblem(c, 413, 'body_too_large', `the request body is over ${MAX_BODY_BYTES} bytes`),
    }),
  );

  app.get('/v1/status', async (c) => c.json(await client.status()));
  app.get('/v1/runs', async (c) => {
    const runs = await client.listRuns({
      key: c.req.query('key') || undefined,
      status: runStatusesParam(c.req.query('status')),
      limit: integerParam('limit', c.req.query('limit'), 1, MAX_LIMIT, 100),
    });
    return c.json({ runs });
  });
  app.get('/v1/runs/:id', async (c) => c.json(await client.getRun(c.req.param('id'))));
  app.post('/v1/runs/:id/cancel', async (c) => {
    const { mode } = parseCancel(await jsonBody(c, true));
    return c.json(await client.cancel(c.req.param('id'), mode));
  });
  app.post('/v1/runs/:id/retry', async (c) => c.json(await client.retry(c.req.param('id'))));
  app.post('/v1/commands', async (c) => {
    const command = parseCommand(await jsonBody(c, false));
    return c.json(await submit({ ...command, ...traceContextOf(c.req.raw.headers) }), 202);
  });
  app.get('/v1/outbox', async (c) => {
    const effects = await client.outbox({
      status: effectStatusesParam(c.req.query('status')),
      limit: integerParam('limit', c.req.query('limit'), 1, MAX_LIMIT, 100),
    });
    return c.json({ effects });
  });
  app.get('/v1/lanes', async (c) => c.json({ leases: await client.lanes() }));
  app.post('/v1/journal/compact', async (c) => {
    const { olderThanMs } = parseCompact(await jsonBody(c, false));
    return c.json(await client.compactJournal(olderThanMs));
  });
  app.get('/v1/events', async (c) => {
    const lastEventId = c.req.header('last-event-id');
    const after = integerParam(
      lastEventId === undefined ? 'after' : 'Last-Event-ID',
      lastEventId ?? c.req.query('after'),
      0,
      Number.MAX_SAFE_INTEGER,
      0,
    );
    const limit = integerParam('limit', c.req.query('limit'), 1, 1000, 100);
    if ((c.req.header('accept') ?? '').includes('text/event-stream')) return streamEvents(c, feed, clock, timing, { after, limit });
    return c.json(await client.events({ after, limit }));
  });
  return app;
}

/** The request's JSON body; an empty body is `{}` where `emptyIsObject`, else a 400 naming the problem. */
async function jsonBody(c: Context, emptyIsObject: boolean): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (emptyIsObject) return {};
    throw new InvalidInputError('the request has no body; send a JSON object (Content-Type: application/json)', 'invalid_request');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidInputError(`the request body is not JSON (${(error as Error).message}); send a JSON object`, 'invalid_json');
  }
}
