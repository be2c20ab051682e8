import type { OwnerRenewerModule } from '../ports/lease-keeper.js';

/** Messages between a kernel's event loop and its lease keeper thread. */

/** Proof slots per SharedArrayBuffer page (8 bytes each). Pages are added, never replaced. */
export const PAGE_SLOTS = 4096;

export interface KeeperThreadData {
  readonly renewer: OwnerRenewerModule;
  /** PAGE_SLOTS, handed over so the thread's plain JavaScript needs no import of this module. */
  readonly pageSlots: number;
  readonly ownerId: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly marginMs: number;
  readonly hungAfterMs: number;
}

export type ToKeeper =
  | { readonly type: 'page'; readonly buffer: SharedArrayBuffer }
  | { readonly type: 'keep'; readonly slot: number; readonly key: string; readonly epoch: number }
  | { readonly type: 'release'; readonly slot: number }
  | { readonly type: 'stop' };

export type FromKeeper =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'released'; readonly slot: number }
  | { readonly type: 'lost'; readonly slot: number }
  | { readonly type: 'hung'; readonly hung: boolean }
  | { readonly type: 'renew-failed'; readonly message: string };
