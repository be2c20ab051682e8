import type pg from 'pg';
import { HoldfastError } from '../../errors.js';
import type { LeaseKeeper, LeaseKeeperOptions } from '../../ports/lease-keeper.js';
import { startLeaseKeeperThread } from '../../platform/lease-keeper-thread.js';
import { siblingFile } from '../../platform/shipped-file.js';
import type { LeaseClock } from './pg-runs.js';

/**
 * The Postgres store's lease keeper threads (K10), one per kernel that asks: each renews its
 * kernel's owner leases over a connection of its own (owner-renewer.js), so a blocked event loop
 * or a pool whose connections are all busy does not stop renewal. Closed with the store.
 */
export class PgLeaseKeepers {
  private readonly open_ = new Set<LeaseKeeper>();

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly schema: string,
    private readonly leaseClock: LeaseClock,
  ) {}

  async open(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const renewer = {
      module: siblingFile(import.meta.url, 'owner-renewer.js'),
      options: { connection: threadConfig(this.connection), schema: this.schema, leaseClock: this.leaseClock },
    };
    const keeper = await startLeaseKeeperThread(renewer, options);
    const kept: LeaseKeeper = {
      now: () => keeper.now(),
      keep: (lease, acquiredAt) => keeper.keep(lease, acquiredAt),
      heartbeat: () => keeper.heartbeat(),
      close: async () => {
        if (this.open_.delete(kept)) await keeper.close();
      },
    };
    this.open_.add(kept);
    return kept;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open_].map((k) => k.close()));
  }
}

/**
 * The connection settings as data a thread can receive (structured clone): a pool's settings may
 * hold functions (a password callback, custom type parsers), which cannot cross.
 */
function threadConfig(connection: pg.ClientConfig): pg.ClientConfig {
  const plain = Object.fromEntries(Object.entries(connection).filter(([, value]) => typeof value !== 'function'));
  const name = typeof connection.application_name === 'string' ? connection.application_name : 'holdfast';
  try {
    return structuredClone({ ...plain, application_name: `${name}-lease-keeper` });
  } catch (error) {
    throw new HoldfastError(
      'keeper_unsupported',
      `the Postgres connection settings cannot be handed to a lease keeper thread (${(error as Error).message}); pass plain settings or a connectionString`,
    );
  }
}
