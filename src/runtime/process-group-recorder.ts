import { backoffDelay } from '../core/backoff.js';
import { StoreUnavailableError } from '../errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ProcessRecordStore } from '../ports/process-record-store.js';
import type { KernelEventEmitter, KernelEvents } from './events.js';
import { STORE_RETRY } from './store-outage.js';

/** Attempts of one record write while the store is unavailable (about 8 s with STORE_RETRY). */
const ATTEMPTS = 8;

export interface ProcessGroupRecorderDeps {
  readonly store: ProcessRecordStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ownerId: string;
  /** The kernel process: its host name and pid, as a janitor on this host checks them. */
  readonly host: { readonly name: string; readonly pid: number };
  /** When the group's leader process started (platform: processStartTime), if it can tell. */
  readonly leaderStart: (pgid: number) => number | undefined;
}

/**
 * Records the provider process groups of this kernel's turns in the store (S4): on `turn:process`
 * the group is recorded as open under this kernel's owner id and process, and on
 * `turn:process-ended` (the provider settled, so its group is gone) the record is ended. A janitor
 * reaps the groups of records whose kernel process died.
 *
 * Best effort, off the turn's path: the listeners only start the writes, so a turn is never
 * slowed or failed by them. A write that finds the store unavailable is retried with backoff for
 * a few seconds, then given up with a warning; an end waits for its record's write, and is skipped
 * when that was given up. Crash semantics: dies before a group is recorded, the group is still
 * killed by its watchdog when this process dies, only the janitor's second line of defence is
 * lost; dies after it is recorded and before it is ended, the record stays open until a janitor
 * sees this process dead and ends it (killing what is left of the group, if anything).
 */
export class ProcessGroupRecorder {
  /** The record write of each group not yet ended: resolves true once the record is in the store. */
  private readonly recorded = new Map<number, Promise<boolean>>();
  /** Writes in progress (for close). */
  private readonly writes = new Set<Promise<boolean>>();
  private readonly sleeping = new Map<TimerHandle, () => void>();
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(private readonly deps: ProcessGroupRecorderDeps) {}

  attach(events: KernelEventEmitter): void {
    this.detach.push(
      events.on('turn:process', (event) => this.started(event)),
      events.on('turn:process-ended', (event) => this.ended(event)),
    );
  }

  /** Stops listening and waits for the writes in progress; writes waiting to retry are given up. */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.detach.splice(0)) off();
    for (const [timer, wake] of this.sleeping) {
      timer.cancel();
      wake();
    }
    this.sleeping.clear();
    await Promise.all([...this.writes]);
  }

  private started(event: KernelEvents['turn:process']): void {
    const { store, clock, ownerId, host } = this.deps;
    const group = {
      pgid: event.pgid,
      ownerId,
      host: host.name,
      pid: host.pid,
      runId: event.runId,
      key: event.key,
      leaderStart: this.deps.leaderStart(event.pgid) ?? null,
      startedAt: clock.now(),
    };
    this.recorded.set(event.pgid, this.track(this.retrying('record process group', () => store.recordProcessGroup(group))));
  }

  private ended(event: KernelEvents['turn:process-ended']): void {
    const { store, clock, ownerId } = this.deps;
    const recorded = this.recorded.get(event.pgid) ?? Promise.resolve(false);
    this.recorded.delete(event.pgid);
    const end = (ok: boolean) =>
      ok ? this.retrying('end process group', () => store.endProcessGroup(event.pgid, ownerId, clock.now())) : false;
    void this.track(recorded.then(end));
  }

  private track(write: Promise<boolean>): Promise<boolean> {
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
    return write;
  }

  /** Runs `write` until it succeeds (true), fails for good or is given up (false). Never rejects. */
  private async retrying(what: string, write: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return true;
      } catch (error) {
        const retry = error instanceof StoreUnavailableError && attempt < ATTEMPTS && !this.closed;
        if (!retry) {
          this.deps.logger.warn(`holdfast: could not ${what}; a janitor cannot reap it after a crash`, { error: String(error) });
          return false;
        }
      }
      await this.sleep(backoffDelay(STORE_RETRY, attempt));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimer(ms, () => {
        this.sleeping.delete(timer);
        resolve();
      });
      this.sleeping.set(timer, resolve);
    });
  }
}
