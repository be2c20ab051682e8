import { decideRestart, isHung, workerForKey, type RestartPolicy } from '../core/restart-policy.js';
import type { Millis } from '../model/index.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { WorkerProcess } from '../platform/worker-process.js';
import { asWorkerMessage, HEARTBEAT_MS } from './worker-protocol.js';

/** What the supervisor reports about one worker slot (status, logs). */
export interface WorkerStatus {
  readonly slot: number;
  readonly pid: number | null;
  readonly state: 'starting' | 'running' | 'hung' | 'restarting' | 'stopped';
  readonly ownerId: string | null;
  readonly restarts: number;
  /** Milliseconds since the worker's event loop was last heard from. */
  readonly silentMs: number | null;
}

export interface SupervisorOptions {
  readonly count: number;
  readonly spawn: (slot: number) => WorkerProcess;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: RestartPolicy;
  readonly hungAfterMs: number;
  readonly killHung: boolean;
  /** Called once when a worker crashed more than the policy allows: the daemon must exit non-zero. */
  readonly onGiveUp: (message: string) => void;
}

interface Slot {
  readonly index: number;
  proc: WorkerProcess | null;
  state: WorkerStatus['state'];
  ownerId: string | null;
  lastBeatAt: Millis;
  history: Millis[];
  restarts: number;
  restartTimer: TimerHandle | null;
  exited: Promise<void>;
}

/**
 * Runs `count` kernel worker processes on one store (S1): owner leases split the keys between
 * them. A worker seen dead (it exited, crashed, or was killed) is restarted after a backoff; after
 * `policy.maxRestarts` restarts within `policy.windowMs` the supervisor gives up. A worker whose
 * event loop is silent past `hungAfterMs` is reported hung and, unless `killHung`, left alone: a
 * slow worker is never restarted; its leases lapse by themselves if it stays stuck.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private watch: TimerHandle | null = null;
  private stopping = false;
  private gaveUp = false;

  constructor(private readonly options: SupervisorOptions) {
    this.slots = Array.from({ length: options.count }, (_, index) => ({
      index,
      proc: null,
      state: 'starting' as const,
      ownerId: null,
      lastBeatAt: options.clock.now(),
      history: [],
      restarts: 0,
      restartTimer: null,
      exited: Promise.resolve(),
    }));
  }

  start(): void {
    for (const slot of this.slots) this.launch(slot);
    this.scheduleWatch();
  }

  /** Whether every worker has reported its kernel started. */
  ready(): boolean {
    return this.slots.every((slot) => slot.state === 'running' || slot.state === 'hung');
  }

  status(): WorkerStatus[] {
    const now = this.options.clock.now();
    return this.slots.map((s) => ({
      slot: s.index,
      pid: s.proc?.pid ?? null,
      state: s.state,
      ownerId: s.ownerId,
      restarts: s.restarts,
      silentMs: s.proc ? now - s.lastBeatAt : null,
    }));
  }

  /** Tells the worker that serves `key` first that it has work (a hint; the store is the truth). */
  wake(key: string, urgent: boolean): void {
    const slot = this.slots[workerForKey(key, this.slots.length)];
    slot?.proc?.send({ type: 'wake', key, urgent });
  }

  /**
   * Stops every worker: `signal` first (each tears down its own kernel), SIGKILL for any still
   * running after `timeoutMs`. Resolves once all have exited. No restart happens from here on.
   */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.watch?.cancel();
    for (const slot of this.slots) {
      slot.restartTimer?.cancel();
      slot.proc?.kill(signal);
    }
    const force = this.options.clock.setTimer(timeoutMs, () => {
      for (const slot of this.slots) slot.proc?.kill('SIGKILL');
    });
    await Promise.all(this.slots.map((slot) => slot.exited));
    force.cancel();
  }

  private launch(slot: Slot): void {
    const proc = this.options.spawn(slot.index);
    slot.proc = proc;
    slot.state = 'starting';
    slot.lastBeatAt = this.options.clock.now();
    slot.exited = new Promise((resolve) => {
      proc.onExit((code, signal) => {
        if (slot.proc === proc) slot.proc = null;
        this.onExit(slot, code, signal);
        resolve();
      });
    });
    proc.onMessage((raw) => {
      const message = asWorkerMessage(raw);
      if (!message || slot.proc !== proc) return;
      slot.lastBeatAt = this.options.clock.now();
      if (message.type === 'ready') {
        slot.ownerId = message.ownerId;
        slot.state = 'running';
        this.options.logger.info('worker ready', { slot: slot.index, pid: proc.pid, ownerId: message.ownerId });
      } else if (message.type === 'fatal') {
        this.options.logger.error('worker could not start', { slot: slot.index, pid: proc.pid, reason: message.message });
      } else if (slot.state === 'hung') {
        slot.state = 'running';
        this.options.logger.info('worker responsive again', { slot: slot.index, pid: proc.pid });
      }
    });
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.gaveUp) {
      slot.state = 'stopped';
      return;
    }
    const decision = decideRestart(slot.history, this.options.clock.now(), this.options.policy);
    if (decision.action === 'give-up') {
      this.gaveUp = true;
      slot.state = 'stopped';
      const message = `worker ${slot.index} exited ${decision.restarts + 1} times within ${decision.windowMs} ms (last: ${signal ?? `code ${code}`}); giving up. Look at its log lines above, fix the cause, and start again.`;
      this.options.logger.error('supervisor gives up', { slot: slot.index, restarts: decision.restarts });
      this.options.onGiveUp(message);
      return;
    }
    slot.history = [...decision.history];
    slot.restarts += 1;
    slot.state = 'restarting';
    this.options.logger.warn('worker exited; restarting', {
      slot: slot.index,
      code,
      signal,
      inMs: decision.delayMs,
      restarts: slot.restarts,
    });
    slot.restartTimer = this.options.clock.setTimer(decision.delayMs, () => {
      slot.restartTimer = null;
      if (!this.stopping && !this.gaveUp) this.launch(slot);
    });
  }

  private scheduleWatch(): void {
    this.watch = this.options.clock.setTimer(HEARTBEAT_MS, () => {
      this.checkHung();
      if (!this.stopping) this.scheduleWatch();
    });
  }

  private checkHung(): void {
    const now = this.options.clock.now();
    for (const slot of this.slots) {
      if (!slot.proc || slot.state !== 'running' || !isHung(slot.lastBeatAt, now, this.options.hungAfterMs)) continue;
      slot.state = 'hung';
      this.options.logger.warn(
        this.options.killHung ? 'worker hung; killing it (killHung)' : 'worker hung; leaving it alone (not restarted for being slow)',
        {
          slot: slot.index,
          pid: slot.proc.pid,
          silentMs: now - slot.lastBeatAt,
        },
      );
      if (this.options.killHung) slot.proc.kill('SIGKILL');
    }
  }
}
