import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sqliteStore } from '../../../src/stores/sqlite/sqlite-store.js';
import { runTs, tempDir } from '../../fixtures/lane-harness.js';

const CONTENDER = fileURLToPath(new URL('../../fixtures/lane-contender.ts', import.meta.url));
// Overlapping trees, written differently on purpose (case, backslashes, globs); every pair overlaps.
const TREES = ['src', 'src/a', 'SRC/A/b*', 'src\\A'];

async function contend(mode: 'arbiter' | 'bypass', k: number) {
  const dir = tempDir();
  const db = join(dir, 'state.db');
  await sqliteStore({ path: db }).close(); // the database exists before the race, as in real use
  writeFileSync(join(dir, 'counter'), '0');
  const lanes = Array.from({ length: k }, (_, i) => `lane-${i}`);
  const runs = lanes.map((lane, i) => runTs(CONTENDER, [mode, db, dir, lane, TREES[i % TREES.length]!], { timeoutMs: 40_000 }));
  const deadline = Date.now() + 30_000;
  while (!lanes.every((l) => existsSync(join(dir, `ready-${l}`)))) {
    if (Date.now() > deadline) throw new Error('contenders never became ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  writeFileSync(join(dir, 'go'), 'go');
  const exits = await Promise.all(runs);
  const store = sqliteStore({ path: db });
  const { records } = await store.lanes.journal();
  const state = await store.lanes.state();
  await store.close();
  return { exits, records, state, counter: Number(readFileSync(join(dir, 'counter'), 'utf8')) };
}

describe('lane contention across real processes (L4)', () => {
  it('K = 4 overlapping acquires at once: exactly one admitted, three refusals journaled, no lost update', async () => {
    const { exits, records, state, counter } = await contend('arbiter', 4);
    const codes = exits.map((e) => e.code).sort();
    expect(codes, exits.map((e) => e.stderr).join('\n')).toEqual([0, 3, 3, 3]);
    expect(records.filter((r) => r.op === 'acquire')).toHaveLength(1);
    const refusals = records.filter((r) => r.op === 'refuse');
    expect(refusals).toHaveLength(3);
    for (const r of refusals) {
      expect(r.reason).toBe('tree_overlap');
      expect(r.detail).toMatchObject({ colliding: { holder: expect.any(String) } });
    }
    expect(state.leases).toHaveLength(1);
    expect(counter).toBe(1);
    for (const e of exits.filter((x) => x.code === 3))
      expect(JSON.parse(e.stdout)).toMatchObject({ outcome: 'refuse', reason: 'tree_overlap' });
  });

  it('the same harness with the arbiter bypassed loses updates', async () => {
    const { exits, records, counter } = await contend('bypass', 4);
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
    expect(records.filter((r) => r.op === 'acquire')).toHaveLength(4);
    expect(counter).toBeLessThan(4);
  });

  it('K = 1 admits', async () => {
    const { exits, counter, records } = await contend('arbiter', 1);
    expect(exits.map((e) => e.code)).toEqual([0]);
    expect(records.map((r) => r.op)).toEqual(['acquire']);
    expect(counter).toBe(1);
  });
});
