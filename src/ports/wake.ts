/**
 * Out-of-band wake-up between kernel processes (K2). The store stays the truth: a message only
 * tells the owner to look at it now. A lost message costs latency (the safety-net poll and the
 * turn-start check catch up), never correctness, and a message never causes an action on its own:
 * the receiver re-reads durable state before interrupting anything.
 */
import type { Clock, Random } from './clock.js';
import type { Logger } from './logger.js';

export type WakeMessage =
  | { readonly type: 'wake'; readonly key: string; readonly urgent: boolean }
  | { readonly type: 'cancel'; readonly key: string; readonly runId: string };

export interface WakeListener {
  /** Where other processes reach this one; recorded with the owner leases it holds. */
  readonly address: string;
  close(): Promise<void>;
}

export interface WakeTransport {
  /**
   * Starts listening for messages to this process. A transport that can lose messages while it
   * recovers (a dropped connection it re-opens) calls `onCatchUp` once it listens again: the
   * receiver then re-reads the store, as its safety-net poll does.
   */
  listen(onMessage: (message: WakeMessage) => void, onCatchUp?: () => void): Promise<WakeListener>;
  /** Delivers one message; resolves false (never rejects) if the address does not answer. */
  send(address: string, message: WakeMessage): Promise<boolean>;
}

/** What a store's own wake transport (`Store.wakeTransport`) is made with: the kernel's time, randomness and logs. */
export interface WakeTransportContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}
