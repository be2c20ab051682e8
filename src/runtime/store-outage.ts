import { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
import { StoreUnavailableError } from '../errors.js';
import type { Clock, Random } from '../ports/clock.js';
import type { KernelEventEmitter } from './events.js';

/** Waits between retries of a store call while the store is unavailable: 50 ms doubling to 2 s. */
export const STORE_RETRY: BackoffPolicy = { initialMs: 50, maxMs: 2_000, factor: 2 };

/** A retried call was given up because the caller may not go on (stopped, or its lease lapsed). */
export const GAVE_UP = Symbol('gave up');

/**
 * K11: the store being briefly unavailable delays work, it never fails it. Every kernel write
 * goes through `call`, which retries `StoreUnavailableError` with capped, jittered backoff for as
 * long as `goOn()` says the caller may still act (its lease is proven, it is not stopping), and
 * keeps the kernel-wide outage state: the first failure emits `store:unavailable`, the first
 * successful *write* after it `store:recovered`. A successful read proves nothing (SQLite serves
 * reads while another process holds the write lock, or the disk is full), so reads can open an
 * outage but never close one. Any other error passes through unchanged.
 */
export type StoreAccess = 'read' | 'write';
export class StoreOutage {
  private downSince: number | undefined;

  constructor(
    private readonly events: KernelEventEmitter,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** Whether the last store call failed as unavailable. */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  call<T>(operation: string, fn: () => Promise<T>, goOn: () => boolean, access: StoreAccess = 'write'): Promise<T | typeof GAVE_UP> {
    // The first attempt without a retry loop around it: the common case costs one promise.
    return fn().then(
      (value) => {
        this.succeeded(operation, access);
        return value;
      },
      (error: unknown) => {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.failed(operation, error);
        return this.retryAfterFailure(operation, fn, goOn, access);
      },
    );
  }

  private async retryAfterFailure<T>(
    operation: string,
    fn: () => Promise<T>,
    goOn: () => boolean,
    access: StoreAccess,
  ): Promise<T | typeof GAVE_UP> {
    for (let attempt = 1; ; attempt++) {
      if (!goOn()) return GAVE_UP;
      await this.wait(backoffDelay(STORE_RETRY, attempt, this.random.next()));
      if (!goOn()) return GAVE_UP;
      try {
        const value = await fn();
        this.succeeded(operation, access);
        return value;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.failed(operation, error);
      }
    }
  }

  /**
   * One attempt, no retry, for calls whose caller retries on its own terms (a submit, a scan, a key
   * acquisition): its outcome still opens or closes the outage. Errors pass through unchanged.
   */
  async once<T>(operation: string, fn: () => Promise<T>, access: StoreAccess): Promise<T> {
    try {
      const value = await fn();
      this.succeeded(operation, access);
      return value;
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.failed(operation, error);
      throw error;
    }
  }

  /** Records a failure seen outside `call` and `once` (a renewal on the keeper's thread). */
  observe(operation: string, error: unknown): void {
    if (error instanceof StoreUnavailableError) this.failed(operation, error);
  }

  private failed(operation: string, error: StoreUnavailableError): void {
    if (this.downSince !== undefined) return;
    this.downSince = this.clock.monotonic();
    this.events.emit('store:unavailable', { operation, reason: error.reason, message: error.message });
  }

  private succeeded(operation: string, access: StoreAccess): void {
    if (this.downSince === undefined || access === 'read') return;
    const downMs = this.clock.monotonic() - this.downSince;
    this.downSince = undefined;
    this.events.emit('store:recovered', { operation, downMs });
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(ms, resolve));
  }
}
