import type { Store } from '../../ports/store.js';
import { systemClock } from '../../platform/system-clock.js';
import type { Kernel } from '../../runtime/kernel.js';
import type { WorkerStatus } from '../supervisor.js';
import type { HoldfastClient } from './holdfast-client.js';
import { storeClient } from './store-client.js';

/**
 * The client the daemon's admin API serves from: its own store and kernel, with the supervisor's
 * view of its worker processes added to the status.
 */
export function daemonClient(options: { store: Store; kernel: Kernel; workers: () => readonly WorkerStatus[] }): HoldfastClient {
  const base = storeClient({ store: options.store, kernel: options.kernel, clock: systemClock });
  return {
    ...base,
    async status() {
      const status = await base.status();
      const workers = options.workers();
      return workers.length ? { ...status, workers } : status;
    },
  };
}
