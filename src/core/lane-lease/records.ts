import type { NewLaneRecord } from '../../model/lane.js';

/** A new record with every field that does not apply set to null. */
export function newRecord(fields: Pick<NewLaneRecord, 'op' | 'at'> & Partial<NewLaneRecord>): NewLaneRecord {
  return {
    lane: null,
    lease: null,
    holder: null,
    kind: null,
    tree: null,
    mode: null,
    ttlMinutes: null,
    generation: null,
    host: null,
    pid: null,
    runId: null,
    reason: null,
    detail: null,
    ...fields,
  };
}
