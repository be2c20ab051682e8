import type { Clock, TimerHandle } from '../ports/clock.js';
import type { KeptLease, LeaseKeeper, LeaseKeeperOptions } from '../ports/lease-keeper.js';
import type { Store } from '../ports/store.js';

/**
 * A LeaseKeeper that renews from the kernel's own event loop, on its injected clock: for stores
 * without a keeper thread (the memory store, which the deterministic harness runs on). Proofs
 * work the same as on a thread: a renewal that started at `t0` proves the lease until
 * `t0 + ttl - margin`. What it cannot do is renew while the loop is blocked, so a step that blocks
 * the loop past that deadline makes its runtime give the key up; the keeper thread exists for
 * exactly that (see `Store.openLeaseKeeper`).
 */
export function inLoopLeaseKeeper(store: Store, clock: Clock, options: LeaseKeeperOptions): LeaseKeeper {
  interface Entry {
    readonly key: string;
    readonly epoch: number;
    until: number;
    released: boolean;
  }
  const entries = new Set<Entry>();
  let timer: TimerHandle | undefined;
  let closed = false;

  const renew = async () => {
    const batch = [...entries];
    if (batch.length === 0) return;
    const startedAt = clock.monotonic();
    try {
      const { lost } = await store.renewOwners({
        ownerId: options.ownerId,
        leases: batch.map((e) => ({ key: e.key, epoch: e.epoch })),
        now: clock.now(),
        ttlMs: options.ttlMs,
      });
      const lostKeys = new Set(lost);
      for (const entry of batch) {
        if (entry.released) continue;
        if (lostKeys.has(entry.key)) {
          entry.until = -Infinity;
          entries.delete(entry);
          options.onLost(entry.key, entry.epoch);
        } else {
          entry.until = Math.max(entry.until, startedAt + options.ttlMs - options.marginMs);
        }
      }
    } catch (error) {
      options.onRenewFailed?.(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const arm = () => {
    timer = clock.setTimer(options.renewEveryMs, () => {
      void renew().finally(() => {
        if (!closed) arm();
      });
    });
  };
  arm();

  return {
    now: () => clock.monotonic(),
    keep(lease, acquiredAt): KeptLease {
      const entry: Entry = { key: lease.key, epoch: lease.epoch, until: acquiredAt + options.ttlMs - options.marginMs, released: false };
      entries.add(entry);
      return {
        provenUntil: () => (entry.released ? -Infinity : entry.until),
        release: () => {
          entry.released = true;
          entries.delete(entry);
        },
      };
    },
    heartbeat: () => undefined,
    async close() {
      closed = true;
      timer?.cancel();
    },
  };
}
