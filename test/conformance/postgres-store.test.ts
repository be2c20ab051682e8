import { afterAll, describe } from 'vitest';
import { postgresForTests } from '../support/postgres.js';
import { runDurableConformance } from './durable-conformance.js';
import { runEventFeedConformance } from './event-feed-conformance.js';
import { runObservabilityConformance } from './observability-conformance.js';
import { runProcessRecordConformance } from './process-record-conformance.js';
import { runStoreConformance } from './store-conformance.js';

/*
 * The store conformance suites, unchanged, on the Postgres store against a real server
 * (HOLDFAST_TEST_PG_URL; skipped with a message when none answers). Each case gets a schema of its
 * own, migrated on the store's first call. The suites drive owner leases with virtual time, so the
 * store measures leases on the caller's clock here; postgres-lease-clock.test.ts covers the
 * database's clock.
 */
const pg = await postgresForTests('conformance');

describe.skipIf(!pg.available)('Postgres store', () => {
  const makeStore = pg.stores({ clock: 'caller' });
  afterAll(() => pg.dropSchemas());

  runStoreConformance('postgres', makeStore);
  runDurableConformance('postgres', makeStore);
  runEventFeedConformance('postgres', makeStore);
  runProcessRecordConformance('postgres', makeStore);
  runObservabilityConformance('postgres', makeStore);
});
