/** The pure lane decisions of runs (ctx.lane): holder names, resume/adopt/stale, run-end release, expiry. */
import { describe, expect, it } from 'vitest';
import { decideReleaseRun, decideRunAcquire, decideHeartbeats } from '../../../src/core/lane-lease/decide-run.js';
import { isLeaseExpired, leaseExpiresAt } from '../../../src/core/lane-lease/expiry.js';
import { livenessVerdict } from '../../../src/core/lane-lease/liveness-verdict.js';
import { parseRunHolder, runHolder } from '../../../src/core/lane-lease/run-holder.js';
import type { LiveLease } from '../../../src/model/lane.js';

const MIN = 60_000;

function lease(fields: Partial<LiveLease> & Pick<LiveLease, 'id' | 'lane' | 'holder'>): LiveLease {
  return {
    kind: 'ctx.lane',
    tree: ['src'],
    mode: 'exclusive',
    host: 'h1',
    pid: 10,
    runId: null,
    ttlMinutes: 1,
    generation: 1,
    acquiredAt: 0,
    beatAt: 0,
    ...fields,
  };
}

const view = (leases: LiveLease[], generations: Record<string, number> = {}) => ({
  leases,
  generation: (lane: string) => generations[lane],
});
const expiry = (now: number) => ({ now, host: 'h1', isProcessAlive: () => false });
const input = {
  lane: 'api',
  kind: 'ctx.lane',
  tree: ['src/api'],
  mode: undefined,
  ttlMinutes: 1,
  runId: 'r1',
  seq: 3,
  epoch: 5,
  now: 1_000,
  host: 'h1',
  pid: 10,
};

describe('run holders', () => {
  it('name the run, the position and the epoch, and read back; other holders are not runs', () => {
    const holder = runHolder({ runId: 'a/b-1', seq: 12, epoch: 7 });
    expect(holder).toBe('run:a/b-1/12@7');
    expect(parseRunHolder(holder)).toEqual({ runId: 'a/b-1', seq: 12, epoch: 7 });
    for (const other of ['worker-1', 'run:', 'run:x/1', 'run:x/y@2', 'RUN:x/1@2']) expect(parseRunHolder(other)).toBeUndefined();
  });
});

describe('decideRunAcquire', () => {
  it('acquires when the run holds nothing at this position, recording the run and its holder name', () => {
    const d = decideRunAcquire(view([], { api: 4 }), input, expiry(1_000));
    expect(d.value).toMatchObject({ outcome: 'acquire', generation: 5 });
    expect(d.append).toMatchObject([{ op: 'acquire', holder: 'run:r1/3@5', runId: 'r1', generation: 5, ttlMinutes: 1 }]);
  });

  it('resumes its own lease as it is (same epoch, same process), adopts it under a newer epoch or process, and is stale under an older one', () => {
    const mine = lease({ id: 9, lane: 'api', holder: 'run:r1/3@5', runId: 'r1' });
    expect(decideRunAcquire(view([mine]), input, expiry(1_000))).toEqual({
      append: [],
      value: { outcome: 'resume', lease: mine, adopted: false },
    });
    const older = { ...mine, holder: 'run:r1/3@4', pid: 99 };
    const adopted = decideRunAcquire(view([older]), input, expiry(1_000));
    expect(adopted.value).toMatchObject({
      outcome: 'resume',
      adopted: true,
      lease: { id: 9, holder: 'run:r1/3@5', pid: 10, beatAt: 1_000, generation: 1 },
    });
    expect(adopted.append).toMatchObject([{ op: 'adopt', lease: 9, holder: 'run:r1/3@5', detail: { from: 'run:r1/3@4' } }]);
    const newer = { ...mine, holder: 'run:r1/3@6' };
    expect(decideRunAcquire(view([newer]), input, expiry(1_000))).toEqual({ append: [], value: { outcome: 'stale', lease: newer } });
  });

  it('resumes an expired lease of its own (nothing collided with it, or it would be gone) but arbitrates for another position', () => {
    const expired = lease({ id: 2, lane: 'api', holder: 'run:r1/3@5', runId: 'r1', beatAt: 0 });
    expect(isLeaseExpired(expired, expiry(60 * MIN))).toBe(true);
    expect(decideRunAcquire(view([expired]), { ...input, epoch: 6, now: 60 * MIN }, expiry(60 * MIN)).value).toMatchObject({
      outcome: 'resume',
      adopted: true,
    });
    const otherPosition = lease({ id: 2, lane: 'api', holder: 'run:r1/1@5', runId: 'r1', beatAt: 1_000 });
    expect(decideRunAcquire(view([otherPosition]), input, expiry(1_000)).value).toMatchObject({ outcome: 'refuse', reason: 'lane_held' });
  });
});

describe('decideReleaseRun and decideHeartbeats', () => {
  it('release every lease the run holds through ctx.lane, whatever the position or epoch, and nothing else', () => {
    const leases = [
      lease({ id: 1, lane: 'a', holder: 'run:r1/0@1', runId: 'r1' }),
      lease({ id: 2, lane: 'b', holder: 'run:r2/0@1', runId: 'r2' }),
      lease({ id: 3, lane: 'c', holder: 'cli-user', runId: 'r1' }),
      lease({ id: 4, lane: 'd', holder: 'run:r1/7@3', runId: 'r1' }),
    ];
    const d = decideReleaseRun(view(leases), { runId: 'r1', now: 5, host: 'h', pid: 1 });
    expect(d.value.map((l) => l.id)).toEqual([1, 4]);
    expect(d.append).toMatchObject([
      { op: 'release', lease: 1, holder: 'run:r1/0@1', reason: 'run-ended' },
      { op: 'release', lease: 4, holder: 'run:r1/7@3', reason: 'run-ended' },
    ]);
  });

  it('beat many leases in one decision, each only by its exact holder, coalescing young beats', () => {
    const leases = [
      lease({ id: 1, lane: 'a', holder: 'run:r1/0@1', beatAt: 900 }),
      lease({ id: 2, lane: 'b', holder: 'run:r2/0@1', beatAt: 0 }),
    ];
    const d = decideHeartbeats(
      view(leases),
      [
        { lane: 'a', lease: 1, owner: 'run:r1/0@1' },
        { lane: 'b', lease: 2, owner: 'run:r2/0@1' },
        { lane: 'b', lease: 2, owner: 'run:r2/0@0' },
      ],
      { now: 1_000, host: 'h', pid: 1, coalesceWithinMs: 500 },
    );
    expect(d.value.map((v) => (v.beaten ? (v.coalesced ? 'coalesced' : 'beaten') : 'refused'))).toEqual(['coalesced', 'beaten', 'refused']);
    expect(d.append).toMatchObject([{ op: 'heartbeat', lease: 2 }]);
  });
});

describe('expiry of leases held by runs', () => {
  it('a run-held lease is not reclaimed through its dead process, only through TTL + grace; leaseExpiresAt is the first expired instant', () => {
    const runHeld = lease({ id: 1, lane: 'a', holder: 'run:r1/0@1', ttlMinutes: 10 });
    const cliHeld = lease({ id: 2, lane: 'b', holder: 'w1', ttlMinutes: 10 });
    const ctx = (now: number) => ({ now, host: 'h1', isProcessAlive: () => false });
    expect(isLeaseExpired(cliHeld, ctx(5 * MIN + 1))).toBe(true);
    expect(isLeaseExpired(runHeld, ctx(5 * MIN + 1))).toBe(false);
    const at = leaseExpiresAt(runHeld);
    expect(at).toBe(15 * MIN + 1);
    expect(isLeaseExpired(runHeld, ctx(at - 1))).toBe(false);
    expect(isLeaseExpired(runHeld, ctx(at))).toBe(true);
    const fractional = lease({ id: 3, lane: 'c', holder: 'run:r/0@1', ttlMinutes: 2_000 / MIN });
    const policy = { graceMinutes: 500 / MIN, defaultTtlMinutes: 50 };
    const end = leaseExpiresAt(fractional, policy);
    expect(end).toBe(2_501);
    expect(isLeaseExpired(fractional, { ...ctx(end - 1), policy })).toBe(false);
    expect(isLeaseExpired(fractional, { ...ctx(end), policy })).toBe(true);
  });

  it("the advancing verdict counts the holding run's committed steps, not only lane-journal records", () => {
    const l = lease({ id: 1, lane: 'a', holder: 'run:r1/0@1', acquiredAt: 0, beatAt: 29 * MIN });
    const now = 30 * MIN;
    expect(livenessVerdict(l, [], now, 15 * MIN)).toBe('spinning');
    expect(livenessVerdict(l, [], now, 15 * MIN, [1_000, 29 * MIN])).toBe('advancing');
    expect(livenessVerdict(l, [], now, 15 * MIN, [1_000])).toBe('spinning');
    expect(livenessVerdict({ ...l, beatAt: 0 }, [], now, 15 * MIN, [29 * MIN])).toBe('stalled');
  });
});
