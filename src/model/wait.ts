import type { Json } from './json.js';
import type { Millis, RunId } from './ids.js';

/**
 * Why a run waits (D8). One mechanism for all of them: the run is `waiting`, does not hold its key
 * (other runs of the key execute meanwhile), and becomes claimable again at `wakeAt` (or when what
 * it waits on settles), re-entering its key's mailbox at its priority.
 *
 * - `timer`: `ctx.sleep` / `ctx.sleepUntil`, until `wakeAt`.
 * - `retry`: a step's retry backoff, until `wakeAt`.
 * - `effect`: an effect's emit backoff, or another run holding the same effect key, until `wakeAt`.
 * - `child`: `ctx.join` of a child still in flight, until the child ends (`wakeAt` null until then).
 * - `preempted`: parked by `steal` with a frame (`detail`), claimable at once after urgent work.
 * - `lane`: `ctx.lane` refused by a live lease, until that lease's expiry (`wakeAt`), or sooner
 *   when the run holding it (`onRun`) releases a lane.
 */
export const WAIT_KINDS = ['timer', 'retry', 'effect', 'child', 'preempted', 'lane'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

export interface RunWait {
  readonly kind: WaitKind;
  /** When the wait ends; null while it waits for another run (`child`). */
  readonly wakeAt: Millis | null;
  /** The run waited on (`child`), or the run holding the lease a `lane` wait was refused by. */
  readonly onRun: RunId | null;
  /** What the kind needs to resume: the parked frame, the retry's error, the effect key. */
  readonly detail: Json;
  readonly since: Millis;
}
