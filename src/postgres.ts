/**
 * `holdfast/postgres`: the fleet store (I6), for kernels on several hosts sharing one Postgres
 * database. It needs the optional peer dependency `pg` (`npm install pg`); the main `holdfast`
 * entry never loads it, so SQLite-only users do not install it.
 */
export { postgresStore } from './stores/postgres/postgres-store.js';
export type { LeaseClock, PostgresStoreOptions } from './stores/postgres/postgres-store.js';
export { CommitOutcomeUnknownError } from './stores/postgres/pg-errors.js';
export { notifyWake } from './stores/postgres/notify-wake.js';
export type { NotifyWake, NotifyWakeOptions } from './stores/postgres/notify-wake.js';
