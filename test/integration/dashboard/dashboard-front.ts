// Where the browser tests open the dashboard: the daemon itself when it serves the page at `/`,
// otherwise (or with `alwaysProxy`) a server in the test process that serves the dashboard routes
// and passes /v1/* through to the daemon, streams included. Its target can be moved, so a page
// can outlive a daemon restart on another port.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createDashboardRoutes } from '../../../src/daemon/dashboard/dashboard-routes.js';

export interface DashboardFront {
  readonly url: string;
  /** Sends /v1/* to another daemon from now on. */
  retarget(daemonUrl: string): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length'];

export async function frontFor(daemonUrl: string, options: { alwaysProxy?: boolean } = {}): Promise<DashboardFront> {
  if (!options.alwaysProxy && (await servesDashboard(daemonUrl))) {
    return { url: daemonUrl, retarget: () => undefined, close: async () => undefined };
  }
  let target = daemonUrl;
  const app = new Hono();
  app.route('/', createDashboardRoutes());
  app.all('/v1/*', async (c) => {
    const url = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    const method = c.req.method;
    try {
      const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer(),
        signal: c.req.raw.signal,
      });
      const answer = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) answer.delete(name);
      return new Response(upstream.body && endQuietly(upstream.body), { status: upstream.status, headers: answer });
    } catch (error) {
      return c.json({ error: { code: 'daemon_unreachable', message: `the daemon did not answer: ${(error as Error).message}` } }, 502);
    }
  });
  const { server, url } = await new Promise<{ server: ServerType; url: string }>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}` }),
    );
  });
  return {
    url,
    retarget: (next) => {
      target = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The same bytes, ending the stream instead of failing it when the daemon or the browser goes away mid-stream. */
function endQuietly(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason).catch(() => undefined),
  });
}

async function servesDashboard(daemonUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${daemonUrl}/`);
    await response.body?.cancel();
    return response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html');
  } catch {
    return false;
  }
}
