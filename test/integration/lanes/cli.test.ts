import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runLaneCommand } from '../../../src/cli/lane-command.js';
import { newRecord } from '../../../src/core/lane-lease/records.js';
import { LaneJournalCorruptError } from '../../../src/lane-errors.js';
import { createLanes } from '../../../src/lanes/service.js';
import { probeProcessAlive } from '../../../src/platform/process-liveness.js';
import { sqliteStore } from '../../../src/stores/sqlite/sqlite-store.js';
import { manualClock, runLaneCli, tempDir } from '../../fixtures/lane-harness.js';

const MIN = 60_000;

/** Runs the lane command in this process (same code path as the binary), capturing output. */
async function lane(cwd: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runLaneCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd });
  return { code, stdout, stderr };
}

async function journalOps(db: string): Promise<string[]> {
  const store = sqliteStore({ path: db });
  try {
    return (await store.lanes.journal()).records.map((r) => r.op);
  } finally {
    await store.close();
  }
}

describe('holdfast lane CLI', () => {
  it('an acquire whose process exits at once still holds its lane for its TTL, then expires for admission only', async () => {
    const dir = tempDir();
    const acquired = await runLaneCli(['acquire', '--lane', 'api', '--owner', 'w1', '--tree', 'src/api', '--ttl-minutes', '10', '--json'], {
      cwd: dir,
    });
    expect(acquired.code, acquired.stderr).toBe(0);
    const lease = (JSON.parse(acquired.stdout) as { lease: { pid: number; acquiredAt: number } }).lease;
    expect(probeProcessAlive(lease.pid)).toBe(false); // the acquirer is gone

    const refused = await runLaneCli(['acquire', '--lane', 'web', '--owner', 'w2', '--tree', 'SRC'], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/refused \(tree_overlap, journaled as #2\)/);
    expect(refused.stdout).toMatch(/colliding lease: #1 lane "api" .* holder w1/);

    const clock = manualClock(lease.acquiredAt + 4 * MIN);
    const store = sqliteStore({ path: join(dir, '.holdfast/state.db') });
    const lanes = createLanes({ store, clock, host: hostname(), pid: process.pid, isProcessAlive: probeProcessAlive });
    expect((await lanes.acquire({ lane: 'web', tree: ['src'], owner: 'w2' })).outcome).toBe('refuse');
    clock.set(lease.acquiredAt + 5 * MIN + 1); // past the grace, holder dead on this host
    expect(await lanes.live({ expireDead: true })).toEqual([]);
    expect((await lanes.live()).map((l) => l.id)).toEqual([1]);
    expect((await lanes.status())[0]).toMatchObject({ expired: true });
    expect((await lanes.adopt({ lane: 'api', owner: 'janitor' })).adopted).toMatchObject({ id: 1, holder: 'janitor' });
    await store.close();
  });

  it('--tree takes comma-separated paths as well as repeats', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    expect(
      (
        await lane(
          dir,
          'acquire',
          '--db',
          db,
          '--lane',
          'api',
          '--owner',
          'a',
          '--tree',
          'src/api,docs/api',
          '--tree',
          'test/api',
          '--json',
        )
      ).code,
    ).toBe(0);
    const store = sqliteStore({ path: db });
    const state = await store.lanes.state();
    await store.close();
    expect(state.leases[0]?.tree).toEqual(['docs/api', 'src/api', 'test/api']); // normalised: sorted
    const refused = await lane(dir, 'acquire', '--db', db, '--lane', 'docs', '--owner', 'b', '--tree', 'docs');
    expect(refused.code).toBe(3);
    expect(refused.stdout + refused.stderr).toContain('docs/api');
  });

  it('heartbeat by a non-holder or an empty owner writes nothing and exits 3; coalescing skips young beats', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    expect((await lane(dir, 'acquire', '--db', db, '--lane', 'api', '--owner', 'w1', '--tree', 'src')).code).toBe(0);
    const stranger = await runLaneCli(['heartbeat', '--db', db, '--lane', 'api', '--owner', 'w2'], { cwd: dir });
    expect(stranger.code).toBe(3);
    expect((await lane(dir, 'heartbeat', '--db', db, '--lane', 'api', '--owner', '')).code).toBe(3);
    expect((await lane(dir, 'heartbeat', '--db', db, '--lane', 'api')).code).toBe(3);
    expect(await journalOps(db)).toEqual(['acquire']);
    const coalesced = await lane(dir, 'heartbeat', '--db', db, '--lane', 'api', '--owner', 'w1', '--coalesce-ms', '600000', '--json');
    expect(coalesced.code).toBe(0);
    expect(JSON.parse(coalesced.stdout)).toMatchObject({ beaten: true, coalesced: true });
    expect(await journalOps(db)).toEqual(['acquire']);
    expect((await lane(dir, 'heartbeat', '--db', db, '--lane', 'api', '--owner', 'w1')).code).toBe(0);
    expect(await journalOps(db)).toEqual(['acquire', 'heartbeat']);
    expect((await lane(dir, 'release', '--db', db, '--lane', 'api', '--owner', 'w2')).code).toBe(3);
    expect((await lane(dir, 'release', '--db', db, '--lane', 'api', '--owner', 'w1')).code).toBe(0);
    expect((await lane(dir, 'adopt', '--db', db, '--lane', 'api', '--owner', 'w3')).code).toBe(3);
  });

  it('bad input exits 2 naming the argument and showing usage, and writes nothing', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    const real = await runLaneCli(['acquire', '--db', db, '--lane', '', '--owner', 'w1', '--tree', 'src'], { cwd: dir });
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/lane is empty/);
    expect(real.stderr).toMatch(/usage: holdfast lane acquire --lane NAME/);
    const cases: [string[], RegExp][] = [
      [['acquire', '--lane', 'a', '--owner', 'w', '--mode', 'weird'], /--mode "weird" is unknown/],
      [['acquire', '--lane', 'a', '--owner', 'w', '--tree', '*', '--tree', '**'], /only globs/],
      [['acquire', '--lane', 'a', '--tree', 'src'], /--owner is required/],
      [['acquire', '--lane', 'a', '--owner', 'w', '--ttl-minutes', 'soon'], /--ttl-minutes "soon" is not a positive number/],
      [['acquire', '--lane', 'a', '--owner', 'w', '--bogus'], /--bogus/],
      [['release', '--lane', 'a', '--owner', 'w', '--lease', 'x'], /--lease "x"/],
      [['export'], /--jsonl is required/],
      [['import'], /FILE/],
    ];
    for (const [args, message] of cases) {
      const out = await lane(dir, ...args, '--db', db);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toMatch(/usage: holdfast lane/);
    }
    expect((await lane(dir, 'frobnicate')).code).toBe(2);
    expect((await lane(dir)).code).toBe(2);
    expect(await journalOps(db)).toEqual([]);
  });

  it('a corrupt stored record in the middle is reported with its seq; a torn last one reads as not written', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    for (const l of ['a', 'b', 'c'])
      expect((await lane(dir, 'acquire', '--db', db, '--lane', l, '--owner', 'w', '--tree', l)).code).toBe(0);
    const raw = new Database(db);
    raw.prepare('UPDATE lane_journal SET tree = \'["a"\' WHERE seq = 2').run();
    raw.close();
    const exported = await lane(dir, 'export', '--jsonl', '--db', db);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/corrupt at seq 2/);
    const store = sqliteStore({ path: db });
    await expect(store.lanes.journal()).rejects.toBeInstanceOf(LaneJournalCorruptError);
    await expect(store.lanes.journal()).rejects.toMatchObject({ seq: 2 });
    await expect(store.lanes.compact()).rejects.toMatchObject({ code: 'lane_journal_corrupt' });
    await store.close();

    const fix = new Database(db);
    fix.prepare('UPDATE lane_journal SET tree = \'["b"]\' WHERE seq = 2').run();
    fix.prepare("UPDATE lane_journal SET op = 'acq' WHERE seq = 3").run();
    fix.close();
    const again = sqliteStore({ path: db });
    const read = await again.lanes.journal();
    expect(read.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(read.torn).toMatchObject({ at: 3, problem: expect.stringMatching(/unknown op/) });
    // Compaction rebuilds the live set from the readable journal and keeps the torn record's seq.
    expect(await again.lanes.compact()).toEqual({ recordsBefore: 3, recordsAfter: 1, watermark: 3 });
    expect((await again.lanes.state()).leases.map((l) => l.lane)).toEqual(['a', 'b']);
    const next = await again.lanes.transact(() => ({ append: [newRecord({ op: 'spawn', at: 1, lane: 'z' })], value: null }));
    expect(next.appended[0]!.seq).toBe(4);
    await again.close();
  });

  it('export writes sorted-key lines; import restores them, tolerating a torn last line and refusing a corrupt middle one', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    expect((await lane(dir, 'acquire', '--db', db, '--lane', 'a', '--owner', 'w', '--tree', 'src')).code).toBe(0);
    expect((await lane(dir, 'acquire', '--db', db, '--lane', 'b', '--owner', 'w', '--tree', 'src/x')).code).toBe(3);
    expect((await lane(dir, 'halt', '--db', db, '--handle', '77', '--lane', 'a', '--command', 'kill 77')).code).toBe(0);
    expect((await lane(dir, 'export', '--jsonl', '--db', db, '--out', 'j.jsonl')).code).toBe(0);
    const text = readFileSync(join(dir, 'j.jsonl'), 'utf8');
    expect(text.trimEnd().split('\n')).toHaveLength(3);

    writeFileSync(join(dir, 'torn.jsonl'), text.slice(0, -15));
    const imported = await lane(dir, 'import', 'torn.jsonl', '--db', join(dir, 'copy.db'), '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2, torn: { at: 3 } });
    const live = await lane(dir, 'live', '--db', join(dir, 'copy.db'), '--json');
    expect(JSON.parse(live.stdout)).toMatchObject({ leases: [{ lane: 'a', holder: 'w' }] });

    const lines = text.split('\n');
    lines[1] = lines[1]!.replace('"seq":2', '"seq":"two"');
    writeFileSync(join(dir, 'bad.jsonl'), lines.join('\n'));
    const bad = await lane(dir, 'import', 'bad.jsonl', '--db', join(dir, 'other.db'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.jsonl line 2 is corrupt/);
    expect(await journalOps(join(dir, 'other.db'))).toEqual([]);

    const status = await lane(dir, 'status', '--db', db);
    expect(status.stdout).toMatch(/^advancing +age \d+s beat \d+s ago +#1 lane "a"/);
    expect((await lane(dir, 'compact', '--db', db, '--json')).stdout).toMatch(/"watermark":3/);
    expect((await lane(dir, 'spawn', '--db', db, '--lane', 'z', '--json')).stdout).toMatch(/"seq":4/);
  });
});
