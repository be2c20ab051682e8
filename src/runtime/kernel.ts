import { idempotencyConflict } from '../core/idempotency.js';
import { formatOwnerId } from '../core/owner-id.js';
import { IdempotencyConflictError, InvalidInputError, KernelStateError, RunNotFoundError, StoreUnavailableError } from '../errors.js';
import {
  PREEMPT_KINDS,
  type CancelMode,
  type Json,
  type RunId,
  type RunRecord,
  type RunStatus,
  type ScheduleRecord,
  type StepRecord,
} from '../model/index.js';
import type { Clock, Random, TimerHandle } from '../ports/clock.js';
import type { LeaseKeeper } from '../ports/lease-keeper.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import type { Provider } from '../ports/provider.js';
import type { Store } from '../ports/store.js';
import type { WakeMessage } from '../ports/wake.js';
import { currentProcess, probeProcessAlive } from '../platform/process-liveness.js';
import { systemClock, systemRandom } from '../platform/system-clock.js';
import { unixSocketWake } from '../platform/unix-socket-wake.js';
import { KernelEventEmitter, type KernelEventName, type KernelEvents } from './events.js';
import type { Flow } from './flow.js';
import { KeyDispatcher } from './key-dispatcher.js';
import { resolveEventFeed, resolveTiming, type KernelOptions, type KernelTiming } from './kernel-options.js';
import { isProvider } from './provider-turn.js';
import { openKernelKeeper } from './kernel-keeper.js';
import { KernelRecords } from './kernel-records.js';
import { makeRunHandle, type RunHandle } from './run-handle.js';
import { StoreOutage } from './store-outage.js';
import { compactFinished } from './retention.js';
import { fireDueSchedules, scheduleRecord, type ScheduleOptions } from './schedules.js';
import { defaultScratchRoot, scratchDirs, type ScratchDirs } from './scratch-dirs.js';
import { WakeTimer } from './wake-timer.js';
import { validateSubmit, type SubmitOptions } from './submit-command.js';

export type { KernelOptions } from './kernel-options.js';
export type { ScheduleOptions } from './schedules.js';

/** How soon a wake that failed (the store unavailable, say) is tried again, at most. */
const WAKE_RETRY_MS = 1_000;
/** A run with its journal, as returned by `kernel.getRun`. */
export type RunView = RunRecord & { readonly steps: StepRecord[] };

export interface Kernel {
  /** This kernel instance's owner id (`host/pid/instance`). */
  readonly ownerId: string;
  /**
   * Starts keeping leases (from a thread of their own where the store offers one), then recovers
   * every run left in flight or queued (every key with work is dispatched at once) and serves keys.
   */
  start(): Promise<void>;
  /**
   * Interrupts active runs (they are requeued with their committed steps, or parked), releases
   * every owner lease, and stops background timers. A run whose code does not unwind within
   * `interruptGraceMs` is abandoned and requeued; past `timeoutMs` (default 30 000 ms) stop
   * resolves whatever is still pending: what could not be recorded is recovered from the store by
   * the next owner. Does not close the store (its creator does).
   */
  stop(options?: { readonly timeoutMs?: number }): Promise<void>;
  /**
   * Durably records a command and returns its handle. When the promise resolves the command is
   * committed: a crash from then on never loses it. A crash before it resolves may or may not have
   * recorded it; submitting again with the same idempotence key is always safe (K3). The same key
   * with a different key, flow or input throws `IdempotencyConflictError` and writes nothing. When
   * the store is unavailable it rejects with `StoreUnavailableError` (nothing written; retry).
   */
  submit<I = Json, O = unknown>(options: SubmitOptions<I>): Promise<RunHandle<O>>;
  /** A handle for an existing run (for example after a restart); unknown ids reject with `run_not_found`. */
  handle<O = unknown>(runId: RunId): RunHandle<O>;
  getRun(runId: RunId): Promise<RunView | undefined>;
  /**
   * Stops a run for an operator. The request is recorded durably first, then the owning runtime
   * (here or in another process) is told: an active run is interrupted at once, a queued one is
   * dropped at the owner's next claim. `abort-drop` (default) ends it `cancelled`; `abort-keep`
   * interrupts it and puts it back in the queue. A run that already ended is left as it is.
   * Returns the run's status after the request was recorded.
   */
  cancel(runId: RunId, options?: { readonly mode?: CancelMode }): Promise<RunStatus>;
  /**
   * Re-opens a `failed` or `cancelled` run for an operator (after fixing what failed): it is
   * queued again at its priority and resumes from its last committed step; its idempotence key
   * keeps naming it. Recorded as an operator action. Throws `run_not_retryable` for a run that is
   * queued, running or completed, `run_not_found` for an unknown id. Returns `queued`.
   */
  retry(runId: RunId): Promise<RunStatus>;
  /**
   * Registers a recurring (or one-off) command (D4): `every` ms, a `cron` expression, or once `at`
   * an instant. Durable: kept in the store, fired exactly once per tick however many kernels share
   * the store, and again after a restart. Registering the same id with the same spec again is a
   * no-op (every kernel registers its schedules at start); with another spec it throws
   * `schedule_conflict`. A tick missed while no kernel ran is fired once (`catchUp`, the default)
   * or skipped.
   */
  schedule(options: ScheduleOptions): Promise<ScheduleRecord>;
  /** Removes a schedule; false when there was none. */
  unschedule(id: string): Promise<boolean>;
  on<E extends KernelEventName>(name: E, listener: (event: KernelEvents[E]) => void): () => void;
  once<E extends KernelEventName>(name: E, predicate?: (event: KernelEvents[E]) => boolean): Promise<KernelEvents[E]>;
}

/**
 * Creates a kernel. The returned object exposes only the Kernel interface (frozen, methods bound):
 * product code cannot reach the store, the runtimes or the leases behind it (K9).
 */
export function createKernel(options: KernelOptions): Kernel {
  const host = new KernelHost(options);
  return Object.freeze({
    ownerId: host.ownerId,
    start: host.start.bind(host),
    stop: host.stop.bind(host),
    submit: host.submit.bind(host),
    handle: host.handle.bind(host),
    getRun: host.getRun.bind(host),
    cancel: host.cancel.bind(host),
    retry: host.retry.bind(host),
    schedule: host.schedule.bind(host),
    unschedule: host.unschedule.bind(host),
    on: host.on.bind(host),
    once: host.once.bind(host),
  });
}

/**
 * One process's host of key runtimes. Lifecycle: created -> started -> stopping -> stopped. A
 * kernel that is never started is a pure client: it submits, cancels and retries, and signals
 * the owning process over the wake channel.
 */
class KernelHost implements Kernel {
  readonly ownerId: string;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly timing: KernelTiming;
  private readonly events = new KernelEventEmitter();
  private readonly flows = new Map<string, Flow>();
  private readonly acceptUnknownFlows: boolean;
  private readonly outage: StoreOutage;
  private readonly dispatcher: KeyDispatcher;
  private readonly timers: TimerHandle[] = [];
  private readonly wakeTimer: WakeTimer;
  private readonly scratch: ScratchDirs;
  private readonly records: KernelRecords;
  private keeper: LeaseKeeper | undefined;
  private state: 'created' | 'started' | 'stopping' | 'stopped' = 'created';

  constructor(options: KernelOptions) {
    if (!options || typeof options !== 'object' || !options.store) throw new InvalidInputError('createKernel needs { store, flows }');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger ?? silentLogger;
    this.timing = resolveTiming(options);
    this.acceptUnknownFlows = options.acceptUnknownFlows === true;
    for (const flow of options.flows ?? []) {
      if (this.flows.has(flow.name)) {
        throw new InvalidInputError(`two flows are named "${flow.name}"; flow names must be unique in one kernel`, 'duplicate_flow');
      }
      this.flows.set(flow.name, flow);
    }
    const providers = new Map<string, Provider>();
    for (const [name, provider] of Object.entries(options.providers ?? {})) {
      if (!isProvider(provider)) {
        throw new InvalidInputError(
          `provider "${name}" has neither a startTurn nor a runTurn function; pass execProvider(...), fakeProvider(...) or your own Provider`,
          'invalid_provider',
        );
      }
      providers.set(name, provider);
    }
    // Explicit `wake` first, then the store's own channel (Postgres), then sockets beside its files (SQLite).
    const dir = this.store.localDirectory;
    const context = { clock: this.clock, random: this.random, logger: this.logger };
    const found =
      options.wake !== undefined ? options.wake : (this.store.wakeTransport?.(context) ?? (dir ? unixSocketWake({ dir }) : null));
    // A transport that reconnected may have lost messages: catch up as the safety-net poll does.
    const wake = found && {
      send: found.send.bind(found),
      listen: (on: (m: WakeMessage) => void) => found.listen(on, () => void this.onWake()),
    };
    const proc = currentProcess();
    const host = options.host ?? { name: proc.host, pid: proc.pid, isAlive: (pid: number) => probeProcessAlive(pid) !== false };
    this.ownerId = formatOwnerId(host.name, host.pid, this.random.uuid());
    this.records = new KernelRecords({ ...this.recordDeps(), host, feed: resolveEventFeed(options) });
    this.outage = new StoreOutage(this.events, this.clock, this.random);
    this.scratch = scratchDirs(options.scratchRoot ?? defaultScratchRoot(this.store.localDirectory));
    this.wakeTimer = new WakeTimer(this.clock, () => this.onWake());
    this.dispatcher = new KeyDispatcher({
      store: this.store,
      clock: this.clock,
      random: this.random,
      scratch: this.scratch,
      onWaiting: (wakeAt) => this.wakeTimer.arm(wakeAt === null || !Number.isFinite(wakeAt) ? undefined : wakeAt),
      events: this.events,
      logger: this.logger,
      flows: this.flows,
      providers,
      outage: this.outage,
      timing: this.timing,
      ownerId: this.ownerId,
      wake,
      host,
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new KernelStateError(`kernel.start() called on a ${this.state} kernel; create a new kernel instead`);
    if (this.acceptUnknownFlows)
      throw new KernelStateError('a kernel created with acceptUnknownFlows is a pure client and cannot start; create it with its flows');
    this.state = 'started';
    this.keeper = await this.openKeeper();
    await this.dispatcher.start(this.keeper);
    this.repeat(this.timing.watchEveryMs, async () => this.dispatcher.watch());
    this.repeat(this.timing.pollMs, () => this.onWake());
    const retentionMs = this.timing.retentionMs;
    if (retentionMs !== undefined) this.repeat(this.timing.retentionEveryMs, () => this.compact(retentionMs));
    if (this.records.pruneEveryMs !== undefined) this.repeat(this.records.pruneEveryMs, () => this.records.prune());
    await this.onWake();
    void this.sweepScratch();
  }

  async stop(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!(timeoutMs > 0)) throw new InvalidInputError(`stop timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
    const wasStarted = this.state === 'started';
    this.state = 'stopping';
    for (const timer of this.timers) timer.cancel();
    this.wakeTimer.stop();
    if (wasStarted) await this.dispatcher.stop(timeoutMs);
    await this.keeper?.close();
    await this.records.close(); // flushes the event feed
    this.state = 'stopped';
  }

  async submit<I, O>(options: SubmitOptions<I>): Promise<RunHandle<O>> {
    if (this.state === 'stopping' || this.state === 'stopped') throw new KernelStateError('kernel is stopping; submit to a running kernel');
    const known = [...this.flows.keys(), ...(this.acceptUnknownFlows && typeof options?.flow === 'string' ? [options.flow] : [])];
    const command = validateSubmit(options, new Set(known));
    const id = this.random.uuid();
    const idempotencyKey = command.idempotencyKey ?? `run:${id}`;
    const now = this.clock.now();
    const deadlineMs = command.deadlineMs ?? this.flows.get(command.flow)?.deadlineMs;
    const { deadlineMs: _deadlineMs, ...fields } = command;
    const deadlineAt = deadlineMs === undefined ? null : now + deadlineMs;
    const { run, created } = await this.outage.once(
      'submit',
      () => this.store.enqueue({ ...fields, id, idempotencyKey, deadlineAt, now }),
      'write',
    );
    if (!created) {
      const differs = idempotencyConflict(run, command);
      if (differs) throw new IdempotencyConflictError(idempotencyKey, run.id, differs);
    } else {
      this.events.emit('run:queued', { runId: run.id, key: run.key, flow: run.flow, priority: run.priority });
      if (run.deadlineAt !== null && this.state === 'started') this.wakeTimer.arm(run.deadlineAt);
      await this.tellOwner(run.key, { urgent: run.priority === 'urgent' });
    }
    return makeRunHandle<O>(run.id, created, this.store, this.events, this.clock, this.timing.pollMs);
  }

  handle<O>(runId: RunId): RunHandle<O> {
    return makeRunHandle<O>(runId, false, this.store, this.events, this.clock, this.timing.pollMs);
  }

  async getRun(runId: RunId): Promise<RunView | undefined> {
    const run = await this.store.getRun(runId);
    return run && { ...run, steps: await this.store.getSteps(runId) };
  }

  async cancel(runId: RunId, options: { mode?: CancelMode } = {}): Promise<RunStatus> {
    const mode = options.mode ?? 'abort-drop';
    if (mode !== 'abort-drop' && mode !== 'abort-keep') {
      const hint = PREEMPT_KINDS.includes(mode) ? ' (steal parks a run for urgent work; it is not a cancel)' : '';
      throw new InvalidInputError(
        `cancel mode must be abort-drop or abort-keep, got ${JSON.stringify(mode)}${hint}`,
        'invalid_cancel_mode',
      );
    }
    const run = await this.store.requestCancel({ runId, mode, now: this.clock.now() });
    if (!run) throw new RunNotFoundError(runId, this.store.description);
    if (run.status === 'queued' || run.status === 'running' || run.status === 'waiting') {
      await this.tellOwner(run.key, { cancelRunId: run.id });
    }
    return run.status;
  }

  async retry(runId: RunId): Promise<RunStatus> {
    const before = await this.store.getRun(runId);
    if (!before) throw new RunNotFoundError(runId, this.store.description);
    const run = await this.store.reopenRun({ runId, now: this.clock.now() });
    if (!run) throw new RunNotFoundError(runId, this.store.description);
    this.events.emit('run:reopened', { runId, key: run.key, from: before.status === 'cancelled' ? 'cancelled' : 'failed' });
    await this.tellOwner(run.key, { urgent: run.priority === 'urgent' });
    return run.status;
  }

  async schedule(options: ScheduleOptions): Promise<ScheduleRecord> {
    const record = await this.store.putSchedule(scheduleRecord(options, new Set(this.flows.keys()), this.clock.now()));
    if (this.state === 'started') this.wakeTimer.arm(record.nextFireAt ?? undefined);
    return record;
  }

  async unschedule(id: string): Promise<boolean> {
    return this.store.deleteSchedule(id);
  }

  on<E extends KernelEventName>(name: E, listener: (event: KernelEvents[E]) => void): () => void {
    return this.events.on(name, listener);
  }

  once<E extends KernelEventName>(name: E, predicate?: (event: KernelEvents[E]) => boolean): Promise<KernelEvents[E]> {
    return this.events.once(name, predicate);
  }

  /** After a durable write for `key`: our runtime hears of it, or the owning process is signalled. */
  private async tellOwner(key: string, notice: { urgent?: boolean; cancelRunId?: string }): Promise<void> {
    // A pure client (never started) resolves only once the owner has been told.
    if (this.state === 'created') await this.dispatcher.signalOwner(key, notice);
    else this.dispatcher.dispatch(key, notice);
  }

  private recordDeps() {
    return { store: this.store, clock: this.clock, logger: this.logger, events: this.events, ownerId: this.ownerId };
  }

  /** The store's keeper thread where it has one, else renewal on this event loop. */
  private openKeeper(): Promise<LeaseKeeper> {
    return openKernelKeeper({
      ...this.recordDeps(),
      timing: this.timing,
      onLost: (key, epoch) => this.dispatcher.onLost(key, epoch),
      replace: (keeper) => {
        if (this.state !== 'started') return;
        this.keeper = keeper;
        this.dispatcher.useKeeper(keeper);
      },
    });
  }

  /**
   * What is due now: schedules fire, keys with work (queued runs, runs whose wait or deadline has
   * come) are dispatched; then the wake timer is armed from the store for what comes next. Runs at
   * start, from the wake timer, and from the safety-net poll.
   */
  private async onWake(): Promise<void> {
    if (this.state !== 'started') return;
    try {
      const keys = await this.outage.once(
        'fire schedules',
        () => fireDueSchedules(this.store, this.clock, this.random, this.events),
        'read', // mostly a read of due schedules; a fire that fails still opens the outage
      );
      for (const key of keys) this.dispatcher.dispatch(key);
      await this.dispatcher.scan();
      this.wakeTimer.arm(await this.store.nextWakeAt(this.clock.now()));
    } catch (error) {
      // Due work (a schedule, a wait) does not wait for the next poll because this wake failed.
      this.wakeTimer.arm(this.clock.now() + Math.min(this.timing.pollMs, WAKE_RETRY_MS));
      if (error instanceof StoreUnavailableError) return; // the outage is recorded
      this.events.emit('kernel:error', { error, context: 'waking due work' });
    }
  }

  private async compact(completedAfterMs: number): Promise<void> {
    try {
      await compactFinished(this.store, this.clock, completedAfterMs, this.events);
    } catch (error) {
      this.outage.observe('compact journals', error);
      if (!(error instanceof StoreUnavailableError)) this.events.emit('kernel:error', { error, context: 'retention' });
    }
  }

  /** Scratch directories of runs that ended while no kernel ran (a crash) are removed at start. */
  private async sweepScratch(): Promise<void> {
    try {
      await this.scratch.sweep(async (runId) => {
        const run = await this.store.getRun(runId);
        return run === undefined || run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled';
      });
    } catch (error) {
      this.logger.warn('holdfast: could not sweep scratch directories', { root: this.scratch.root, error: String(error) });
    }
  }

  /** A repeating timer on the injected clock. */
  private repeat(everyMs: number, tick: () => Promise<void>): void {
    const index = this.timers.length;
    const arm = (): TimerHandle =>
      this.clock.setTimer(everyMs, () => {
        void tick().finally(() => {
          if (this.state === 'started') this.timers[index] = arm();
        });
      });
    this.timers.push(arm());
  }
}
