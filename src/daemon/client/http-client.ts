import { AdminApiError, DaemonUnreachableError, InvalidInputError, UnauthorizedError } from '../../errors.js';
import type { LaneStatus } from '../../lanes/service.js';
import type { CancelMode, EffectRecord, RunId, RunRecord } from '../../model/index.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../platform/system-clock.js';
import type { SubmitOptions } from '../../runtime/submit-command.js';
import type { AcceptedCommand } from '../command-sink.js';
import type {
  CompactedJournal,
  EventPage,
  EventQuery,
  HoldfastClient,
  HoldfastStatus,
  OperatorOutcome,
  OutboxQuery,
  RunDetail,
  RunListQuery,
} from './holdfast-client.js';

export interface HttpClientOptions {
  /** The admin API's base URL (`http://127.0.0.1:7420`); a trailing `/` is ignored. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when given. */
  readonly token?: string;
  /** How long one request may take before it is abandoned (default 30 000 ms). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

type Query = Readonly<Record<string, string | number | undefined>>;

/**
 * The client over the admin API of `holdfast serve` (`--url`). Every call is one HTTP request;
 * what a request changes is decided and made durable by the server before it answers, so a call
 * that failed on the way back (connection lost, timed out) may have been applied: submitting again
 * with the same idempotence key, cancelling or retrying again is safe. Errors: the server's typed
 * errors as `AdminApiError` with its code, `unauthorized` for a 401, `daemon_unreachable` when
 * nothing answers at the URL.
 */
export function httpClient(options: HttpClientOptions): HoldfastClient {
  const base = parseBase(options.url);
  const send = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request<T>(method: 'GET' | 'POST', path: string, query: Query = {}, body?: unknown): Promise<T> {
    const url = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const abort = new AbortController();
    const timer = clock.setTimer(timeoutMs, () => abort.abort());
    const what = `${method} ${url.pathname}`;
    let response: Response;
    let text: string;
    try {
      response = await send(url, {
        method,
        headers,
        signal: abort.signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      text = await response.text();
    } catch (error) {
      const detail = abort.signal.aborted ? `no answer to ${what} within ${timeoutMs} ms` : networkDetail(error);
      throw new DaemonUnreachableError(base.href, detail, error);
    } finally {
      timer.cancel();
    }
    if (!response.ok) throw responseError(response, text, what, options.token !== undefined, base.href);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AdminApiError(
        'invalid_response',
        `${what} at ${base.href} did not answer JSON; is that holdfast serve's admin API?`,
        response.status,
      );
    }
  }

  const runPath = (idOrPrefix: string) => `/v1/runs/${encodeURIComponent(idOrPrefix)}`;
  return {
    source: base.href,
    status: () => request<HoldfastStatus>('GET', '/v1/status'),
    async listRuns(query: RunListQuery = {}) {
      const status = query.status && query.status.length > 0 ? query.status.join(',') : undefined;
      return (await request<{ runs: RunRecord[] }>('GET', '/v1/runs', { key: query.key, status, limit: query.limit })).runs;
    },
    getRun: (idOrPrefix: string) => request<RunDetail>('GET', runPath(idOrPrefix)),
    async resolveRunId(prefix: string): Promise<RunId> {
      return (await request<RunDetail>('GET', runPath(prefix))).id;
    },
    submit: (command: SubmitOptions) => request<AcceptedCommand>('POST', '/v1/commands', {}, command),
    cancel: (idOrPrefix: string, mode: CancelMode = 'abort-drop') =>
      request<OperatorOutcome>('POST', `${runPath(idOrPrefix)}/cancel`, {}, { mode }),
    retry: (idOrPrefix: string) => request<OperatorOutcome>('POST', `${runPath(idOrPrefix)}/retry`, {}, {}),
    async outbox(query: OutboxQuery = {}) {
      const status = query.status === undefined ? undefined : query.status.length === 0 ? 'all' : query.status.join(',');
      return (await request<{ effects: EffectRecord[] }>('GET', '/v1/outbox', { status, limit: query.limit })).effects;
    },
    async lanes() {
      return (await request<{ leases: LaneStatus[] }>('GET', '/v1/lanes')).leases;
    },
    events: (query: EventQuery) => request<EventPage>('GET', '/v1/events', { after: query.after, limit: query.limit }),
    compactJournal: (olderThanMs: number) => request<CompactedJournal>('POST', '/v1/journal/compact', {}, { olderThanMs }),
    close: async () => undefined,
  };
}

function parseBase(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`--url "${url}" is not a URL; pass the admin API's address, like http://127.0.0.1:7420`, 'invalid_url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError(`--url "${url}" must be an http:// or https:// address`, 'invalid_url');
  }
  if (!parsed.pathname.endsWith('/')) parsed.pathname = `${parsed.pathname}/`;
  return parsed;
}

/** An answer that is not 2xx as a typed error: the server's own `{error:{code,message}}` where it sent one. */
function responseError(response: Response, text: string, what: string, hadToken: boolean, base: string): Error {
  if (response.status === 401) {
    return new UnauthorizedError(
      hadToken
        ? `the admin API at ${base} refused the token; check --token or HOLDFAST_ADMIN_TOKEN`
        : `the admin API at ${base} needs a token; pass --token or set HOLDFAST_ADMIN_TOKEN`,
    );
  }
  let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const code = parsed?.error?.code;
  const message = parsed?.error?.message;
  if (typeof code === 'string' && typeof message === 'string') return new AdminApiError(code, message, response.status);
  if (response.status === 404) {
    return new AdminApiError('not_found', `${what} answered 404 at ${base}: is that the address of holdfast serve's admin API?`, 404);
  }
  return new AdminApiError('http_error', `${what} answered ${response.status} ${response.statusText} at ${base}`, response.status);
}

function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
