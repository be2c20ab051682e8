import type Database from 'better-sqlite3';
import type { LaneStore } from '../../ports/lane-store.js';

export function sqliteLaneStore(_db: Database.Database): LaneStore {
  return { kind: 'lanes' };
}
