import type { Key, Millis } from '../model/index.js';
import type { Clock, Random } from '../ports/clock.js';
import type { LeaseKeeper } from '../ports/lease-keeper.js';
import type { Logger } from '../ports/logger.js';
import type { Provider } from '../ports/provider.js';
import type { Store } from '../ports/store.js';
import type { KernelEventEmitter } from './events.js';
import type { Flow } from './flow.js';
import type { RunLanes } from './lane-runs.js';
import type { ScratchDirs } from './scratch-dirs.js';
import type { Slots } from './slots.js';
import type { StoreOutage } from './store-outage.js';

/** What the kernel gives each key runtime. */
export interface KeyRuntimeDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
  readonly events: KernelEventEmitter;
  readonly flows: ReadonlyMap<string, Flow>;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly slots: Slots;
  readonly logger: Logger;
  readonly outage: StoreOutage;
  readonly keeper: LeaseKeeper;
  readonly scratch: ScratchDirs;
  /** The lane leases of runs (`ctx.lane`): released when a run ends, no longer beaten when its execution ends. */
  readonly lanes: RunLanes;
  /** How long an interrupted run may take to unwind before it is abandoned. */
  readonly interruptGraceMs: number;
  /** Keys that got work from this key's transactions (children, woken parents, drops). */
  readonly onWork: (work: readonly WorkNotice[]) => void;
  /** A run of this key entered a wait that ends at `wakeAt` (null: when another run ends). */
  readonly onWaiting: (wakeAt: Millis | null) => void;
  /** Called once when the runtime has stopped; `rewake` asks the kernel to dispatch the key again. */
  readonly onExit: (runtime: { readonly key: Key }, rewake: boolean) => void;
}

/** A key with new work, for the kernel to dispatch. */
export interface WorkNotice {
  readonly key: Key;
  readonly urgent?: boolean;
  readonly cancelRunId?: string;
}
