import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqliteStore } from 'holdfast';
import type { ParkedFrame } from '../../src/model/index.js';
import { HOLDFAST_APPLICATION_ID, loadMigrations } from '../../src/stores/sqlite/open-database.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hf-migrate6-')), 'state.db');

/** The frames the schema-5 store had written (parked_frames rows), as records. */
const PARKED: ParkedFrame = {
  runId: 'parked',
  key: 'k',
  epoch: 1,
  turnSeq: 2,
  attempt: 1,
  provider: 'agent',
  input: { prompt: 'triage #7', tags: ['a', 1] },
  sessionId: 'sess-1',
  parkedBy: 'u',
  parkedAt: 40,
};
const RESUMED: ParkedFrame = {
  runId: 'resumed',
  key: 'k2',
  epoch: 1,
  turnSeq: 0,
  attempt: 1,
  provider: null,
  input: null,
  sessionId: null,
  parkedBy: null,
  parkedAt: 50,
};

/**
 * A database as holdfast with schema 5 left it: migrations 0001..0005 applied, and rows inserted
 * the way that store wrote them (a run parked by `steal` was `queued` with `parked = 1` and a row
 * in `parked_frames`; a parked run claimed again stayed `parked` with its frame until a step at or
 * past the frame committed).
 */
function schema5Database(path: string): void {
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  for (const migration of loadMigrations().filter((m) => m.version <= 5)) {
    old.exec(migration.sql);
    old.pragma(`user_version = ${migration.version}`);
  }
  old.pragma(`application_id = ${HOLDFAST_APPLICATION_ID}`);
  expect(old.pragma('user_version', { simple: true })).toBe(5);
  const run = old.prepare(`INSERT INTO runs (id, key, flow, input, idempotency_key, priority, priority_rank, preempt, status, attempts,
    result, epoch, parked, cancel_mode, created_at, started_at, finished_at)
    VALUES (@id, @key, 'f', '{"n":1}', @idem, @priority, @rank, @preempt, @status, @attempts, @result, @epoch, @parked, NULL, @at, @started, @finished)`);
  const base = { priority: 'normal', rank: 1, preempt: null, attempts: 1, result: null, epoch: 1, parked: 0, started: 10, finished: null };
  run.run({ ...base, id: 'done', key: 'k', idem: 'i-done', status: 'completed', result: '"ok"', at: 1, finished: 20 });
  run.run({ ...base, id: 'parked', key: 'k', idem: 'i-parked', status: 'queued', parked: 1, at: 2 });
  run.run({ ...base, id: 'resumed', key: 'k2', idem: 'i-resumed', status: 'running', parked: 1, attempts: 2, at: 3 });
  run.run({ ...base, id: 'u', key: 'k', idem: 'i-u', priority: 'urgent', rank: 0, preempt: 'steal', status: 'queued', attempts: 0, at: 4 });
  run.run({ ...base, id: 'later', key: 'k', idem: 'i-later', status: 'queued', attempts: 0, epoch: null, started: null, at: 5 });
  const step = old.prepare(
    'INSERT INTO steps (run_seq, seq, name, result, epoch, committed_at) SELECT seq, ?, ?, ?, 1, 30 FROM runs WHERE id = ?',
  );
  step.run(0, 'only', '"x"', 'done');
  step.run(0, 'plan', '"p"', 'parked');
  step.run(1, 'classify', '{"label":"bug"}', 'parked');
  const frame =
    old.prepare(`INSERT INTO parked_frames (run_id, key, epoch, turn_seq, attempt, provider, input, session_id, parked_by, parked_at)
    VALUES (@runId, @key, @epoch, @turnSeq, @attempt, @provider, @input, @sessionId, @parkedBy, @parkedAt)`);
  for (const f of [PARKED, RESUMED]) frame.run({ ...f, input: f.input === null ? null : JSON.stringify(f.input) });
  old.exec("INSERT INTO owners (key, owner_id, epoch, expires_at, channel) VALUES ('k', 'old-owner', 1, 100, NULL)");
  old.close();
}

describe('migration 0006 (durable execution) of a schema-5 database', () => {
  it('opens at schema 6 with a parked run waiting on its frame, its steps intact, and sequence numbers still growing', async () => {
    const path = fresh();
    schema5Database(path);
    const store = sqliteStore({ path });
    try {
      expect(await store.getRun('parked')).toMatchObject({
        status: 'waiting',
        parked: true,
        attempts: 1,
        epoch: 1,
        wait: { kind: 'preempted', wakeAt: 40, onRun: null, detail: PARKED, since: 40 },
        parentId: null,
        deadlineAt: null,
        compacted: false,
        cancelRequested: null,
      });
      expect((await store.getSteps('parked')).map((s) => [s.seq, s.name, s.result])).toEqual([
        [0, 'plan', 'p'],
        [1, 'classify', { label: 'bug' }],
      ]);
      expect(await store.getRun('resumed')).toMatchObject({ status: 'running', parked: true, wait: null, attempts: 2 });
      expect(await store.getRun('done')).toMatchObject({ status: 'completed', result: 'ok', wait: null, compacted: false, finishedAt: 20 });
      expect((await store.getSteps('done')).map((s) => s.name)).toEqual(['only']);
      expect((await store.listRuns({ status: ['waiting'] })).map((r) => r.id)).toEqual(['parked']);
      expect((await store.keysWithWork({ limit: 10, now: 1000 })).map((w) => w.key)).toEqual(['k', 'k2']);
      expect(await store.nextWakeAt(0)).toBe(40);
      expect(await store.nextWakeAt(40)).toBeUndefined();

      const oldSeqs = (await store.listRuns({})).map((r) => r.seq);
      const command = {
        id: 'new',
        key: 'k',
        flow: 'f',
        input: null,
        idempotencyKey: 'i-new',
        priority: 'normal',
        preempt: null,
        now: 1000,
      } as const;
      const { run: next } = await store.enqueue(command);
      expect(next.seq).toBeGreaterThan(Math.max(...oldSeqs));
      expect((await store.enqueue({ ...command, id: 'dup', idempotencyKey: 'i-parked' })).run.id).toBe('parked');

      // The next owner drains the urgent burst, then resumes the parked run from its frame.
      const lease = await store.acquireOwner({ key: 'k', ownerId: 'heir', now: 1000, ttlMs: 10_000, channel: null });
      expect(lease?.epoch).toBe(2);
      const fence = { key: 'k', ownerId: 'heir', epoch: 2 };
      const order: string[] = [];
      for (let c = await store.claimNext({ ...fence, now: 1000 }); c.claimed; c = await store.claimNext({ ...fence, now: 1000 })) {
        order.push(c.claimed.run.id);
        if (c.claimed.run.id === 'parked') {
          expect(c.claimed.frame).toEqual(PARKED);
          expect(c.claimed.steps.map((s) => s.name)).toEqual(['plan', 'classify']);
          expect(c.claimed.run).toMatchObject({ status: 'running', attempts: 2, wait: null });
          await store.commitStep({ ...fence, runId: 'parked', seq: 2, name: 'turn:agent', result: 'answer', now: 1001 });
          expect((await store.getRun('parked'))?.parked).toBe(false);
        }
        await store.finishRun({ ...fence, runId: c.claimed.run.id, status: 'completed', now: 1002 });
      }
      expect(order).toEqual(['u', 'parked', 'later', 'new']);

      const k2 = await store.acquireOwner({ key: 'k2', ownerId: 'heir', now: 1000, ttlMs: 10_000, channel: null });
      const resumed = await store.claimNext({ key: 'k2', ownerId: 'heir', epoch: k2!.epoch, now: 1000 });
      expect([resumed.claimed?.run.id, resumed.claimed?.frame]).toEqual(['resumed', RESUMED]);
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(loadMigrations().at(-1)!.version);
    const tables = (check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['runs', 'waits', 'step_attempts', 'effects', 'effect_origins', 'schedules']));
    expect(tables).not.toContain('parked_frames');
    expect(tables).not.toContain('runs_v6');
    check.close();
  });
});
