import { describe, expect, it } from 'vitest';
import { encodeLaneRecordLine, readJournalLines } from '../../../src/core/lane-lease/codec.js';
import { createLanes } from '../../../src/lanes/service.js';
import { LaneJournalCorruptError } from '../../../src/lane-errors.js';
import { memoryStore } from '../../../src/stores/memory/memory-store.js';
import { manualClock } from '../../fixtures/lane-harness.js';

async function exported(): Promise<string> {
  const lanes = createLanes({ store: memoryStore(), clock: manualClock(), host: 'h', pid: 1, isProcessAlive: () => true });
  await lanes.acquire({ lane: 'a', tree: ['src'], owner: 'w1' });
  await lanes.acquire({ lane: 'b', tree: ['src/x'], owner: 'w2' });
  await lanes.release({ lane: 'a', owner: 'w1' });
  return lanes.exportJsonl();
}

describe('journal lines (export / import)', () => {
  it('writes sorted keys, one record per line, and reads them back', async () => {
    const text = await exported();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([...Object.keys(first)].sort());
    const read = readJournalLines(text);
    expect(read.ok && read.records.map((r) => r.op)).toEqual(['acquire', 'refuse', 'release']);
    if (read.ok) expect(read.records.map(encodeLaneRecordLine)).toEqual(lines);
  });

  it('a torn last line reads as not written', async () => {
    const text = await exported();
    const torn = text.slice(0, text.length - 20);
    const read = readJournalLines(torn);
    expect(read).toMatchObject({ ok: true, torn: { at: 3 } });
    expect(read.ok && read.records).toHaveLength(2);
  });

  it('a corrupt line in the middle is reported with its seq, never dropped', async () => {
    const lines = (await exported()).trimEnd().split('\n');
    lines[1] = lines[1]!.replace('"op":"refuse"', '"op":"bogus"');
    expect(readJournalLines(lines.join('\n'))).toMatchObject({
      ok: false,
      position: 2,
      seq: 2,
      problem: expect.stringMatching(/unknown op/),
    });
    lines[1] = '{"seq": 2, "op": "acq';
    expect(readJournalLines(lines.join('\n'))).toMatchObject({ ok: false, position: 2, seq: null });
  });

  it('import refuses a corrupt export and a non-empty journal, naming what to do', async () => {
    const text = await exported();
    const lanes = createLanes({ store: memoryStore(), clock: manualClock(), host: 'h', pid: 1, isProcessAlive: () => true });
    const bad = text.split('\n');
    bad[0] = bad[0]!.replace('"tree":["src"]', '"tree":"src"');
    await expect(lanes.importJsonl(bad.join('\n'), 'x.jsonl')).rejects.toBeInstanceOf(LaneJournalCorruptError);
    expect(await lanes.importJsonl(text)).toEqual({ imported: 3, torn: null });
    expect(await lanes.live()).toEqual([]);
    expect(await lanes.generation('a')).toBe(1);
    await expect(lanes.importJsonl(text)).rejects.toThrow(/already has 3 record/);
  });
});
