// @ts-check
// The SQLite store's connection for a lease keeper thread, loaded there by URL. Plain JavaScript,
// type-checked through JSDoc, so the thread needs no TypeScript loader.
//
// Renewals are one `BEGIN IMMEDIATE` transaction each, fenced by owner and epoch in the statement;
// this thread may block on the write lock (up to a second) without holding up the kernel. Renewals
// run at `synchronous = NORMAL`: one lost to a power cut only shortens a lease. WAL checkpoints stay
// with the kernel's own connection: run from here, the database file's fsyncs contended with the
// WAL's and cost a third of the commit rate at synchronous = FULL.
import Database from 'better-sqlite3';

/** Extends a lease only for its holder at its epoch: the fence is in the statement. */
export const RENEW_OWNER_SQL = 'UPDATE owners SET expires_at = ? WHERE key = ? AND owner_id = ? AND epoch = ?';

/**
 * @param {{ readonly path: string }} options
 * @returns {import('../../ports/lease-keeper.js').OwnerRenewer}
 */
export function openOwnerRenewer(options) {
  const db = new Database(options.path, { timeout: 1_000, fileMustExist: true });
  db.pragma('synchronous = NORMAL');
  const renew = db.prepare(RENEW_OWNER_SQL);
  const renewAll = db.transaction(
    /** @param {readonly { key: string, epoch: number }[]} leases @param {string} ownerId @param {number} expiresAt */
    (leases, ownerId, expiresAt) => leases.map((lease) => renew.run(expiresAt, lease.key, ownerId, lease.epoch).changes > 0),
  );
  return {
    renew(request) {
      return { renewed: renewAll.immediate(request.leases, request.ownerId, request.now + request.ttlMs) };
    },
    close() {
      db.close();
    },
  };
}
