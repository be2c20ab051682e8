import Database from 'better-sqlite3';
import type { OwnerRenewer } from '../../ports/lease-keeper.js';
import { RENEW_OWNER_SQL } from './owner-statements.js';

/** What the SQLite store hands its keeper thread (see `openLeaseKeeper`). */
export interface SqliteRenewerOptions {
  readonly path: string;
}

/**
 * The SQLite store's connection for a lease keeper thread (loaded there by URL). Renewals are
 * one `BEGIN IMMEDIATE` transaction each, fenced by owner and epoch in the statement; this
 * thread may block on the write lock (up to a second) without holding up the kernel. `maintain`
 * runs a passive WAL checkpoint, which the kernel's own connection then leaves to this thread,
 * so the event loop never pays for one.
 *
 * A renewal runs at `synchronous = NORMAL`: a renewal lost to a power cut only shortens a lease.
 */
export function openOwnerRenewer(options: SqliteRenewerOptions): OwnerRenewer {
  const db = new Database(options.path, { timeout: 1_000, fileMustExist: true });
  db.pragma('synchronous = NORMAL');
  const renew = db.prepare(RENEW_OWNER_SQL);
  const renewAll = db.transaction((leases: readonly { key: string; epoch: number }[], ownerId: string, expiresAt: number) =>
    leases.map((lease) => renew.run(expiresAt, lease.key, ownerId, lease.epoch).changes > 0),
  );
  return {
    renew(request) {
      return { renewed: renewAll.immediate(request.leases, request.ownerId, request.now + request.ttlMs) };
    },
    maintain() {
      db.pragma('wal_checkpoint(PASSIVE)');
    },
    close() {
      db.close();
    },
  };
}
