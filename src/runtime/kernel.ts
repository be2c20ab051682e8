import { isLeaseLive } from '../core/owner-lease.js';
import { formatOwnerId, isOwnerProvablyDead } from '../core/owner-id.js';
import { HoldfastError, InvalidInputError, KernelStateError } from '../errors.js';
import {
  PREEMPT_KINDS,
  type CancelMode,
  type Json,
  type OwnerLease,
  type RunId,
  type RunRecord,
  type RunStatus,
  type StepRecord,
} from '../model/index.js';
import type { Provider } from '../ports/provider.js';
import type { WakeListener, WakeMessage, WakeTransport } from '../ports/wake.js';
import { unixSocketWake } from '../platform/unix-socket-wake.js';
import type { Clock, Random, TimerHandle } from '../ports/clock.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { currentProcess, probeProcessAlive } from '../platform/process-liveness.js';
import { systemClock, systemRandom } from '../platform/system-clock.js';
import { KernelEventEmitter, type KernelEventName, type KernelEvents } from './events.js';
import type { Flow } from './flow.js';
import { KeyRuntime, type Notice } from './key-runtime.js';
import { makeRunHandle, type RunHandle } from './run-handle.js';
import { Slots } from './slots.js';
import { validateSubmit, type SubmitOptions } from './submit-command.js';

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
  /** Owner lease length; renewed every third of it while the kernel lives (default 15 000 ms). */
  readonly ownerTtlMs?: number;
  /**
   * Safety-net scan for work this kernel was not told about (default 2 000 ms). Submits and
   * preemption reach an owner through `wake`, not through this poll.
   */
  readonly pollIntervalMs?: number;
  /**
   * How other processes wake this kernel and how it wakes them (K2). Default: unix sockets in the
   * store's `localDirectory` when it has one (SQLite), none otherwise. `null` turns it off.
   */
  readonly wake?: WakeTransport | null;
  /** Host identity and liveness probe, for taking over keys of dead local owners at once. */
  readonly host?: { readonly name: string; readonly pid: number; readonly isAlive: (pid: number) => boolean };
}

/** A run with its journal, as returned by `kernel.getRun`. */
export type RunView = RunRecord & { readonly steps: StepRecord[] };

export interface Kernel {
  /** This kernel instance's owner id (`host/pid/instance`). */
  readonly ownerId: string;
  /** Recovers every run left in flight or queued, and starts serving keys. */
  start(): Promise<void>;
  /**
   * Interrupts active runs (they are requeued with their committed steps), releases every owner
   * lease, and stops background timers. Does not close the store (its creator does).
   */
  stop(): Promise<void>;
  /**
   * Durably records a command and returns its handle. When the promise resolves the command is
   * committed: a crash from then on never loses it. A crash before it resolves may or may not have
   * recorded it; submitting again with the same idempotence key is always safe (K3).
   */
  submit<I = Json, O = unknown>(options: SubmitOptions<I>): Promise<RunHandle<O>>;
  /** A handle for an existing run (for example after a restart). */
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
    on: host.on.bind(host),
    once: host.once.bind(host),
  });
}

/**
 * One process's host of key runtimes. Lifecycle: created -> started -> stopping -> stopped.
 * It decides which keys to own (work pending, lease free, expired, or held by a provably dead
 * local process), keeps its leases renewed, and dispatches submits to the owning runtime.
 */
class KernelHost implements Kernel {
  readonly ownerId: string;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly events = new KernelEventEmitter();
  private readonly flows = new Map<string, Flow>();
  private readonly providers = new Map<string, Provider>();
  private readonly slots: Slots;
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly host: NonNullable<KernelOptions['host']>;
  private readonly runtimes = new Map<string, KeyRuntime>();
  /** Keys whose owner lease is being acquired, with what arrived meanwhile and the attempt itself. */
  private readonly acquiring = new Map<string, { again: Notice | undefined; done: Promise<void> }>();
  private readonly timers: TimerHandle[] = [];
  private readonly wake: WakeTransport | null;
  private listener: WakeListener | undefined;
  private state: 'created' | 'started' | 'stopping' | 'stopped' = 'created';

  constructor(options: KernelOptions) {
    if (!options || typeof options !== 'object' || !options.store) throw new InvalidInputError('createKernel needs { store, flows }');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger ?? silentLogger;
    for (const flow of options.flows ?? []) {
      if (this.flows.has(flow.name)) {
        throw new InvalidInputError(`two flows are named "${flow.name}"; flow names must be unique in one kernel`, 'duplicate_flow');
      }
      this.flows.set(flow.name, flow);
    }
    for (const [name, provider] of Object.entries(options.providers ?? {})) {
      if (!provider || typeof provider.runTurn !== 'function')
        throw new InvalidInputError(
          `provider "${name}" has no runTurn function; pass execProvider(...), fakeProvider(...) or your own Provider`,
          'invalid_provider',
        );
      this.providers.set(name, provider);
    }
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new InvalidInputError(`concurrency must be a positive integer, got ${concurrency}`);
    this.slots = new Slots(concurrency);
    this.ttlMs = options.ownerTtlMs ?? 15_000;
    this.pollMs = options.pollIntervalMs ?? 2_000;
    if (!(this.ttlMs > 0) || !(this.pollMs > 0))
      throw new InvalidInputError('ownerTtlMs and pollIntervalMs must be positive numbers of milliseconds');
    this.wake =
      options.wake !== undefined ? options.wake : this.store.localDirectory ? unixSocketWake({ dir: this.store.localDirectory }) : null;
    const proc = currentProcess();
    this.host = options.host ?? { name: proc.host, pid: proc.pid, isAlive: (pid) => probeProcessAlive(pid) !== false };
    this.ownerId = formatOwnerId(this.host.name, this.host.pid, this.random.uuid());
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new KernelStateError(`kernel.start() called on a ${this.state} kernel; create a new kernel instead`);
    this.state = 'started';
    if (this.wake) this.listener = await this.wake.listen((message) => this.onWake(message));
    this.schedule(Math.max(1, Math.floor(this.ttlMs / 3)), () => this.renewLeases());
    this.schedule(this.pollMs, () => this.scan());
    await this.scan();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    for (const timer of this.timers) timer.cancel();
    await Promise.all([...this.acquiring.values()].map((a) => a.done));
    await Promise.all([...this.runtimes.values()].map((rt) => rt.stop('kernel stopping')));
    await this.listener?.close();
    this.state = 'stopped';
  }

  async submit<I, O>(options: SubmitOptions<I>): Promise<RunHandle<O>> {
    if (this.state === 'stopping' || this.state === 'stopped') throw new KernelStateError('kernel is stopping; submit to a running kernel');
    const command = validateSubmit(options, new Set(this.flows.keys()));
    const id = this.random.uuid();
    const { run, created } = await this.store.enqueue({
      ...command,
      id,
      idempotencyKey: command.idempotencyKey ?? `run:${id}`,
      now: this.clock.now(),
    });
    if (created) {
      this.events.emit('run:queued', { runId: run.id, key: run.key, flow: run.flow, priority: run.priority });
      const notice = { urgent: run.priority === 'urgent' };
      // A pure client (never started) resolves only once the owner has been told.
      if (this.state === 'created') await this.signalOwner(run.key, notice);
      else this.dispatch(run.key, notice);
    }
    return makeRunHandle<O>(run.id, created, this.store, this.events, this.clock, this.pollMs);
  }

  handle<O>(runId: RunId): RunHandle<O> {
    return makeRunHandle<O>(runId, false, this.store, this.events, this.clock, this.pollMs);
  }

  async getRun(runId: RunId): Promise<RunView | undefined> {
    const run = await this.store.getRun(runId);
    return run && { ...run, steps: await this.store.getSteps(runId) };
  }

  async cancel(runId: RunId, options: { mode?: CancelMode } = {}): Promise<RunStatus> {
    const mode = options.mode ?? 'abort-drop';
    if (mode !== 'abort-drop' && mode !== 'abort-keep') {
      throw new InvalidInputError(
        `cancel mode must be abort-drop or abort-keep, got ${JSON.stringify(mode)}${PREEMPT_KINDS.includes(mode) ? ' (steal parks a run for urgent work; it is not a cancel)' : ''}`,
        'invalid_cancel_mode',
      );
    }
    const run = await this.store.requestCancel({ runId, mode });
    if (!run) throw new HoldfastError('run_not_found', `no run with id ${runId} in ${this.store.description}`);
    if (run.status === 'queued' || run.status === 'running') {
      if (this.state === 'created') await this.signalOwner(run.key, { cancelRunId: run.id });
      else this.dispatch(run.key, { cancelRunId: run.id });
    }
    return run.status;
  }

  on<E extends KernelEventName>(name: E, listener: (event: KernelEvents[E]) => void): () => void {
    return this.events.on(name, listener);
  }

  once<E extends KernelEventName>(name: E, predicate?: (event: KernelEvents[E]) => boolean): Promise<KernelEvents[E]> {
    return this.events.once(name, predicate);
  }

  /**
   * Makes sure someone serves `key`: notifies our runtime, or tries to take the lease, or, when
   * another process owns the key (or this kernel was never started and only submits), signals
   * that owner over the wake channel. Always called after the durable write it is about.
   */
  private dispatch(key: string, notice: Notice = {}, owner?: OwnerLease): void {
    if (this.state !== 'started') return;
    const runtime = this.runtimes.get(key);
    if (runtime) return runtime.notify(notice);
    const inFlight = this.acquiring.get(key);
    if (inFlight) {
      inFlight.again = mergeNotices(inFlight.again, notice);
      return;
    }
    const attempt: { again: Notice | undefined; done: Promise<void> } = { again: undefined, done: Promise.resolve() };
    this.acquiring.set(key, attempt);
    const takeOverFrom =
      owner?.ownerId && isOwnerProvablyDead(owner.ownerId, this.host.name, this.host.isAlive) ? owner.ownerId : undefined;
    attempt.done = this.store
      .acquireOwner({
        key,
        ownerId: this.ownerId,
        now: this.clock.now(),
        ttlMs: this.ttlMs,
        channel: this.listener?.address ?? null,
        takeOverFrom,
      })
      .then((lease) => {
        this.acquiring.delete(key);
        if (!lease) return this.signalOwner(key, mergeNotices(attempt.again, notice));
        if (this.state !== 'started')
          return this.store.releaseOwner({ key, ownerId: this.ownerId, epoch: lease.epoch }).then(() => undefined);
        this.events.emit('owner:acquired', { key, epoch: lease.epoch });
        const rt = new KeyRuntime(lease, {
          store: this.store,
          clock: this.clock,
          events: this.events,
          flows: this.flows,
          providers: this.providers,
          slots: this.slots,
          logger: this.logger,
          onExit: (done, rewake) => this.onRuntimeExit(done, rewake),
        });
        this.runtimes.set(key, rt);
        rt.start();
        if (attempt.again) rt.notify(attempt.again);
      })
      .catch((error: unknown) => {
        this.acquiring.delete(key);
        this.reportError(error, `acquiring key ${key}`);
      });
  }

  /** Tells the live owner of `key` in another process to look at the store now. */
  private async signalOwner(key: string, notice: Notice): Promise<void> {
    if (!this.wake || (!notice.urgent && notice.cancelRunId === undefined)) return;
    try {
      const owner = await this.store.getOwner(key);
      if (!owner?.channel || owner.ownerId === this.ownerId || !isLeaseLive(owner, this.clock.now())) return;
      const message: WakeMessage =
        notice.cancelRunId !== undefined ? { type: 'cancel', key, runId: notice.cancelRunId } : { type: 'wake', key, urgent: true };
      const delivered = await this.wake.send(owner.channel, message);
      if (!delivered)
        this.logger.warn('holdfast: wake message not delivered; the owner will see the work at its next poll', {
          key,
          channel: owner.channel,
        });
    } catch (error) {
      this.reportError(error, `signalling the owner of ${key}`);
    }
  }

  private onWake(message: WakeMessage): void {
    this.dispatch(message.key, message.type === 'cancel' ? { cancelRunId: message.runId } : { urgent: message.urgent });
  }

  private onRuntimeExit(runtime: KeyRuntime, rewake: boolean): void {
    if (this.runtimes.get(runtime.key) === runtime) this.runtimes.delete(runtime.key);
    if (rewake) this.dispatch(runtime.key);
  }

  /** Safety net and recovery: finds keys with work that nobody live serves and dispatches them. */
  private async scan(): Promise<void> {
    if (this.state !== 'started') return;
    try {
      const now = this.clock.now();
      for (const work of await this.store.keysWithWork(1000)) {
        if (this.runtimes.has(work.key)) continue;
        const owner = work.owner;
        const free = !isLeaseLive(owner, now) || owner?.ownerId === this.ownerId;
        const dead = owner?.ownerId != null && isOwnerProvablyDead(owner.ownerId, this.host.name, this.host.isAlive);
        if (free || dead) this.dispatch(work.key, {}, owner);
      }
    } catch (error) {
      this.reportError(error, 'scanning for work');
    }
  }

  private async renewLeases(): Promise<void> {
    if (this.state !== 'started' || this.runtimes.size === 0) return;
    try {
      const leases = [...this.runtimes.values()].map((rt) => ({ key: rt.key, epoch: rt.epoch }));
      const { lost } = await this.store.renewOwners({ ownerId: this.ownerId, leases, now: this.clock.now(), ttlMs: this.ttlMs });
      for (const key of lost) {
        const rt = this.runtimes.get(key);
        if (rt && leases.some((l) => l.key === key && l.epoch === rt.epoch)) rt.lose();
      }
    } catch (error) {
      this.reportError(error, 'renewing owner leases');
    }
  }

  /** A repeating timer on the injected clock. */
  private schedule(everyMs: number, tick: () => Promise<void>): void {
    const index = this.timers.length;
    const arm = (): TimerHandle =>
      this.clock.setTimer(everyMs, () => {
        void tick().finally(() => {
          if (this.state === 'started') this.timers[index] = arm();
        });
      });
    this.timers.push(arm());
  }

  private reportError(error: unknown, context: string): void {
    this.logger.error(`holdfast: error while ${context}`, { error: String(error) });
    this.events.emit('kernel:error', { error, context });
  }
}

/** What two notices for one key ask for together. */
function mergeNotices(a: Notice | undefined, b: Notice): Notice {
  return { urgent: Boolean(a?.urgent) || Boolean(b.urgent), cancelRunId: b.cancelRunId ?? a?.cancelRunId };
}
