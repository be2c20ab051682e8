import type { ProcessGroupRecord, ProcessRecordStore } from '../../ports/process-record-store.js';
import { REAP_CLAIM_TTL_MS } from '../../ports/process-record-store.js';
import type { MemoryState } from './memory-state.js';

/** The memory store's process group records (S4), by id in record order. */
export function memoryProcessRecords(s: MemoryState): ProcessRecordStore {
  const records = new Map<number, ProcessGroupRecord>();
  let lastId = 0;
  const openOf = (pgid: number, ownerId: string) =>
    [...records.values()].filter((r) => r.pgid === pgid && r.ownerId === ownerId && r.endedAt === null);
  return {
    async recordProcessGroup(group) {
      s.open();
      const fields = {
        pgid: group.pgid,
        ownerId: group.ownerId,
        host: group.host,
        pid: group.pid,
        runId: group.runId,
        key: group.key,
        leaderStart: group.leaderStart ?? null,
        startedAt: group.startedAt,
      };
      const open = openOf(group.pgid, group.ownerId)[0];
      const record: ProcessGroupRecord = open
        ? { ...open, ...fields }
        : { ...fields, id: ++lastId, endedAt: null, reapClaimedBy: null, reapClaimedAt: null };
      records.set(record.id, record);
      return { ...record };
    },

    async endProcessGroup(pgid, ownerId, at) {
      s.open();
      const open = openOf(pgid, ownerId);
      for (const record of open) records.set(record.id, { ...record, endedAt: at });
      return open.length;
    },

    async listProcessGroups(query) {
      return [...records.values()]
        .filter((r) => !query.open || r.endedAt === null)
        .slice(0, query.limit ?? 1000)
        .map((r) => ({ ...r }));
    },

    async claimOrphanReap(id, janitorId, at) {
      s.open();
      const record = records.get(id);
      if (!record || record.endedAt !== null) return false;
      if (record.reapClaimedAt !== null && record.reapClaimedAt > at - REAP_CLAIM_TTL_MS) return false;
      records.set(id, { ...record, reapClaimedBy: janitorId, reapClaimedAt: at });
      return true;
    },

    async pruneProcessGroups(endedBefore) {
      s.open();
      let pruned = 0;
      for (const record of [...records.values()]) {
        if (record.endedAt !== null && record.endedAt < endedBefore) {
          records.delete(record.id);
          pruned++;
        }
      }
      return pruned;
    },
  };
}
