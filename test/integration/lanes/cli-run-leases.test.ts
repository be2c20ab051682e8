/**
 * The loose ends of the lane CLI over a real SQLite file: `lane status` shows the run holding a
 * lease taken with ctx.lane; `lane scavenge` reclaims expired leases and says which; a torn last
 * record stored in the database is out of the live set at once, and the next write repairs it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createKernel, createLanes, defineFlow, sqliteStore } from 'holdfast';
import { runLaneCommand } from '../../../src/cli/lane-command.js';
import { encodeLaneRecordLine } from '../../../src/core/lane-lease/codec.js';
import { newRecord } from '../../../src/core/lane-lease/records.js';
import { probeProcessAlive } from '../../../src/platform/process-liveness.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { runLaneCli, tempDir } from '../../fixtures/lane-harness.js';

async function lane(cwd: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runLaneCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd });
  return { code, stdout, stderr };
}

describe('holdfast lane CLI and leases taken by runs', () => {
  it('lane status shows the run holding a lease taken with ctx.lane (human and --json)', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const hold = defineFlow('hold', async (ctx) =>
      ctx.lane({ lane: 'api', tree: ['src/api'] }, async () => {
        await ctx.step('edit', () => 'edited');
        entered();
        await released;
        return 'done';
      }),
    );
    const store = sqliteStore({ path: db });
    const kernel = createKernel({ store, flows: [hold], wake: null });
    await kernel.start();
    const handle = await kernel.submit({ key: 'repo:acme', flow: 'hold' });
    await inside;
    try {
      const human = await runLaneCli(['status', '--db', db], { cwd: dir });
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^advancing .*#1 lane "api" gen 1 exclusive \[src\/api\] holder run:/m);
      expect(human.stdout).toContain(
        `held by run ${handle.id} (flow hold on key repo:acme, running, 2 step(s) committed, ctx.lane at position 0)`,
      );
      const json = await lane(dir, 'status', '--db', db, '--json');
      expect(JSON.parse(json.stdout)).toMatchObject({
        leases: [
          {
            lease: { id: 1, runId: handle.id },
            run: { id: handle.id, key: 'repo:acme', flow: 'hold', status: 'running', position: 0, committedSteps: 2 },
          },
        ],
      });
    } finally {
      release();
      await handle.result();
      await kernel.stop();
      await store.close();
    }
    expect(JSON.parse((await lane(dir, 'status', '--db', db, '--json')).stdout)).toEqual({ leases: [] });
  });

  it('lane scavenge reclaims expired leases and prints them; with nothing expired it says so', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    const old = encodeLaneRecordLine({
      ...newRecord({ op: 'acquire', at: 1_000, lane: 'stale', kind: 'work', tree: ['src/old'], mode: 'exclusive', holder: 'gone' }),
      ttlMinutes: 10,
      generation: 1,
      host: 'elsewhere',
      pid: 4242,
      seq: 1,
    });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'old.jsonl'), `${old}\n`);
    expect((await lane(dir, 'import', 'old.jsonl', '--db', db)).code).toBe(0);
    expect((await lane(dir, 'acquire', '--db', db, '--lane', 'fresh', '--owner', 'w', '--tree', 'docs')).code).toBe(0);

    const human = await runLaneCli(['scavenge', '--db', db], { cwd: dir });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /^reclaimed 1 expired lease\(s\):\n {2}#1 lane "stale" gen 1 exclusive \[src\/old\] holder gone \(elsewhere:4242\)$/m,
    );
    const again = await lane(dir, 'scavenge', '--db', db, '--json');
    expect(JSON.parse(again.stdout)).toEqual({ scavenged: [] });
    expect((await lane(dir, 'scavenge', '--db', db)).stdout).toBe('nothing to reclaim: no live lease is expired\n');
    const live = JSON.parse((await lane(dir, 'live', '--db', db, '--json')).stdout) as { leases: { lane: string }[] };
    expect(live.leases.map((l) => l.lane)).toEqual(['fresh']);
    const ops = new Database(db, { readonly: true }).prepare('SELECT op, lease FROM lane_journal ORDER BY seq').all();
    expect(ops).toEqual([
      { op: 'acquire', lease: null },
      { op: 'acquire', lease: null },
      { op: 'scavenge', lease: 1 },
    ]);
  });

  it('a torn last record stored in the database is out of the live set at once; the next write replaces it by a checkpoint', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    const store = sqliteStore({ path: db });
    const lanes = createLanes({ store, clock: systemClock, host: 'h', pid: process.pid, isProcessAlive: probeProcessAlive });
    for (const l of ['a', 'b', 'c']) expect((await lanes.acquire({ lane: l, tree: [l], owner: 'w' })).outcome).toBe('acquire');
    const raw = new Database(db);
    raw.prepare("UPDATE lane_journal SET op = 'acq' WHERE seq = 3").run();
    raw.close();

    expect((await store.lanes.state()).leases.map((l) => l.lane)).toEqual(['a', 'b']);
    expect((await store.lanes.state()).lastSeq).toBe(3);
    expect(JSON.parse((await lane(dir, 'live', '--db', db, '--json')).stdout).leases.map((l: { lane: string }) => l.lane)).toEqual([
      'a',
      'b',
    ]);
    // What the torn record claimed is free: "c" is admitted.
    const d = await lanes.acquire({ lane: 'c', tree: ['c'], owner: 'w2' });
    expect(d).toMatchObject({ outcome: 'acquire', lease: { id: 4 } });
    const read = await store.lanes.journal();
    expect(read.torn).toBeNull();
    expect(read.records.map((r) => [r.seq, r.op])).toEqual([
      [1, 'acquire'],
      [2, 'acquire'],
      [3, 'checkpoint'],
      [4, 'acquire'],
    ]);
    expect((await store.lanes.state()).leases.map((l) => [l.id, l.lane, l.holder])).toEqual([
      [1, 'a', 'w'],
      [2, 'b', 'w'],
      [4, 'c', 'w2'],
    ]);
    await store.close();
  });
});
