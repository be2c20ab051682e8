import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { processStartTime } from '../platform/orphan-process-group.js';
import { EventRecorder } from './event-recorder.js';
import type { KernelEventEmitter } from './events.js';
import type { EventFeedSettings } from './kernel-options.js';
import { ProcessGroupRecorder } from './process-group-recorder.js';

export interface KernelRecordsDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: KernelEventEmitter;
  readonly ownerId: string;
  readonly host: { readonly name: string; readonly pid: number };
  /** The event feed's settings; undefined: no feed. */
  readonly feed: EventFeedSettings | undefined;
}

/**
 * What a kernel records in the store about itself, beside its runs, from its events: the provider
 * process groups of its turns (always; see ProcessGroupRecorder) and, when turned on, the
 * run-event feed (EventRecorder). Both listen from creation, so a kernel that is never started
 * (a client that submits) feeds `run:queued` too.
 */
export class KernelRecords {
  private readonly feed: EventRecorder | undefined;
  private readonly groups: ProcessGroupRecorder;

  constructor(private readonly deps: KernelRecordsDeps) {
    this.groups = new ProcessGroupRecorder({ ...deps, leaderStart: processStartTime });
    this.groups.attach(deps.events);
    if (deps.feed) {
      this.feed = new EventRecorder({ store: deps.store, clock: deps.clock, logger: deps.logger, flushMs: deps.feed.flushMs });
      this.feed.attach(deps.events);
    }
  }

  /** Retention of the feed: how often `prune` should run, or undefined when nothing is pruned. */
  get pruneEveryMs(): number | undefined {
    return this.feed && this.deps.feed?.retainMs !== undefined ? this.deps.feed.pruneEveryMs : undefined;
  }

  /** Deletes feed events older than the feed's `retainMs`. Never rejects. */
  async prune(): Promise<void> {
    const retainMs = this.deps.feed?.retainMs;
    if (this.feed && retainMs !== undefined) await this.feed.prune(retainMs);
  }

  /** Stops recording: flushes the feed and waits for process group writes in progress. */
  async close(): Promise<void> {
    await Promise.all([this.feed?.close(), this.groups.close()]);
  }
}
