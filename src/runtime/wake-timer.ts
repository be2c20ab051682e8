import type { Millis } from '../model/index.js';
import type { Clock, TimerHandle } from '../ports/clock.js';

/**
 * The one timer that wakes waiting runs and fires schedules (D4, D8). It is armed from the store
 * (`nextWakeAt`) at start, after every scan and after every schedule change, and moved earlier
 * when a run of this kernel enters a shorter wait; it never holds a wake that the store does not
 * also hold, so a restart loses nothing. When it fires, `onFire` dispatches what is due and arms
 * it again from the store.
 */
export class WakeTimer {
  private timer: TimerHandle | undefined;
  private armedAt: Millis | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onFire: () => Promise<void>,
  ) {}

  /** Arms for `at` unless an earlier (or equal) wake is armed already. */
  arm(at: Millis | undefined): void {
    if (this.stopped || at === undefined) return;
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.timer?.cancel();
    this.armedAt = at;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.armedAt = undefined;
      this.timer = undefined;
      void this.onFire();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.armedAt = undefined;
  }
}
