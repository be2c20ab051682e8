import { Hono } from 'hono';

/** What `/readyz` asks: whether the store answers and the kernel (or every worker) has started. */
export type ReadinessProbe = () => Promise<{ readonly ready: boolean; readonly reason?: string }>;

/**
 * The daemon's HTTP surface: `/healthz` (the process is up and its event loop answers), `/readyz`
 * (store reachable, kernel started: 200, else 503 with the reason), then the given route groups
 * (webhook ingress, admin API). Unknown paths are 404 JSON; an error a route did not handle is a 500
 * JSON that names no internals, and is logged by `onError`.
 */
export function createHttpApp(options: {
  readiness: ReadinessProbe;
  routes: readonly Hono[];
  onError: (error: unknown, path: string) => void;
}): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const probe = await options.readiness().catch((error: unknown) => ({ ready: false, reason: String(error) }));
    return c.json({ ok: probe.ready, ...(probe.reason ? { reason: probe.reason } : {}) }, probe.ready ? 200 : 503);
  });
  for (const routes of options.routes) app.route('/', routes);
  app.notFound((c) =>
    c.json(
      { error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}; see the README for the daemon's endpoints` } },
      404,
    ),
  );
  app.onError((error, c) => {
    options.onError(error, c.req.path);
    return c.json({ error: { code: 'internal', message: 'the daemon failed to handle this request; its log says why' } }, 500);
  });
  return app;
}
