import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore } from '../../src/stores/memory/memory-store.js';
import { sqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { runStoreConformance } from './store-conformance.js';

runStoreConformance('memory', () => memoryStore());
runStoreConformance('sqlite (FULL)', () => sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-conf-')), 'state.db') }));
runStoreConformance('sqlite (NORMAL)', () =>
  sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-conf-')), 'state.db'), synchronous: 'NORMAL' }),
);
