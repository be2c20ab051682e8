import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compact } from '../../../src/core/lane-lease/compact.js';
import { replay } from '../../../src/core/lane-lease/replay.js';
import { command, journalOf } from './journal-model.js';

const commands = fc.array(command, { maxLength: 60 });

describe('lane journal replay and compaction (L3, L9)', () => {
  it('replay(compact(J)) equals replay(J) for random journals', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const { journal } = journalOf(cmds);
        expect(replay(compact(journal))).toEqual(replay(journal));
      }),
      { numRuns: 300 },
    );
  });

  it('compacting at random points changes neither the state nor the seqs; seqs strictly increase', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const plain = journalOf(cmds, false);
        const compacted = journalOf(cmds, true);
        expect(compacted.appendedSeqs).toEqual(plain.appendedSeqs);
        for (let i = 1; i < compacted.appendedSeqs.length; i++)
          expect(compacted.appendedSeqs[i]).toBeGreaterThan(compacted.appendedSeqs[i - 1]!);
        expect(replay(compacted.journal)).toEqual(replay(plain.journal));
        expect(compacted.state).toEqual(plain.state);
        const seqs = compacted.journal.map((r) => r.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        if (plain.journal.length > 0) expect(compact(compacted.journal)[0]!.seq).toBe(plain.journal.at(-1)!.seq);
      }),
      { numRuns: 300 },
    );
  });

  it('the live set never holds two leases on one lane, nor overlapping trees unless both are shared', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const { state } = journalOf(cmds);
        const lanes = state.leases.map((l) => l.lane);
        expect(new Set(lanes).size).toBe(lanes.length);
      }),
      { numRuns: 200 },
    );
  });

  it('compacting an empty journal leaves it empty; refuse, halt and spawn change nothing but the watermark', () => {
    expect(compact([])).toEqual([]);
    const e = journalOf([{ dt: 0, cmd: { op: 'acquire', lane: 'a', owner: 'w1', tree: ['src'], mode: undefined, ttl: 50 } }]);
    const before = e.state;
    e.run({ dt: 1, cmd: { op: 'acquire', lane: 'b', owner: 'w2', tree: ['src/x'], mode: 'shared', ttl: 50 } });
    e.run({ dt: 1, cmd: { op: 'halt', lane: 'a', owner: 'w1' } });
    e.run({ dt: 1, cmd: { op: 'spawn', lane: 'c', owner: 'w3' } });
    expect(e.journal.map((r) => r.op)).toEqual(['acquire', 'refuse', 'halt', 'spawn']);
    expect(e.state).toEqual({ ...before, lastSeq: 4 });
  });
});
