import type { DurableStore } from './durable-store.js';
import type { EventFeedStore } from './event-feed.js';
import type { LaneStore } from './lane-store.js';
import type { LeaseKeeper, LeaseKeeperOptions } from './lease-keeper.js';
import type { OutboxStore } from './outbox-store.js';
import type { ProcessRecordStore } from './process-record-store.js';
import type { RunStore } from './run-store.js';
import type { ScheduleStore } from './schedule-store.js';
import type { WakeTransport, WakeTransportContext } from './wake.js';

/**
 * The store port: the durable truth of holdfast (K2). Runs, commands and owner leases
 * (`RunStore`), suspension, child runs and retention (`DurableStore`), the outbox
 * (`OutboxStore`), schedules (`ScheduleStore`), the run-event feed (`EventFeedStore`), provider
 * process group records (`ProcessRecordStore`) and lane leases (`lanes`). Every method is one
 * transaction; see each part for its crash semantics.
 */
export interface Store extends RunStore, DurableStore, OutboxStore, ScheduleStore, EventFeedStore, ProcessRecordStore {
  /** What this store is, for logs and errors (`sqlite:/path/state.db`, `memory`). */
  readonly description: string;

  /**
   * Optional capability: a directory on this host shared by every process using the store (the
   * SQLite file's directory). Kernels put their wake sockets there. Absent for stores that are
   * not shared through the local file system.
   */
  readonly localDirectory?: string;

  /**
   * Optional capability: a wake transport through the store's own server (Postgres:
   * `LISTEN/NOTIFY`), for kernels that share the store from different hosts. A kernel not given
   * `wake` uses it in preference to sockets in `localDirectory`. Called once per kernel; nothing
   * connects until the kernel listens or sends. Absent for stores without such a channel.
   */
  wakeTransport?(context: WakeTransportContext): WakeTransport;

  /**
   * Optional capability: keeps this process's owner leases renewed from a thread of its own, with
   * its own connection, so a blocked or busy event loop does not stop renewal (K10). A kernel on
   * a store without it renews from its event loop.
   */
  openLeaseKeeper?(options: LeaseKeeperOptions): Promise<LeaseKeeper>;

  /** The lane-lease journal (L1–L9). */
  readonly lanes: LaneStore;

  /** Closes the store. Pending writes are flushed first. */
  close(): Promise<void>;
}

export type {
  AcquiredOwner,
  AcquireOwner,
  ClaimedRun,
  ClaimNext,
  ClaimOutcome,
  CommitStep,
  EnqueueResult,
  Fence,
  FinishOutcome,
  FinishRun,
  KeyNotice,
  KeyPage,
  KeyWork,
  NewCommand,
  RenewOwners,
  RunQuery,
  RunStore,
} from './run-store.js';
export { OPERATOR_CANCEL } from './run-store.js';
export type { CompactedRuns, DurableStore, SpawnChild, SuspendRun } from './durable-store.js';
export type { ClaimEffect, EffectClaim, FailEffect, OutboxStore, RecordEffect } from './outbox-store.js';
export type { ScheduleStore } from './schedule-store.js';
export type { EventFeedStore, FeedEvent, FeedQuery, NewFeedEvent } from './event-feed.js';
export type { NewProcessGroup, ProcessGroupRecord, ProcessRecordStore } from './process-record-store.js';
export { REAP_CLAIM_TTL_MS } from './process-record-store.js';
