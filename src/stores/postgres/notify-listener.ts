import type pg from 'pg';
import { pgDriver } from './pg-driver.js';
import { backoffDelay, type BackoffPolicy } from '../../core/backoff.js';
import type { Clock, Random, TimerHandle } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';

export interface NotifyListenerDeps {
  /** How to reach the server; the listener sets its own `application_name`. */
  readonly config: pg.ClientConfig;
  /** The channel to `LISTEN` on (a lower-case identifier, at most 63 bytes). */
  readonly channel: string;
  /** Shown in `pg_stat_activity.application_name`, so operators (and tests) can find the backend. */
  readonly applicationName: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly backoff: BackoffPolicy;
  /** Each notification's payload; exceptions are caught and logged. */
  readonly onPayload: (payload: string) => void;
  /** The listener listens again after a gap in which notifications may have been lost. */
  readonly onCatchUp: () => void;
}

/**
 * One dedicated connection that stays in `LISTEN` on one channel. A state machine:
 *
 *   connecting -> listening   `LISTEN` succeeded. Every success but that of the very first
 *                             attempt fires `onCatchUp` (after `LISTEN`, so nothing falls between).
 *   connecting -> waiting     connecting or `LISTEN` failed: a backoff timer is armed (capped
 *                             exponential, jittered with the injected Random, on the injected Clock).
 *   listening  -> waiting     the connection dropped (an error or end event: a network failure,
 *                             `pg_terminate_backend`, a server restart or failover).
 *   waiting    -> connecting  the timer fired.
 *   any        -> closed      `close()`: the timer is cancelled and the client ended. Final.
 *
 * Notifications are hints: the ones sent while no connection listens are lost, which is why every
 * reconnect is followed by a catch-up read of the store. Events of a client that was replaced are
 * ignored, so a late `end` never tears down its successor.
 */
export class NotifyListener {
  private mode: 'connecting' | 'listening' | 'waiting' | 'closed' = 'connecting';
  private client: pg.Client | undefined;
  private timer: TimerHandle | undefined;
  /** Failed attempts since the listener last listened; sets the backoff. */
  private failures = 0;
  private attempts = 0;

  constructor(private readonly deps: NotifyListenerDeps) {}

  /** The first attempt: resolves once it listens or has failed (retries then go on in the background). */
  open(): Promise<void> {
    return this.connect();
  }

  /** Whether the listener currently has a live `LISTEN`. */
  get listening(): boolean {
    return this.mode === 'listening';
  }

  /** Stops reconnecting and ends the connection; no timer or socket is left behind. Idempotent. */
  async close(): Promise<void> {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.timer?.cancel();
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await endQuietly(client);
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempts;
    const client = new (pgDriver().Client)({
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      ...this.deps.config,
      application_name: this.deps.applicationName,
    });
    this.client = client;
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client, new Error('the server closed the connection')));
    client.on('notification', (n) => {
      if (this.client === client && n.channel === this.deps.channel) this.deliver(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.deps.channel)}`);
    } catch (error) {
      this.dropped(client, error);
      return;
    }
    if (this.client !== client || this.mode === 'closed') return void endQuietly(client);
    this.mode = 'listening';
    this.failures = 0;
    if (attempt === 1) return;
    this.deps.logger.info('holdfast: wake listener reconnected; re-reading the store for what it may have missed', {
      channel: this.deps.channel,
    });
    try {
      this.deps.onCatchUp();
    } catch (error) {
      this.deps.logger.error('holdfast: wake catch-up failed', { channel: this.deps.channel, error: String(error) });
    }
  }

  /** `client` failed or ended: forget it and, unless closed, retry after a backoff. */
  private dropped(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    void endQuietly(client);
    if (this.mode === 'closed') return;
    this.mode = 'waiting';
    this.failures++;
    const delayMs = backoffDelay(this.deps.backoff, this.failures, this.deps.random.next());
    this.deps.logger.warn('holdfast: wake listener connection lost; reconnecting (wake-ups wait for the poll meanwhile)', {
      channel: this.deps.channel,
      error: String(error),
      retryInMs: Math.round(delayMs),
    });
    this.timer = this.deps.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      if (this.mode !== 'waiting') return;
      this.mode = 'connecting';
      void this.connect();
    });
  }

  private deliver(payload: string | undefined): void {
    try {
      this.deps.onPayload(payload ?? '');
    } catch (error) {
      this.deps.logger.error('holdfast: wake message handler threw', { channel: this.deps.channel, error: String(error) });
    }
  }
}

/** Ends a client whatever state it is in; its later error events are swallowed (they are expected). */
async function endQuietly(client: pg.Client): Promise<void> {
  client.removeAllListeners('notification');
  client.on('error', () => {});
  try {
    await client.end();
  } catch {
    // already ended or never connected
  }
}
