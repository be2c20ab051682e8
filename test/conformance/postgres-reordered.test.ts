import { afterAll, describe } from 'vitest';
import { reorderingStore } from '../../src/testing/reordering-store.js';
import { postgresForTests } from '../support/postgres.js';
import { runDurableConformance } from './durable-conformance.js';
import { runEventFeedConformance } from './event-feed-conformance.js';
import { runProcessRecordConformance } from './process-record-conformance.js';
import { runStoreConformance } from './store-conformance.js';

/*
 * The store conformance suites on the Postgres store through `reorderingStore`, which delays every
 * call by a seeded number of turns (the suites await each call, so this proves the decorator and
 * the store transparent together: same values, same errors). The races that issue calls together
 * run on Postgres too, in store-reordered.test.ts. Skipped with a message when no server answers
 * at HOLDFAST_TEST_PG_URL.
 */
const STORE_SEEDS = [1, 2, 3];
const DURABLE_SEEDS = [1, 2];

const pg = await postgresForTests('reordered');

describe.skipIf(!pg.available)('Postgres store, reordered', () => {
  const makeStore = pg.stores({ clock: 'caller' });
  afterAll(() => pg.dropSchemas());

  for (const seed of STORE_SEEDS) {
    runStoreConformance(`postgres, reordered (seed ${seed})`, () => reorderingStore(makeStore(), { seed }));
  }
  for (const seed of DURABLE_SEEDS) {
    runDurableConformance(`postgres, reordered (seed ${seed})`, () => reorderingStore(makeStore(), { seed }));
    runEventFeedConformance(`postgres, reordered (seed ${seed})`, () => reorderingStore(makeStore(), { seed }));
    runProcessRecordConformance(`postgres, reordered (seed ${seed})`, () => reorderingStore(makeStore(), { seed }));
  }
});
