import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';

/** What every part of a janitor's sweep works with. */
export interface JanitorContext {
  readonly store: Store;
  readonly clock: Clock;
  /** This host's name, as kernels record it in owner ids and process group records. */
  readonly host: string;
  /** This janitor's identity in its claims. */
  readonly janitorId: string;
  /** This process's pid: what it holds itself is never reaped. */
  readonly pid: number;
  /**
   * Whether process `pid` of this host runs: true, false (none, or a zombie), or undefined (cannot
   * tell). Only `false` lets the janitor reap what the process left.
   */
  readonly isAlive: (pid: number) => boolean | undefined;
  readonly logger: Logger;
}

/** True when process `pid` of this host is provably dead (and is not this process). */
export function isDeadHere(context: JanitorContext, pid: number): boolean {
  return pid !== context.pid && context.isAlive(pid) === false;
}
