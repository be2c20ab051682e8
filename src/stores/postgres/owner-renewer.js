// @ts-check
// The Postgres store's connection for a lease keeper thread (K10), loaded there by URL. Plain
// JavaScript, type-checked through JSDoc, so the thread needs no TypeScript loader.
//
// One connection of the thread's own, opened on the first renewal and opened again after it is
// lost. Each renewal is one statement (its own transaction) that extends every lease the owner
// still holds at its epoch: the fence is in the statement. On the database's clock
// (`leaseClock: 'database'`) the new expiry is the server's clock plus the TTL, whatever the
// host's clock says.
import pg from 'pg';

/** The server's clock in epoch milliseconds. */
export const DB_NOW_MS = 'floor(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * Extends the leases of an owner at their epochs, for schema `s` (quoted): $1 keys, $2 epochs,
 * $3 ttl, $4 owner, $5 now (null: the database's clock). Returns the renewed (key, epoch) pairs.
 * @param {string} s
 */
export function renewOwnersSql(s) {
  return `UPDATE ${s}.owners o SET expires_at = coalesce($5::bigint, ${DB_NOW_MS}) + $3::bigint
    FROM unnest($1::text[], $2::bigint[]) AS l(key, epoch)
    WHERE o.key = l.key AND o.epoch = l.epoch AND o.owner_id = $4 RETURNING o.key, o.epoch`;
}

/**
 * @typedef {{ readonly connection: import('pg').ClientConfig, readonly schema: string, readonly leaseClock: 'database' | 'caller' }} RenewerOptions
 */

/**
 * @param {RenewerOptions} options
 * @returns {import('../../ports/lease-keeper.js').OwnerRenewer}
 */
export function openOwnerRenewer(options) {
  const sql = renewOwnersSql(`"${options.schema.replace(/"/g, '""')}"`);
  /** @type {pg.Client | undefined} */
  let client;
  /** @type {Promise<pg.Client> | undefined} */
  let connecting;

  const connected = () => {
    if (client !== undefined) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new pg.Client(options.connection);
      next.on('error', () => {
        if (client === next) client = undefined; // lost: the next renewal opens another
      });
      try {
        await next.connect();
      } catch (error) {
        next.end().catch(() => undefined);
        throw error;
      } finally {
        connecting = undefined;
      }
      client = next;
      return next;
    })();
    return connecting;
  };

  return {
    async renew(request) {
      const c = await connected();
      const keys = request.leases.map((l) => l.key);
      const epochs = request.leases.map((l) => l.epoch);
      const now = options.leaseClock === 'database' ? null : request.now;
      try {
        const { rows } = await c.query(sql, [keys, epochs, request.ttlMs, request.ownerId, now]);
        const renewed = new Set(rows.map((/** @type {{ key: string, epoch: string | number }} */ r) => `${r.epoch}\u0000${r.key}`));
        return { renewed: request.leases.map((l) => renewed.has(`${l.epoch}\u0000${l.key}`)) };
      } catch (error) {
        if (client === c) client = undefined;
        c.end().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
