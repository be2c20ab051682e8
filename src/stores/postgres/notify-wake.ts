import { createHash } from 'node:crypto';
import type pg from 'pg';
import { pgDriver } from './pg-driver.js';
import type { BackoffPolicy } from '../../core/backoff.js';
import { InvalidInputError } from '../../errors.js';
import type { Clock, Random } from '../../ports/clock.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import type { WakeListener, WakeTransport } from '../../ports/wake.js';
import { systemClock, systemRandom } from '../../platform/system-clock.js';
import { parseWakeMessage } from '../../platform/unix-socket-wake.js';
import { NotifyListener } from './notify-listener.js';

/** Every address of this transport starts with it; the rest is the listener's channel. */
export const NOTIFY_ADDRESS_SCHEME = 'pg-notify:';

/** Postgres refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_999;

export interface NotifyWakeOptions {
  /** `postgres://user@host:5432/db`; give this or `connection`. */
  readonly connectionString?: string;
  /** `pg` client settings (host, port, user, password, ssl ...); give this or `connectionString`. */
  readonly connection?: pg.ClientConfig;
  /**
   * The store's schema. Channels are named after it (`hf_<schema hash>_<listener>`), and an address
   * of another schema's kernel is refused: kernels on different schemas never wake each other.
   */
  readonly schema: string;
  /** Sends go through this pool (the store's, say) instead of a small one of the transport's own; `close()` leaves it open. */
  readonly sendPool?: pg.Pool;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  /** Wait before re-opening a dropped listening connection: doubles per failure from `initialMs` (100) to `maxMs` (5 000), jittered. */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How long one send may take to connect and notify before it counts as not delivered (default 2 000 ms). */
  readonly sendTimeoutMs?: number;
}

export interface NotifyWake extends WakeTransport {
  /** Closes every listener still open and the transport's own send pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * Wake-up and preemption through Postgres `LISTEN/NOTIFY` (K2 across hosts): each listener holds a
 * dedicated connection listening on a channel of its own, `hf_<schema hash>_<random>` (a lower-case
 * identifier far below the 63-byte limit), and its address is `pg-notify:<channel>`. `send` is
 * `SELECT pg_notify(channel, json)` on a pooled connection.
 *
 * A notification is only a latency hint, never the truth: one sent while the listener is
 * reconnecting is lost, so after every reconnect the listener calls its catch-up callback and the
 * kernel re-reads the store; the kernel's safety-net poll stays. A process that dies before `send`
 * returns may or may not have notified; the receiver acts only on what the store says either way.
 * A process that dies while listening leaves nothing behind: Postgres drops its `LISTEN` with its
 * connection, and notifications to its address go nowhere.
 *
 * @example
 * const wake = notifyWake({ connectionString: 'postgres://postgres@127.0.0.1:5432/app', schema: 'holdfast' });
 * const kernel = createKernel({ store, flows, wake });
 */
export function notifyWake(options: NotifyWakeOptions): NotifyWake {
  const config = connectionConfig(options);
  const schemaTag = hex(validSchema(options.schema)).slice(0, 8);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const logger = options.logger ?? silentLogger;
  const backoff = backoffPolicy(options.reconnect);
  const sendTimeoutMs = positive(options.sendTimeoutMs ?? 2_000, 'sendTimeoutMs');
  const listeners = new Set<NotifyListener>();
  let ownPool: pg.Pool | undefined;
  const pool = (): pg.Pool => {
    if (options.sendPool) return options.sendPool;
    if (!ownPool) {
      ownPool = new (pgDriver().Pool)({
        ...config,
        application_name: 'holdfast wake sender',
        max: 2,
        idleTimeoutMillis: 5_000,
        allowExitOnIdle: true, // an idle sender never keeps the process alive
        connectionTimeoutMillis: sendTimeoutMs,
        query_timeout: sendTimeoutMs,
      });
      ownPool.on('error', (error) => logger.warn('holdfast: idle wake sender connection failed', { error: String(error) }));
    }
    return ownPool;
  };

  return {
    async listen(onMessage, onCatchUp) {
      const channel = `hf_${schemaTag}_${hex(random.uuid()).slice(0, 24)}`;
      const listener = new NotifyListener({
        config,
        channel,
        applicationName: `holdfast wake ${channel}`,
        clock,
        random,
        logger,
        backoff,
        onPayload: (payload) => {
          const message = parseWakeMessage(payload);
          if (message) return onMessage(message);
          logger.warn('holdfast: ignored a malformed wake notification', { channel, payload: payload.slice(0, 200) });
        },
        onCatchUp: () => onCatchUp?.(),
      });
      listeners.add(listener);
      await listener.open();
      const woken: WakeListener = {
        address: `${NOTIFY_ADDRESS_SCHEME}${channel}`,
        close: async () => {
          listeners.delete(listener);
          await listener.close();
        },
      };
      return woken;
    },

    async send(address, message) {
      const channel = channelOf(address, schemaTag);
      if (channel === undefined) {
        logger.warn('holdfast: not a pg-notify wake address of this schema; the owner will see the work at its next poll', { address });
        return false;
      }
      const payload = JSON.stringify(message);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
        logger.warn('holdfast: wake message too large for NOTIFY (8000 bytes); the owner will see the work at its next poll', {
          key: message.key.slice(0, 100),
        });
        return false;
      }
      try {
        await pool().query('SELECT pg_notify($1, $2)', [channel, payload]);
        return true; // the server took it; Postgres cannot tell whether anyone listens
      } catch (error) {
        logger.warn('holdfast: wake notification failed', { channel, error: String(error) });
        return false;
      }
    },

    async close() {
      await Promise.all([...listeners].map((l) => l.close()));
      listeners.clear();
      const own = ownPool;
      ownPool = undefined;
      await own?.end();
    },
  };
}

/** The channel of a `pg-notify:` address of this schema, or undefined. */
function channelOf(address: string, schemaTag: string): string | undefined {
  const match = /^pg-notify:(hf_([0-9a-f]{8})_[0-9a-f]{24})$/.exec(address);
  return match && match[2] === schemaTag ? match[1] : undefined;
}

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function connectionConfig(options: NotifyWakeOptions): pg.ClientConfig {
  if (!options || typeof options !== 'object') throw new InvalidInputError('notifyWake needs { connectionString | connection, schema }');
  const { connectionString, connection } = options;
  if ((connectionString === undefined) === (connection === undefined)) {
    throw new InvalidInputError('notifyWake needs exactly one of connectionString (a postgres:// URL) or connection (pg client settings)');
  }
  if (connectionString !== undefined) {
    if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString))
      throw new InvalidInputError('notifyWake connectionString must be a postgres:// or postgresql:// URL');
    return { connectionString };
  }
  if (connection === null || typeof connection !== 'object')
    throw new InvalidInputError('notifyWake connection must be an object of pg client settings');
  return connection;
}

function validSchema(schema: unknown): string {
  if (typeof schema !== 'string' || schema === '')
    throw new InvalidInputError('notifyWake needs the store schema name (a non-empty string), e.g. schema: "holdfast"');
  return schema;
}

function backoffPolicy(reconnect: NotifyWakeOptions['reconnect']): BackoffPolicy {
  const initialMs = positive(reconnect?.initialMs ?? 100, 'reconnect.initialMs');
  const maxMs = positive(reconnect?.maxMs ?? 5_000, 'reconnect.maxMs');
  if (maxMs < initialMs) throw new InvalidInputError(`reconnect.maxMs (${maxMs}) must be at least reconnect.initialMs (${initialMs})`);
  return { initialMs, maxMs, factor: 2 };
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidInputError(`notifyWake ${name} must be a positive number of milliseconds, got ${String(value)}`, 'invalid_option');
  return value;
}
