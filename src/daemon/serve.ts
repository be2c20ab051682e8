import { fileURLToPath } from 'node:url';
import { serve as listen, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../ports/logger.js';
import { systemClock } from '../platform/system-clock.js';
import { forkWorker } from '../platform/worker-process.js';
import type { Kernel } from '../runtime/kernel.js';
import { createAdminRoutes } from './admin/admin-routes.js';
import { createDashboardRoutes } from './dashboard/dashboard-routes.js';
import { createDaemonMetrics } from './metrics/daemon-metrics.js';
import type { CommandSink } from './command-sink.js';
import { createDaemonKernel, createClientKernel, openConfiguredStore, registerSchedules } from './daemon-kernel.js';
import { ConfigError } from './config-schema.js';
import { createHttpApp } from './http-app.js';
import { createCustomIngress } from './ingress/custom-ingress.js';
import { createGithubIngress } from './ingress/github-route.js';
import type { IngressLog } from './ingress/ingress-reply.js';
import { createJanitor } from './janitor.js';
import type { LoadedConfig } from './load-config.js';
import { Supervisor } from './supervisor.js';
import { daemonClient } from './client/daemon-client.js';

/** A started daemon. */
export interface Daemon {
  /** `http://HOST:PORT`, the port resolved when 0 was asked for. */
  readonly url: string;
  /**
   * The one teardown (S3): stop accepting HTTP, stop the janitor, stop the kernel (its runs are
   * parked or requeued with their committed steps, leases released) or the workers (each does the
   * same), close the store, close the remaining connections. Dies during: what was not finished is
   * in the store and recovered by the next start.
   */
  teardown(): Promise<void>;
}

export interface DaemonOptions {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  /** Overrides `http.port` (0 picks a free port). */
  readonly port?: number;
  /** The supervisor gave up on a crashing worker: the caller ends the process non-zero. */
  readonly onGiveUp: (message: string) => void;
}

const DEFAULT_PORT = 7420;
const BODY_LIMIT = 1024 * 1024;

/** The worker entry module beside this one (TypeScript when running from source). */
function workerModule(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/serve\.(ts|js)$/, (_, ext: string) => `worker-main.${ext}`);
}

/**
 * Starts `holdfast serve` from a loaded config: the store, the kernel in this process (or N
 * supervised workers), the janitor, and HTTP (webhook ingress, admin API, health). Resolves once
 * the kernel has started and the server listens; nothing is accepted before.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, file } = options.loaded;
  const { logger } = options;
  const { store } = openConfiguredStore(config);
  const workers = config.workers ?? 0;
  const kernel: Kernel = workers === 0 ? createDaemonKernel(config, store, logger) : createClientKernel(config, store, logger);
  let supervisor: Supervisor | undefined;
  const workerStatus = () => supervisor?.status() ?? [];
  // Metrics tail the event feed from its newest event: started first, they count the runs recovered at start.
  const metrics = createDaemonMetrics({ store, clock: systemClock, logger, kernel, workers: workers > 0 ? workerStatus : undefined });
  await metrics.start();
  if (workers === 0) {
    await kernel.start();
    await registerSchedules(kernel, config);
  } else {
    supervisor = new Supervisor({
      count: workers,
      spawn: (slot) => forkWorker(workerModule(), [file, String(slot)], process.env),
      clock: systemClock,
      logger,
      policy: {
        maxRestarts: config.supervisor?.maxRestarts ?? 5,
        windowMs: config.supervisor?.windowMs ?? 60_000,
        backoffMs: config.supervisor?.backoffMs ?? 500,
        maxBackoffMs: 30_000,
      },
      hungAfterMs: config.supervisor?.hungAfterMs ?? 30_000,
      killHung: config.supervisor?.killHung ?? false,
      onGiveUp: options.onGiveUp,
    });
    supervisor.start();
  }
  const janitor = createJanitor({ store, clock: systemClock, logger, intervalMs: config.janitor?.intervalMs ?? 60_000 });
  await janitor.start();

  const submit: CommandSink = async (command) => {
    const handle = await kernel.submit(command);
    if (handle.created) supervisor?.wake(command.key, command.priority === 'urgent');
    return { runId: handle.id, created: handle.created };
  };
  const bodyLimitBytes = config.ingress?.bodyLimitBytes ?? BODY_LIMIT;
  const log: IngressLog = (level, message, fields) => logger[level](message, fields);
  const routes: Hono[] = [];
  const github = config.ingress?.github;
  if (github?.secret)
    routes.push(
      createGithubIngress({
        secret: github.secret,
        routes: github.routes ?? {},
        botLogins: [...(github.botLogins ?? [])],
        bodyLimitBytes,
        submit,
        log,
      }),
    );
  if (config.ingress?.translators) routes.push(createCustomIngress(config.ingress.translators, { bodyLimitBytes, submit, log }));
  const client = daemonClient({ store, kernel, workers: workerStatus });
  routes.push(createAdminRoutes({ client, adminToken: config.adminToken, submit }));
  routes.push(metrics.routes(), createDashboardRoutes());
  const app = createHttpApp({
    routes,
    readiness: async () => {
      await store.listRuns({ limit: 1 });
      if (supervisor && !supervisor.ready()) return { ready: false, reason: 'workers are starting' };
      return { ready: true };
    },
    onError: (error, path) => logger.error('request failed', { path, error }),
  });

  const host = config.http?.host ?? '127.0.0.1';
  let bound: { server: ServerType; port: number };
  try {
    bound = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
      const server = listen({ fetch: app.fetch, hostname: host, port: options.port ?? config.http?.port ?? DEFAULT_PORT }, (info) =>
        resolve({ server, port: info.port }),
      );
      server.once('error', reject);
    });
  } catch (error) {
    await janitor.stop();
    await metrics.stop();
    if (supervisor) await supervisor.stop('SIGTERM', 5_000);
    else await kernel.stop({ timeoutMs: 5_000 });
    await store.close();
    throw new ConfigError(
      `cannot listen on ${host}:${options.port ?? config.http?.port ?? DEFAULT_PORT}: ${(error as Error).message}; pick another http.port or --port`,
    );
  }
  const { server, port } = bound;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('listening', { url, workers, store: store.description, config: file });

  return {
    url,
    async teardown() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await janitor.stop();
      await metrics.stop();
      if (supervisor) await supervisor.stop('SIGTERM', config.shutdown?.timeoutMs ?? 30_000);
      await kernel.stop({ timeoutMs: config.shutdown?.timeoutMs ?? 30_000 }); // a client kernel flushes its event feed
      await store.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
    },
  };
}
