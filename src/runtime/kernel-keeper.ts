import type { Epoch, Key } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseKeeper, LeaseKeeperOptions } from '../ports/lease-keeper.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { systemClock } from '../platform/system-clock.js';
import type { KernelEventEmitter } from './events.js';
import { inLoopLeaseKeeper } from './in-loop-lease-keeper.js';
import type { KernelTiming } from './kernel-options.js';

export interface KernelKeeperDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: KernelEventEmitter;
  readonly ownerId: string;
  readonly timing: KernelTiming;
  readonly onLost: (key: Key, epoch: Epoch) => void;
  /** The keeper thread died: renewal moves to this event loop with the returned keeper. */
  readonly replace: (keeper: LeaseKeeper) => void;
}

/**
 * Opens a kernel's lease keeper (K10): the store's keeper thread where it offers one (and the clock
 * is the real one), else renewal from this event loop. If the thread dies later, its runtimes lapse
 * and give their keys up, and renewal continues from the event loop for new ones.
 */
export async function openKernelKeeper(deps: KernelKeeperDeps): Promise<LeaseKeeper> {
  const { store, clock, logger, events, timing } = deps;
  const options: LeaseKeeperOptions = {
    ownerId: deps.ownerId,
    ttlMs: timing.ttlMs,
    renewEveryMs: timing.renewEveryMs,
    marginMs: timing.marginMs,
    hungAfterMs: timing.hungAfterMs,
    onLost: deps.onLost,
    onHung: (hung) => {
      logger.warn(`holdfast: event loop ${hung ? 'silent' : 'back'}; lease renewal ${hung ? 'stopped' : 'resumed'}`, {
        hungAfterMs: timing.hungAfterMs,
      });
      events.emit('kernel:hung', { hung });
    },
    onRenewFailed: (error) => logger.warn('holdfast: owner lease renewal failed; retrying', { error: error.message }),
    onFailed: (error) => {
      events.emit('kernel:error', { error, context: 'lease keeper thread' });
      deps.replace(inLoopLeaseKeeper(store, clock, options));
    },
  };
  if (store.openLeaseKeeper && clock === systemClock) {
    try {
      return await store.openLeaseKeeper(options);
    } catch (error) {
      logger.warn('holdfast: no lease keeper thread; renewing owner leases from the event loop', { error: String(error) });
    }
  }
  return inLoopLeaseKeeper(store, clock, options);
}
