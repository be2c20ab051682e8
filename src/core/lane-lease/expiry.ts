import type { Millis } from '../../model/run.js';
import type { LiveLease } from '../../model/lane.js';
import { isRunHolder } from './run-holder.js';

/**
 * Expiry (L6). A lease beaten within the grace window is live, whatever its process: acquiring
 * and exiting is the normal CLI shape. Past the grace, a holder process known dead on this host
 * reclaims it at once; otherwise it expires when its beat is older than its TTL plus the grace.
 * A lease a run holds (`ctx.lane`, holder `run:...`) is never reclaimed by its process's death:
 * the run outlives the process (another one recovers it and resumes the lease), so only its TTL
 * plus the grace expires it. Expiry is a read-time view for admission: the journal is not changed
 * by it, and `adopt` and the janitor still see expired leases. Pure: `now` and the liveness probe
 * are arguments.
 */

export interface ExpiryPolicy {
  readonly graceMinutes: number;
  /** TTL of a lease that declared none or a non-positive one. */
  readonly defaultTtlMinutes: number;
}

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = { graceMinutes: 5, defaultTtlMinutes: 50 };

/** `true` alive, `false` known gone, `undefined` cannot tell (never taken as death). */
export type ProcessProbe = (pid: number) => boolean | undefined;

export interface ExpiryContext {
  readonly now: Millis;
  /** The host this process runs on: a pid is only probed for leases taken on this host. */
  readonly host: string;
  readonly isProcessAlive: ProcessProbe;
  readonly policy?: ExpiryPolicy;
}

const MINUTE = 60_000;

export function isLeaseExpired(lease: LiveLease, ctx: ExpiryContext): boolean {
  const policy = ctx.policy ?? DEFAULT_EXPIRY_POLICY;
  const age = ctx.now - lease.beatAt;
  const grace = policy.graceMinutes * MINUTE;
  if (age <= grace) return false;
  if (lease.host === ctx.host && lease.pid > 0 && !isRunHolder(lease.holder) && ctx.isProcessAlive(lease.pid) === false) return true;
  return ctx.now >= leaseExpiresAt(lease, policy);
}

/**
 * The first instant at which a lease not beaten again is expired through its TTL (its last beat
 * + TTL + grace, + 1 ms): when a run refused by it wakes to ask again.
 */
export function leaseExpiresAt(lease: LiveLease, policy: ExpiryPolicy = DEFAULT_EXPIRY_POLICY): Millis {
  const ttl = lease.ttlMinutes > 0 ? lease.ttlMinutes : policy.defaultTtlMinutes;
  return lease.beatAt + Math.floor((ttl + policy.graceMinutes) * MINUTE) + 1;
}

/** The leases that are not expired (the admission view), in the order given. */
export function withoutExpired(leases: readonly LiveLease[], ctx: ExpiryContext): LiveLease[] {
  return leases.filter((l) => !isLeaseExpired(l, ctx));
}
