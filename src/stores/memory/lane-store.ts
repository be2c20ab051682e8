import { compact } from '../../core/lane-lease/compact.js';
import { checkedRecord } from '../../core/lane-lease/codec.js';
import { EMPTY_LANE_STATE, applyRecord, replay } from '../../core/lane-lease/replay.js';
import { HoldfastError } from '../../errors.js';
import { LaneJournalNotEmptyError } from '../../lane-errors.js';
import type { LaneJournalRead, LaneRecord, LaneState } from '../../model/lane.js';
import type { LaneCommitted, LaneCompacted, LaneDecide, LaneStore } from '../../ports/lane-store.js';

/**
 * The reference lane store: the journal is an array and the live set is `replay` applied one
 * record at a time. Nothing survives the process; it is the executable spec the SQL stores are
 * tested against.
 */
export function memoryLaneStore(isClosed: () => boolean = () => false): LaneStore {
  let journal: LaneRecord[] = [];
  let state: LaneState = EMPTY_LANE_STATE;

  const open = (): void => {
    if (isClosed()) throw new HoldfastError('store_closed', 'the memory store is closed; open a new one');
  };

  return {
    async transact<T>(decide: LaneDecide<T>): Promise<LaneCommitted<T>> {
      open();
      const generations = state.generations;
      const decision = decide({
        leases: state.leases,
        lastSeq: state.lastSeq,
        generation: (lane) => (Object.hasOwn(generations, lane) ? generations[lane] : undefined),
      });
      let next = state;
      const appended: LaneRecord[] = [];
      for (const draft of decision.append) {
        const record = structuredClone(checkedRecord({ ...draft, seq: next.lastSeq + 1 }));
        appended.push(record);
        next = applyRecord(next, record);
      }
      journal = [...journal, ...appended];
      state = next;
      return { value: decision.value, appended: structuredClone(appended) };
    },

    async state(): Promise<LaneState> {
      open();
      return structuredClone(state);
    },

    async journal(options?: { sinceAt?: number }): Promise<LaneJournalRead> {
      open();
      const since = options?.sinceAt;
      return { records: structuredClone(since === undefined ? journal : journal.filter((r) => r.at >= since)), torn: null };
    },

    async compact(): Promise<LaneCompacted> {
      open();
      const before = journal.length;
      const compacted = compact(journal);
      journal = compacted;
      state = replay(compacted);
      return { recordsBefore: before, recordsAfter: compacted.length, watermark: state.lastSeq };
    },

    async importJournal(records: readonly LaneRecord[]): Promise<{ imported: number }> {
      open();
      if (journal.length > 0) throw new LaneJournalNotEmptyError('memory', journal.length);
      const checked = structuredClone(records.map(checkedRecord));
      journal = checked;
      state = replay(checked);
      return { imported: checked.length };
    },
  };
}
