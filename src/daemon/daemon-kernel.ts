import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { WakeMessage, WakeTransport } from '../ports/wake.js';
import { unixSocketWake } from '../platform/unix-socket-wake.js';
import { createKernel, type Kernel } from '../runtime/kernel.js';
import { sqliteStore } from '../stores/sqlite/sqlite-store.js';
import type { HoldfastConfig } from './config.js';
import { ConfigError } from './config-schema.js';

/**
 * Opens the config's store: the instance itself, or a SQLite file at the location (its directory
 * is created, as a daemon owns its state). A `postgres://` location is refused with a clear error
 * until the Postgres store exists.
 */
export function openConfiguredStore(config: HoldfastConfig): { store: Store } {
  if (typeof config.store !== 'string') return { store: config.store };
  if (/^postgres(ql)?:\/\//.test(config.store))
    throw new ConfigError(
      `store: ${config.store.replace(/:[^:@/]*@/, ':***@')} is a Postgres URL; this version stores in SQLite only: give a file path`,
    );
  if (/^[a-z]+:\/\//.test(config.store)) throw new ConfigError(`store: unsupported location ${config.store}; give a SQLite file path`);
  mkdirSync(dirname(config.store), { recursive: true });
  return { store: sqliteStore({ path: config.store }) };
}

/**
 * The wake transport of a daemon kernel: the store's default (unix sockets beside the SQLite
 * file), plus hints injected from outside (the daemon's IPC channel in a worker process), which
 * reach the kernel exactly as a wake message from another process would.
 */
export function wakeWithHints(store: Store, subscribe?: (deliver: (message: WakeMessage) => void) => void): WakeTransport | null {
  const inner = store.localDirectory ? unixSocketWake({ dir: store.localDirectory }) : null;
  if (!subscribe) return inner;
  return {
    async listen(onMessage) {
      subscribe(onMessage);
      if (inner) return inner.listen(onMessage);
      return { address: '', close: async () => {} };
    },
    send: (address, message) => (inner ? inner.send(address, message) : Promise.resolve(false)),
  };
}

/** The kernel a daemon (or one of its workers) runs: the config's flows and providers, the run-event feed on. */
export function createDaemonKernel(config: HoldfastConfig, store: Store, logger: Logger, wake: WakeTransport | null): Kernel {
  return createKernel({
    store,
    flows: config.flows,
    providers: config.providers,
    logger,
    wake,
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
