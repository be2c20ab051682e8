import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { WakeMessage, WakeTransport } from '../ports/wake.js';
import { systemClock, systemRandom } from '../platform/system-clock.js';
import { unixSocketWake } from '../platform/unix-socket-wake.js';
import { createKernel, type Kernel } from '../runtime/kernel.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import type { HoldfastConfig } from './config.js';
import { ConfigError } from './config-schema.js';
import { isPostgresUrl, openPostgresLocation } from './store-location.js';

/**
 * Opens the config's store: the instance itself, a Postgres database at a `postgres://` URL
 * (`?schema=` picks holdfast's schema), or a SQLite file at a path (its directory is created, as a
 * daemon owns its state).
 */
export function openConfiguredStore(config: HoldfastConfig): { store: Store } {
  if (typeof config.store !== 'string') return { store: config.store };
  if (isPostgresUrl(config.store)) return { store: openPostgresLocation(config.store) };
  if (/^[a-z]+:\/\//.test(config.store))
    throw new ConfigError(`store: unsupported location ${config.store}; give a SQLite file path or a postgres:// URL`);
  mkdirSync(dirname(config.store), { recursive: true });
  return { store: sqliteStore({ path: config.store }) };
}

/**
 * The wake transport of a daemon kernel: the store's default (Postgres `LISTEN/NOTIFY`, or unix
 * sockets beside the SQLite file), plus hints injected from outside (the daemon's IPC channel in
 * a worker process), which reach the kernel exactly as a wake message from another process would.
 * Without hints it returns undefined: the kernel then picks the store's default itself.
 */
export function wakeWithHints(
  store: Store,
  logger: Logger,
  subscribe?: (deliver: (message: WakeMessage) => void) => void,
): WakeTransport | undefined {
  if (!subscribe) return undefined;
  const dir = store.localDirectory;
  const inner = store.wakeTransport?.({ clock: systemClock, random: systemRandom, logger }) ?? (dir ? unixSocketWake({ dir }) : null);
  return {
    async listen(onMessage, onCatchUp) {
      subscribe(onMessage);
      if (inner) return inner.listen(onMessage, onCatchUp);
      return { address: '', close: async () => {} };
    },
    send: (address, message) => (inner ? inner.send(address, message) : Promise.resolve(false)),
  };
}

/** The kernel a daemon (or one of its workers) runs: the config's flows and providers, the run-event feed on. */
export function createDaemonKernel(config: HoldfastConfig, store: Store, logger: Logger, wake?: WakeTransport): Kernel {
  return createKernel({
    store,
    flows: config.flows,
    providers: config.providers,
    logger,
    ...(wake ? { wake } : {}),
    eventFeed: true,
    ...config.kernel,
  });
}

/** A kernel that is never started: the daemon's way to submit, cancel and retry when workers run the runs. */
export function createClientKernel(config: HoldfastConfig, store: Store, logger: Logger): Kernel {
  return createKernel({ store, flows: config.flows, logger, eventFeed: true });
}

/** Registers the config's schedules (idempotent: every kernel registers them at start). */
export async function registerSchedules(kernel: Kernel, config: HoldfastConfig): Promise<void> {
  for (const schedule of config.schedules ?? []) await kernel.schedule(schedule);
}
