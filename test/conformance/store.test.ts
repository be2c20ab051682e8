import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/ports/store.js';
import { memoryStore } from '../../src/stores/memory/memory-store.js';
import { sqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { runDurableConformance } from './durable-conformance.js';
import { runEventFeedConformance } from './event-feed-conformance.js';
import { runObservabilityConformance } from './observability-conformance.js';
import { runProcessRecordConformance } from './process-record-conformance.js';
import { runStoreConformance } from './store-conformance.js';

const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite (FULL)', () => sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-conf-')), 'state.db') })],
  ['sqlite (NORMAL)', () => sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-conf-')), 'state.db'), synchronous: 'NORMAL' })],
];

for (const [name, makeStore] of stores) {
  runStoreConformance(name, makeStore);
  runDurableConformance(name, makeStore);
  runEventFeedConformance(name, makeStore);
  runProcessRecordConformance(name, makeStore);
  runObservabilityConformance(name, makeStore);
}
