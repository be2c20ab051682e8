/** Owner-lease SQL shared by the store's connection and its keeper thread's connection. */

/** Extends a lease only for its holder at its epoch: the fence is in the statement. */
export const RENEW_OWNER_SQL = 'UPDATE owners SET expires_at = ? WHERE key = ? AND owner_id = ? AND epoch = ?';
