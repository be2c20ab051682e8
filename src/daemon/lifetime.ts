import type { Logger } from '../ports/logger.js';
import { systemClock } from '../platform/system-clock.js';
import { exitProcess, onTerminationSignal, TERMINATION_EXIT } from '../platform/termination-signals.js';

export interface LifetimeOptions {
  readonly logger: Logger;
  /** Past this, the process exits anyway; what was not finished is recovered by the next start. */
  readonly timeoutMs: number;
  /** Stop taking work, interrupt (park or requeue) runs, release leases, flush and close the store. */
  readonly teardown: () => Promise<void>;
  /** Treat the loss of the parent process as SIGTERM (worker processes). */
  readonly onParentGone?: (onLost: () => void) => void;
}

/** Ends the process through the one teardown: `reason` is logged, `code` is the exit code. */
export type EndProcess = (reason: string, code: number) => void;

/**
 * The lifetime guard (S3): SIGTERM and SIGINT (and, for a worker, the daemon going away) funnel
 * into one teardown, then exit 143 / 130. A second signal during teardown is logged and ignored.
 * A teardown longer than `timeoutMs` exits anyway with the same code: everything it did not get
 * to is in the store and recovered by the next start (runs requeued, leases expire).
 * Returns the funnel, for other reasons to end (a supervisor that gives up).
 */
export function runUntilSignal(options: LifetimeOptions): EndProcess {
  let ending = false;
  const end: EndProcess = (reason, code) => {
    if (ending) {
      options.logger.warn('already shutting down; signal ignored', { reason });
      return;
    }
    ending = true;
    options.logger.info('shutting down', { reason });
    const guard = systemClock.setTimer(options.timeoutMs, () => {
      options.logger.error('teardown took longer than shutdown.timeoutMs; exiting anyway, the next start recovers what is left', {
        timeoutMs: options.timeoutMs,
      });
      exitProcess(code);
    });
    options
      .teardown()
      .then(
        () => options.logger.info('stopped', { code }),
        (error: unknown) => options.logger.error('teardown failed; exiting, the next start recovers what is left', { error }),
      )
      .finally(() => {
        guard.cancel();
        exitProcess(code);
      });
  };
  onTerminationSignal((signal) => end(signal, TERMINATION_EXIT[signal]));
  options.onParentGone?.(() => end('the daemon went away', TERMINATION_EXIT.SIGTERM));
  return end;
}
