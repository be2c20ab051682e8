import type { Epoch, Key } from '../model/index.js';

/**
 * Keeps a kernel's owner leases renewed (K1, K10) and tells the kernel, at any instant, until when
 * each lease is *proven* live: the monotonic time at which its last successful renewal started,
 * plus the TTL, minus a safety margin. Another owner can take a key over only after its lease
 * expired in the store, which is never before that deadline, so a runtime that acts only while
 * `provenUntil() > now()` never acts beside another owner of its key.
 *
 * A keeper that runs on a thread of its own keeps renewing while the kernel's event loop is
 * blocked, but only while the loop is merely slow: once no `heartbeat()` has arrived for
 * `hungAfterMs`, it stops renewing so that a hung owner's keys pass to another owner when their
 * leases expire.
 *
 * Process dies: nothing renews any more; the leases expire after their TTL (or are taken over at
 * once by a kernel on the same host that sees the process is gone).
 */
export interface LeaseKeeper {
  /** Monotonic milliseconds on the keeper's clock: what `provenUntil` is measured on. */
  now(): number;
  /**
   * Starts renewing a lease acquired by a call that started at monotonic `acquiredAt` (so the
   * first deadline is `acquiredAt + ttl - margin`, before the store's expiry).
   */
  keep(lease: { readonly key: Key; readonly epoch: Epoch }, acquiredAt: number): KeptLease;
  /** The kernel's event loop is alive. Called from a timer on that loop. */
  heartbeat(): void;
  /** Stops renewing everything. Leases are not released (the kernel releases what it holds). */
  close(): Promise<void>;
}

/** One lease being kept. */
export interface KeptLease {
  /** Monotonic time until which the lease is proven live; `-Infinity` once it is known lost. */
  provenUntil(): number;
  /** Stop renewing this lease (its runtime exited or released it). */
  release(): void;
}

export interface LeaseKeeperOptions {
  readonly ownerId: string;
  /** Lease length written at each renewal. */
  readonly ttlMs: number;
  /** How often leases are renewed. */
  readonly renewEveryMs: number;
  /** How long before the store's expiry a lease stops counting as proven. */
  readonly marginMs: number;
  /** After this long without a heartbeat the event loop is taken as hung and renewal stops. */
  readonly hungAfterMs: number;
  /** A renewal found the lease gone (taken over, or released by someone holding the fence). */
  readonly onLost: (key: Key, epoch: Epoch) => void;
  /** The keeper stopped (true) or resumed (false) renewing because the event loop looked hung. */
  readonly onHung?: (hung: boolean) => void;
  /** A renewal could not be written (the store is unavailable); proofs age until one succeeds. */
  readonly onRenewFailed?: (error: Error) => void;
  /** The keeper itself died: nothing renews any more, every proof lapses. */
  readonly onFailed?: (error: Error) => void;
}

/**
 * What a store provides for a keeper thread: a module (by URL, loaded inside the thread) whose
 * `openOwnerRenewer(options)` opens a connection of the thread's own to the store.
 */
export interface OwnerRenewerModule {
  /** A `file:` URL of the module. */
  readonly module: string;
  /** Plain data handed to `openOwnerRenewer` in the thread (a path, a connection string). */
  readonly options: unknown;
}

/** A store connection owned by a keeper thread. Blocking calls are fine there. */
export interface OwnerRenewer {
  /**
   * Extends each lease `ownerId` still holds at its epoch to `now + ttlMs`, in one transaction;
   * `renewed[i]` says whether `leases[i]` was. Throws when the store is unavailable.
   */
  renew(request: {
    readonly ownerId: string;
    readonly leases: readonly { readonly key: Key; readonly epoch: Epoch }[];
    readonly now: number;
    readonly ttlMs: number;
  }): { readonly renewed: readonly boolean[] } | Promise<{ readonly renewed: readonly boolean[] }>;
  close(): void | Promise<void>;
}
