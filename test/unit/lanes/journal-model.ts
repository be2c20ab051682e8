// A synchronous lane engine for property tests: random commands are decided by the pure core
// against the replayed state and appended, exactly as the stores do it, minus the I/O.
import fc from 'fast-check';
import { compact } from '../../../src/core/lane-lease/compact.js';
import {
  decideAcquire,
  decideAdopt,
  decideHalt,
  decideHeartbeat,
  decideRelease,
  decideScavenge,
  decideSpawn,
  type Decision,
} from '../../../src/core/lane-lease/decide.js';
import { EMPTY_LANE_STATE, applyRecord } from '../../../src/core/lane-lease/replay.js';
import type { LaneMode, LaneRecord, LaneState } from '../../../src/model/lane.js';

export type Command =
  | { op: 'acquire'; lane: string; owner: string; tree: string[]; mode: LaneMode | undefined; ttl: number }
  | { op: 'release' | 'heartbeat' | 'adopt'; lane: string; owner: string }
  | { op: 'halt' | 'spawn'; lane: string; owner: string }
  | { op: 'scavenge' }
  | { op: 'compact' };

const lane = fc.constantFrom('a', 'b', 'c', 'd');
const owner = fc.constantFrom('w1', 'w2', 'w3');
const path = fc.constantFrom('src', 'src/api', 'src/web', 'docs', 'Docs/*', '*', 'tests\\unit');

export const command: fc.Arbitrary<{ cmd: Command; dt: number }> = fc.record({
  dt: fc.integer({ min: 0, max: 30 * 60_000 }),
  cmd: fc.oneof(
    fc.record({
      op: fc.constant('acquire' as const),
      lane,
      owner,
      tree: fc.uniqueArray(path, { maxLength: 3 }),
      mode: fc.constantFrom<LaneMode | undefined>('shared', 'exclusive', undefined),
      ttl: fc.constantFrom(1, 10, 50),
    }),
    fc.record({ op: fc.constantFrom('release' as const, 'heartbeat' as const, 'adopt' as const), lane, owner }),
    fc.record({ op: fc.constantFrom('halt' as const, 'spawn' as const), lane, owner }),
    fc.constant({ op: 'scavenge' as const }),
    fc.constant({ op: 'compact' as const }),
  ),
});

export class Engine {
  journal: LaneRecord[] = [];
  state: LaneState = EMPTY_LANE_STATE;
  appendedSeqs: number[] = [];
  now = 1_700_000_000_000;
  constructor(
    private readonly compacts: boolean,
    private readonly deadPids: ReadonlySet<number> = new Set([2]),
  ) {}

  run({ cmd, dt }: { cmd: Command; dt: number }): void {
    this.now += dt;
    const now = this.now;
    const caller = { now, host: 'h', pid: cmd.op === 'acquire' && cmd.owner === 'w2' ? 2 : 1 };
    const view = { leases: this.state.leases, generation: (l: string) => this.state.generations[l] };
    const expiry = { now, host: 'h', isProcessAlive: (pid: number) => !this.deadPids.has(pid) };
    let decision: Decision<unknown>;
    switch (cmd.op) {
      case 'acquire':
        decision = decideAcquire(
          view,
          {
            ...caller,
            lane: cmd.lane,
            kind: 'work',
            tree: cmd.tree.map((p) => p.toLowerCase()),
            mode: cmd.mode,
            owner: cmd.owner,
            ttlMinutes: cmd.ttl,
            runId: null,
          },
          expiry,
        );
        break;
      case 'release':
        decision = decideRelease(view, { ...caller, lane: cmd.lane, owner: cmd.owner });
        break;
      case 'heartbeat':
        decision = decideHeartbeat(view, { ...caller, lane: cmd.lane, owner: cmd.owner, coalesceWithinMs: 60_000 });
        break;
      case 'adopt':
        decision = decideAdopt(view, { ...caller, lane: cmd.lane, owner: cmd.owner });
        break;
      case 'halt':
        decision = decideHalt(view, { ...caller, handle: '1', lane: cmd.lane, owner: cmd.owner, reason: null, command: null, runId: null });
        break;
      case 'spawn':
        decision = decideSpawn({ ...caller, lane: cmd.lane, owner: cmd.owner, runId: null, reason: null });
        break;
      case 'scavenge':
        decision = decideScavenge(view, expiry, caller);
        break;
      case 'compact':
        if (this.compacts) this.journal = compact(this.journal);
        return;
    }
    for (const draft of decision.append) {
      const record = { ...draft, seq: this.state.lastSeq + 1 } as LaneRecord;
      this.journal.push(record);
      this.appendedSeqs.push(record.seq);
      this.state = applyRecord(this.state, record);
    }
  }
}

export function journalOf(commands: readonly { cmd: Command; dt: number }[], compacts = false): Engine {
  const engine = new Engine(compacts);
  for (const c of commands) engine.run(c);
  return engine;
}
