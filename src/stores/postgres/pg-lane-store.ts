import { checkpointRecord } from '../../core/lane-lease/compact.js';
import { checkedRecord, readJournal } from '../../core/lane-lease/codec.js';
import { effectOf, replay, type LaneEffect } from '../../core/lane-lease/replay.js';
import { LaneJournalCorruptError, LaneJournalNotEmptyError } from '../../lane-errors.js';
import type { LaneJournalRead, LaneRecord, LiveLease } from '../../model/lane.js';
import type { LaneCompacted, LaneStore, LaneView } from '../../ports/lane-store.js';
import type { PgContext } from './pg-context.js';
import type { Sql } from './pg-database.js';
import { int } from './pg-rows.js';
import {
  JOURNAL_COLUMNS,
  LEASE_COLUMNS,
  journalParams,
  leaseOfRow,
  leaseParams,
  rawRecordOfRow,
  type JournalRow,
  type LeaseRow,
} from './pg-lane-rows.js';

const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

/**
 * The Postgres lane store. Every write is one transaction that first locks the single row of
 * `lane_head` (`SELECT ... FOR UPDATE`): writers of the store, in every process on every host,
 * run their read -> decide -> append one after the other, each deciding on what the one before it
 * committed. No lock file and no advisory lock outlive the transaction: a writer that dies holding
 * the row lock loses it with its connection. The appended records are applied to `lane_leases` /
 * `lane_generations` in the same transaction, with the effects `replay` uses.
 *
 * Process dies before the COMMIT: nothing of the transaction is written. After: records, seqs and
 * live set are written together.
 */
export function pgLaneStore(c: PgContext): LaneStore {
  const { db, s } = c;
  const where = `${db.description} lanes`;

  const lockHead = (sql: Sql) => sql.query(`SELECT only_row FROM ${s}.lane_head FOR UPDATE`);
  const lastSeq = async (sql: Sql) =>
    int((await c.first<{ seq: string }>(sql, `SELECT coalesce(max(seq), 0) AS seq FROM ${s}.lane_journal`))!.seq);
  const insertLease = (sql: Sql, lease: LiveLease) =>
    sql.query(
      `INSERT INTO ${s}.lane_leases (${LEASE_COLUMNS}) VALUES (${placeholders(13)})
       ON CONFLICT (id) DO UPDATE SET (${LEASE_COLUMNS}) = ROW(${placeholders(13)})`,
      leaseParams(lease),
    );
  const setGeneration = (sql: Sql, lane: string, generation: number) =>
    sql.query(
      `INSERT INTO ${s}.lane_generations (lane, generation) VALUES ($1, $2) ON CONFLICT (lane) DO UPDATE SET generation = excluded.generation`,
      [lane, generation],
    );

  const apply = async (sql: Sql, effect: LaneEffect): Promise<void> => {
    switch (effect.kind) {
      case 'insert':
        await insertLease(sql, effect.lease);
        await setGeneration(sql, effect.lease.lane, effect.lease.generation);
        return;
      case 'delete':
        await sql.query(`DELETE FROM ${s}.lane_leases WHERE id = $1`, [effect.id]);
        return;
      case 'beat':
        await sql.query(`UPDATE ${s}.lane_leases SET beat_at = $1 WHERE id = $2`, [effect.at, effect.id]);
        return;
      case 'adopt':
        await sql.query(`UPDATE ${s}.lane_leases SET holder = $1, host = $2, pid = $3, beat_at = $4 WHERE id = $5`, [
          effect.holder,
          effect.host,
          effect.pid,
          effect.at,
          effect.id,
        ]);
        return;
      case 'reset':
        await sql.query(`DELETE FROM ${s}.lane_leases`);
        await sql.query(`DELETE FROM ${s}.lane_generations`);
        for (const lease of effect.snapshot.leases) await insertLease(sql, lease);
        for (const [lane, generation] of Object.entries(effect.snapshot.generations)) await setGeneration(sql, lane, generation);
        return;
      case 'none':
        return;
    }
  };

  const insertRecord = (sql: Sql, record: LaneRecord) =>
    sql.query(`INSERT INTO ${s}.lane_journal (${JOURNAL_COLUMNS}) VALUES (${placeholders(16)})`, journalParams(record));

  const readRows = (rows: JournalRow[]): LaneJournalRead => {
    const read = readJournal(rows.map((row) => ({ position: int(row.seq), raw: () => rawRecordOfRow(row) })));
    if (!read.ok) throw new LaneJournalCorruptError(where, read.position, read.seq ?? read.position, read.problem);
    return { records: read.records, torn: read.torn };
  };

  return {
    transact: (decide) =>
      db.transaction(async (sql) => {
        await lockHead(sql);
        let seq = await lastSeq(sql);
        const leases = (await c.rows<LeaseRow>(sql, `SELECT * FROM ${s}.lane_leases ORDER BY id`)).map(leaseOfRow);
        const generations = new Map(
          (await c.rows<{ lane: string; generation: string }>(sql, `SELECT lane, generation FROM ${s}.lane_generations`)).map((g) => [
            g.lane,
            int(g.generation),
          ]),
        );
        const view: LaneView = { leases, lastSeq: seq, generation: (lane) => generations.get(lane) };
        const decision = decide(view);
        const appended: LaneRecord[] = [];
        for (const draft of decision.append) {
          const record = checkedRecord({ ...draft, seq: ++seq });
          await insertRecord(sql, record);
          await apply(sql, effectOf(record));
          appended.push(record);
        }
        return { value: decision.value, appended };
      }),

    async state() {
      // One statement: one snapshot of leases, generations and the journal's head.
      const row = await db.read((sql) =>
        c.first<{ leases: LeaseRow[] | null; generations: { lane: string; generation: number }[] | null; last_seq: string }>(
          sql,
          `SELECT (SELECT json_agg(l ORDER BY l.id) FROM ${s}.lane_leases l) AS leases,
             (SELECT json_agg(g ORDER BY g.lane) FROM ${s}.lane_generations g) AS generations,
             (SELECT coalesce(max(seq), 0) FROM ${s}.lane_journal) AS last_seq`,
        ),
      );
      return {
        leases: (row!.leases ?? []).map(leaseOfRow),
        generations: Object.fromEntries((row!.generations ?? []).map((g) => [g.lane, int(g.generation)])),
        lastSeq: int(row!.last_seq),
      };
    },

    async journal(options) {
      const since = options?.sinceAt;
      const rows = await db.read((sql) =>
        since === undefined
          ? c.rows<JournalRow>(sql, `SELECT * FROM ${s}.lane_journal ORDER BY seq`)
          : c.rows<JournalRow>(
              sql,
              `SELECT * FROM ${s}.lane_journal WHERE seq >= (SELECT min(seq) FROM ${s}.lane_journal WHERE at >= $1) ORDER BY seq`,
              [since],
            ),
      );
      const read = readRows(rows);
      return since === undefined ? read : { records: read.records.filter((r) => r.at >= since), torn: read.torn };
    },

    compact: () =>
      db.transaction(async (sql): Promise<LaneCompacted> => {
        await lockHead(sql);
        const rows = await c.rows<JournalRow>(sql, `SELECT * FROM ${s}.lane_journal ORDER BY seq`);
        if (rows.length === 0) return { recordsBefore: 0, recordsAfter: 0, watermark: 0 };
        const { records } = readRows(rows);
        // The watermark is the highest stored seq, a torn last record's included, so no seq is reused.
        const watermark = int(rows.at(-1)!.seq);
        const checkpoint = checkpointRecord({ ...replay(records), lastSeq: watermark }, records.at(-1)?.at ?? 0);
        await sql.query(`DELETE FROM ${s}.lane_journal`);
        await insertRecord(sql, checkpoint);
        await apply(sql, effectOf(checkpoint));
        return { recordsBefore: rows.length, recordsAfter: 1, watermark };
      }),

    importJournal: (records) =>
      db.transaction(async (sql) => {
        await lockHead(sql);
        const existing = int((await c.first<{ n: string }>(sql, `SELECT count(*) AS n FROM ${s}.lane_journal`))!.n);
        if (existing > 0) throw new LaneJournalNotEmptyError(where, existing);
        const checked = records.map(checkedRecord);
        for (const record of checked) await insertRecord(sql, record);
        await apply(sql, { kind: 'reset', snapshot: replay(checked) });
        return { imported: checked.length };
      }),
  };
}
