import type Database from 'better-sqlite3';
import { checkpointRecord } from '../../core/lane-lease/compact.js';
import { checkedRecord, readJournal } from '../../core/lane-lease/codec.js';
import { effectOf, replay, type LaneEffect } from '../../core/lane-lease/replay.js';
import { LaneJournalCorruptError, LaneJournalNotEmptyError } from '../../lane-errors.js';
import type { LaneJournalRead, LaneRecord, LaneState, LiveLease } from '../../model/lane.js';
import type { LaneCommitted, LaneCompacted, LaneDecide, LaneStore, LaneView } from '../../ports/lane-store.js';
import type { WriteBatcher } from './write-batcher.js';
import { classified } from './sqlite-errors.js';
import { journalParams, leaseOfRow, leaseParams, rawRecordOfRow, type JournalRow, type LeaseRow } from './lane-rows.js';

/**
 * The SQLite lane store. Every write runs in a `BEGIN IMMEDIATE` transaction of the store's write
 * batcher: it takes the database's write lock before reading, so the read -> decide -> append of
 * concurrent processes serialize (a writer that finds the lock taken retries from a timer, never
 * blocking the event loop). The appended records are applied to `lane_leases` /
 * `lane_generations` in the same transaction, with the same effects `replay` uses.
 *
 * `transact` calls made in the same turn of the event loop share one such transaction (one sync),
 * each in its own SAVEPOINT and deciding on the view left by the ones before it; each promise
 * resolves only after the COMMIT. Compaction and import run in a transaction of their own.
 */
export function sqliteLaneStore(db: Database.Database, where: string, batcher: WriteBatcher): LaneStore {
  const q = {
    leases: db.prepare('SELECT * FROM lane_leases ORDER BY id'),
    generation: db.prepare('SELECT generation FROM lane_generations WHERE lane = ?').pluck(),
    generations: db.prepare('SELECT lane, generation FROM lane_generations ORDER BY lane'),
    lastSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM lane_journal').pluck(),
    lastRecord: db.prepare('SELECT * FROM lane_journal ORDER BY seq DESC LIMIT 1'),
    deleteRecord: db.prepare('DELETE FROM lane_journal WHERE seq = ?'),
    count: db.prepare('SELECT count(*) FROM lane_journal').pluck(),
    insertRecord: db.prepare(
      `INSERT INTO lane_journal (seq, op, at, lane, lease, holder, kind, tree, mode, ttl_minutes, generation, host, pid, run_id, reason, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    allRecords: db.prepare('SELECT * FROM lane_journal ORDER BY seq'),
    recordsSince: db.prepare('SELECT * FROM lane_journal WHERE seq >= (SELECT min(seq) FROM lane_journal WHERE at >= ?) ORDER BY seq'),
    deleteRecords: db.prepare('DELETE FROM lane_journal'),
    insertLease: db.prepare(
      `INSERT OR REPLACE INTO lane_leases (id, lane, kind, tree, mode, holder, host, pid, run_id, ttl_minutes, generation, acquired_at, beat_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setGeneration: db.prepare(
      'INSERT INTO lane_generations (lane, generation) VALUES (?, ?) ON CONFLICT (lane) DO UPDATE SET generation = excluded.generation',
    ),
    deleteLease: db.prepare('DELETE FROM lane_leases WHERE id = ?'),
    beat: db.prepare('UPDATE lane_leases SET beat_at = ? WHERE id = ?'),
    adopt: db.prepare('UPDATE lane_leases SET holder = ?, host = ?, pid = ?, beat_at = ? WHERE id = ?'),
    clearLeases: db.prepare('DELETE FROM lane_leases'),
    clearGenerations: db.prepare('DELETE FROM lane_generations'),
  };

  const apply = (effect: LaneEffect): void => {
    switch (effect.kind) {
      case 'insert':
        q.insertLease.run(...leaseParams(effect.lease));
        q.setGeneration.run(effect.lease.lane, effect.lease.generation);
        return;
      case 'delete':
        q.deleteLease.run(effect.id);
        return;
      case 'beat':
        q.beat.run(effect.at, effect.id);
        return;
      case 'adopt':
        q.adopt.run(effect.holder, effect.host, effect.pid, effect.at, effect.id);
        return;
      case 'reset':
        q.clearLeases.run();
        q.clearGenerations.run();
        for (const lease of effect.snapshot.leases) q.insertLease.run(...leaseParams(lease));
        for (const [lane, generation] of Object.entries(effect.snapshot.generations)) q.setGeneration.run(lane, generation);
        return;
      case 'none':
        return;
    }
  };

  const append = (record: LaneRecord): void => {
    q.insertRecord.run(...journalParams(record));
    apply(effectOf(record));
  };

  const readRows = (rows: JournalRow[]): LaneJournalRead => {
    const read = readJournal(rows.map((row) => ({ position: row.seq, raw: () => rawRecordOfRow(row) })));
    if (!read.ok) throw new LaneJournalCorruptError(where, read.position, read.seq ?? read.position, read.problem);
    return { records: read.records, torn: read.torn };
  };

  /** Whether the stored last record is torn (does not decode): it reads as not written. */
  const lastIsTorn = (last: JournalRow | undefined): boolean => {
    if (last === undefined) return false;
    const read = readJournal([{ position: last.seq, raw: () => rawRecordOfRow(last) }]);
    return !read.ok || read.torn !== null;
  };

  /** The state the readable journal folds to, the torn last record's seq kept as the watermark. */
  const foldReadable = (): LaneState => {
    const rows = q.allRecords.all() as JournalRow[];
    return { ...replay(readRows(rows).records), lastSeq: rows.at(-1)?.seq ?? 0 };
  };

  /**
   * A torn last record (changed or cut after it was written) must not stay in the live set: the
   * live set is rebuilt from the readable journal and the torn record replaced by a checkpoint of
   * that state under its seq, so the journal reads whole again and no seq is reused.
   */
  const repairTorn = (last: JournalRow): void => {
    const state = foldReadable();
    q.deleteRecord.run(last.seq);
    const at = typeof last.at === 'number' && Number.isFinite(last.at) ? last.at : 0;
    append(checkpointRecord(state, at));
  };

  /**
   * Read -> decide -> append. Every record is checked before the first one is written, so a throw
   * leaves nothing written (the batcher runs it without a savepoint), except the repair of a torn
   * last record, which is correct on its own.
   */
  const transactBody = <T>(decide: LaneDecide<T>): LaneCommitted<T> => {
    const last = q.lastRecord.get() as JournalRow | undefined;
    if (lastIsTorn(last)) repairTorn(last!);
    let leases: LiveLease[] | undefined;
    let lastSeq = last?.seq ?? 0;
    const view: LaneView = {
      get leases() {
        leases ??= (q.leases.all() as LeaseRow[]).map(leaseOfRow);
        return leases;
      },
      lastSeq,
      generation: (lane) => q.generation.get(lane) as number | undefined,
    };
    const decision = decide(view);
    const appended = decision.append.map((draft) => checkedRecord({ ...draft, seq: ++lastSeq }));
    for (const record of appended) append(record);
    return { value: decision.value, appended };
  };
  const readState = db.transaction((): LaneState => {
    if (lastIsTorn(q.lastRecord.get() as JournalRow | undefined)) return foldReadable();
    return {
      leases: (q.leases.all() as LeaseRow[]).map(leaseOfRow),
      generations: Object.fromEntries((q.generations.all() as { lane: string; generation: number }[]).map((g) => [g.lane, g.generation])),
      lastSeq: q.lastSeq.get() as number,
    };
  });

  const compactBody = (): LaneCompacted => {
    const rows = q.allRecords.all() as JournalRow[];
    const { records } = readRows(rows);
    const watermark = rows.at(-1)?.seq ?? 0;
    if (rows.length === 0) return { recordsBefore: 0, recordsAfter: 0, watermark: 0 };
    // The watermark is the highest stored seq, a torn last record's included, so no seq is reused.
    const checkpoint = checkpointRecord({ ...replay(records), lastSeq: watermark }, records.at(-1)?.at ?? 0);
    q.deleteRecords.run();
    append(checkpoint);
    return { recordsBefore: rows.length, recordsAfter: 1, watermark };
  };

  const importBody = (records: readonly LaneRecord[]): { imported: number } => {
    const existing = q.count.get() as number;
    if (existing > 0) throw new LaneJournalNotEmptyError(where, existing);
    const checked = records.map(checkedRecord);
    for (const record of checked) q.insertRecord.run(...journalParams(record));
    const state = replay(checked);
    apply({ kind: 'reset', snapshot: state });
    return { imported: checked.length };
  };

  return {
    async transact<T>(decide: LaneDecide<T>): Promise<LaneCommitted<T>> {
      return batcher.write(() => transactBody(decide), { atomic: true });
    },
    async state(): Promise<LaneState> {
      return classified(where, readState);
    },
    async journal(options?: { sinceAt?: number }): Promise<LaneJournalRead> {
      const rows = classified(
        where,
        () => (options?.sinceAt === undefined ? q.allRecords.all() : q.recordsSince.all(options.sinceAt)) as JournalRow[],
      );
      const read = readRows(rows);
      const since = options?.sinceAt;
      return since === undefined ? read : { records: read.records.filter((r) => r.at >= since), torn: read.torn };
    },
    async compact(): Promise<LaneCompacted> {
      return batcher.write(compactBody, { alone: true });
    },
    async importJournal(records: readonly LaneRecord[]): Promise<{ imported: number }> {
      return batcher.write(() => importBody(records), { alone: true });
    },
  };
}
