import { InvalidInputError } from '../errors.js';
import type { Clock, Random } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Provider } from '../ports/provider.js';
import type { Store } from '../ports/store.js';
import type { WakeTransport } from '../ports/wake.js';
import type { Flow } from './flow.js';

export interface KernelOptions {
  readonly store: Store;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  readonly flows: readonly Flow<any, unknown>[];
  /** Providers that flows reach with `ctx.turn(name, ...)`. */
  readonly providers?: Readonly<Record<string, Provider>>;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  /** How many keys may execute a run at the same time (default 16). */
  readonly concurrency?: number;
  /**
   * Execution slots kept for urgent runs on top of `concurrency` (default: as many as
   * `concurrency`): an urgent command never waits for normal or background runs of other keys
   * to end (K5).
   */
  readonly urgentConcurrency?: number;
  /**
   * Owner lease length (default 15 000 ms). Leases are renewed every fifth of it, from a thread of
   * their own when the store offers one (SQLite), and a runtime stops acting on a key once it
   * cannot prove its lease live for another fifth of it (the safety margin).
   */
  readonly ownerTtlMs?: number;
  /**
   * How long the event loop may stay silent (a step that blocks it, a paused process) before the
   * kernel counts as hung: its lease renewal stops so another kernel can take its keys over once
   * the leases expire (default 60 000 ms). A loop that is merely slow, below this, keeps its keys.
   */
  readonly hungAfterMs?: number;
  /**
   * How long an interrupted run (preemption, cancel, stop, lost lease) may take to unwind before
   * the runtime abandons it, records its fate and moves on to the key's next run (default
   * 5 000 ms). An abandoned function may still be running in this process; nothing it does is
   * committed.
   */
  readonly interruptGraceMs?: number;
  /**
   * Safety-net scan for work this kernel was not told about (default 2 000 ms). Submits and
   * preemption reach an owner through `wake`, not through this poll.
   */
  readonly pollIntervalMs?: number;
  /**
   * How other processes wake this kernel and how it wakes them (K2). Default: the store's own
   * transport when it offers one (`store.wakeTransport`: Postgres `LISTEN/NOTIFY`, across hosts),
   * else unix sockets in the store's `localDirectory` (SQLite), else none. `null` turns it off. A
   * transport that reconnects after a drop makes the kernel re-read the store at once (catch-up).
   */
  readonly wake?: WakeTransport | null;
  /**
   * Retention (D5): the step journal of a run that ended more than `completedAfterMs` ago is
   * pruned (its summary and idempotence key stay), checked every minute (or every
   * `completedAfterMs`, if shorter). Off by default.
   */
  readonly retention?: { readonly completedAfterMs: number };
  /** Where runs' scratch directories go (default: `holdfast-scratch` beside the store's files). */
  readonly scratchRoot?: string;
  /**
   * For a kernel that is never started, a pure client (the CLI, an admin API in front of another
   * process's kernel): `submit` accepts any flow name, since the process that owns the key
   * registers its flows. The flow's own `deadlineMs` is not known here, so only a submit's
   * `deadlineMs` applies. Such a kernel refuses `start()`.
   */
  readonly acceptUnknownFlows?: boolean;
  /** Host identity and liveness probe, for taking over keys of dead local owners at once. */
  readonly host?: { readonly name: string; readonly pid: number; readonly isAlive: (pid: number) => boolean };
  /**
   * The durable run-event feed (`store.readEvents`, what the admin API, the CLI and the dashboard
   * read): with `true` or an object, every kernel event but `kernel:error` is appended to the store
   * in batches, at most `flushMs` (default 50) after it was emitted; `stop()` flushes what is
   * queued. With `retainMs`, feed events older than that are pruned every minute (or every
   * `retainMs`, if shorter). Off by default: a kernel without it writes nothing to the feed.
   */
  readonly eventFeed?: boolean | { readonly flushMs?: number; readonly retainMs?: number };
  /**
   * Lane leases of runs (`ctx.lane`): `graceMs` is the grace of lane expiry (L6, default 5
   * minutes): a lease is live for at least that long after its last beat, and expires its TTL plus
   * that after it. Every process sharing the store should use the same grace.
   */
  readonly lanes?: { readonly graceMs?: number };
}

/** The event feed's settings, resolved from `KernelOptions.eventFeed`; undefined when it is off. */
export interface EventFeedSettings {
  readonly flushMs: number;
  readonly retainMs: number | undefined;
  /** How often retention runs when `retainMs` is set. */
  readonly pruneEveryMs: number;
}

export function resolveEventFeed(options: KernelOptions): EventFeedSettings | undefined {
  const feed = options.eventFeed;
  if (feed === undefined || feed === false) return undefined;
  if (feed !== true && (feed === null || typeof feed !== 'object')) {
    throw new InvalidInputError('eventFeed must be true, false or an object { flushMs?, retainMs? }', 'invalid_option');
  }
  const settings = feed === true ? {} : feed;
  const flushMs = positive(settings.flushMs ?? 50, 'eventFeed.flushMs');
  const retainMs = settings.retainMs === undefined ? undefined : positive(settings.retainMs, 'eventFeed.retainMs');
  return { flushMs, retainMs, pruneEveryMs: Math.min(60_000, retainMs ?? 60_000) };
}

/** The timing of a kernel, resolved from its options. */
export interface KernelTiming {
  readonly concurrency: number;
  readonly urgentConcurrency: number;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly marginMs: number;
  readonly hungAfterMs: number;
  readonly interruptGraceMs: number;
  readonly pollMs: number;
  /** How often the kernel beats its heartbeat and checks its runtimes' lease proofs. */
  readonly watchEveryMs: number;
  /** Retention: prune journals of runs ended this long ago, checking every `retentionEveryMs`. */
  readonly retentionMs: number | undefined;
  readonly retentionEveryMs: number;
  /** The grace of lane expiry (`lanes.graceMs`). */
  readonly laneGraceMs: number;
}

export function resolveTiming(options: KernelOptions): KernelTiming {
  const concurrency = positiveInteger(options.concurrency ?? 16, 'concurrency');
  const urgentConcurrency = positiveInteger(options.urgentConcurrency ?? concurrency, 'urgentConcurrency');
  const ttlMs = positive(options.ownerTtlMs ?? 15_000, 'ownerTtlMs');
  const hungAfterMs = positive(options.hungAfterMs ?? 60_000, 'hungAfterMs');
  const interruptGraceMs = positive(options.interruptGraceMs ?? 5_000, 'interruptGraceMs');
  const pollMs = positive(options.pollIntervalMs ?? 2_000, 'pollIntervalMs');
  const renewEveryMs = Math.max(1, Math.floor(ttlMs / 5));
  const marginMs = ttlMs / 5;
  const watchEveryMs = Math.max(1, Math.min(250, Math.floor(marginMs / 2), Math.floor(hungAfterMs / 4)));
  const retention = options.retention;
  if (retention !== undefined && (retention === null || typeof retention !== 'object')) {
    throw new InvalidInputError('retention must be an object { completedAfterMs }', 'invalid_option');
  }
  const retentionMs = retention === undefined ? undefined : positive(retention.completedAfterMs, 'retention.completedAfterMs');
  const retentionEveryMs = Math.min(60_000, retentionMs ?? 60_000);
  const laneGraceMs = nonNegative(options.lanes?.graceMs ?? 5 * 60_000, 'lanes.graceMs');
  return {
    concurrency,
    urgentConcurrency,
    ttlMs,
    renewEveryMs,
    marginMs,
    hungAfterMs,
    interruptGraceMs,
    pollMs,
    watchEveryMs,
    retentionMs,
    retentionEveryMs,
    laneGraceMs,
  };
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidInputError(`${name} must be a number of milliseconds >= 0, got ${String(value)}`, 'invalid_option');
  }
  return value;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${name} must be a positive number of milliseconds, got ${String(value)}`, 'invalid_option');
  }
  return value;
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidInputError(`${name} must be a positive integer, got ${String(value)}`, 'invalid_option');
  }
  return value;
}
