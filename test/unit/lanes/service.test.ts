import { describe, expect, it } from 'vitest';
import { isLeaseExpired } from '../../../src/core/lane-lease/expiry.js';
import { InvalidInputError } from '../../../src/errors.js';
import { createLanes } from '../../../src/lanes/service.js';
import type { LiveLease } from '../../../src/model/lane.js';
import { memoryStore } from '../../../src/stores/memory/memory-store.js';
import { manualClock } from '../../fixtures/lane-harness.js';

const MIN = 60_000;

function setup(alive: (pid: number) => boolean | undefined = () => true) {
  const clock = manualClock();
  const store = memoryStore();
  const lanes = createLanes({ store, clock, host: 'here', pid: 100, isProcessAlive: alive });
  return { clock, store, lanes };
}

describe('expiry (L6)', () => {
  const base: LiveLease = {
    id: 1,
    lane: 'a',
    kind: 'w',
    tree: ['src'],
    mode: 'exclusive',
    holder: 'w1',
    host: 'here',
    pid: 5,
    runId: null,
    ttlMinutes: 10,
    generation: 1,
    acquiredAt: 0,
    beatAt: 0,
  };
  const ctx = (now: number, alive: boolean | undefined, host = 'here') => ({ now, host, isProcessAlive: () => alive });

  it('a lease beaten within the grace is live even if its process is dead', () => {
    expect(isLeaseExpired(base, ctx(5 * MIN, false))).toBe(false);
  });
  it('past the grace, a dead holder on this host reclaims at once; elsewhere or unknown it waits TTL + grace', () => {
    expect(isLeaseExpired(base, ctx(5 * MIN + 1, false))).toBe(true);
    expect(isLeaseExpired(base, ctx(5 * MIN + 1, false, 'other-host'))).toBe(false);
    expect(isLeaseExpired(base, ctx(5 * MIN + 1, undefined))).toBe(false);
    expect(isLeaseExpired(base, ctx(15 * MIN, true))).toBe(false);
    expect(isLeaseExpired(base, ctx(15 * MIN + 1, true))).toBe(true);
  });
});

describe('lane service over the memory store', () => {
  it('a lease whose acquirer is gone still blocks within its TTL, then is expired for admission but visible to adopt', async () => {
    const { clock, lanes } = setup(() => false);
    const first = await lanes.acquire({ lane: 'api', tree: ['src/api'], owner: 'w1', ttlMinutes: 10 });
    expect(first.outcome).toBe('acquire');
    clock.advance(4 * MIN);
    expect((await lanes.acquire({ lane: 'web', tree: ['src'], owner: 'w2' })).outcome).toBe('refuse');
    clock.advance(2 * MIN); // past the grace, and the holder pid is dead on this host
    expect(await lanes.live({ expireDead: true })).toEqual([]);
    expect((await lanes.live()).map((l) => l.lane)).toEqual(['api']);
    const adopted = await lanes.adopt({ lane: 'api', owner: 'rescuer' });
    expect(adopted.adopted).toMatchObject({ id: 1, holder: 'rescuer', tree: ['src/api'], ttlMinutes: 10, generation: 1 });
  });

  it('acquiring over an expired lease scavenges it and bumps the lane generation', async () => {
    const { clock, lanes, store } = setup();
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w1', ttlMinutes: 1 });
    clock.advance(6 * MIN + 1);
    const second = await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w2' });
    expect(second).toMatchObject({ outcome: 'acquire', generation: 2, scavenged: [1] });
    const { records } = await store.lanes.journal();
    expect(records.map((r) => r.op)).toEqual(['acquire', 'scavenge', 'acquire']);
  });

  it('heartbeat: only the exact holder; empty owner and strangers write nothing; coalescing skips young beats', async () => {
    const { clock, lanes, store } = setup();
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w1' });
    const count = async () => (await store.lanes.journal()).records.length;
    expect(await lanes.heartbeat({ lane: 'api', owner: 'w2' })).toEqual({ beaten: false });
    expect(await lanes.heartbeat({ lane: 'api', owner: '' })).toEqual({ beaten: false });
    expect(await count()).toBe(1);
    clock.advance(30_000);
    expect(await lanes.heartbeat({ lane: 'api', owner: 'w1', coalesceWithinMs: 60_000 })).toMatchObject({ beaten: true, coalesced: true });
    expect(await count()).toBe(1);
    clock.advance(31_000);
    expect(await lanes.heartbeat({ lane: 'api', owner: 'w1', coalesceWithinMs: 60_000 })).toMatchObject({ beaten: true, coalesced: false });
    expect(await count()).toBe(2);
    expect((await lanes.live())[0]!.beatAt).toBe(clock.now());
  });

  it('release needs the holder; halt and spawn record only', async () => {
    const { lanes, store } = setup();
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w1' });
    expect((await lanes.release({ lane: 'api', owner: 'w2' })).released).toBeNull();
    const halted = await lanes.halt({ handle: '4242', lane: 'api', command: 'kill 4242' });
    expect(halted).toMatchObject({ recorded: true, command: 'kill 4242', lease: { id: 1 } });
    await lanes.spawn({ lane: 'web', owner: 'w3' });
    expect((await lanes.live()).map((l) => l.holder)).toEqual(['w1']);
    expect((await lanes.release({ lane: 'api', owner: 'w1' })).released).toMatchObject({ id: 1 });
    expect(await lanes.live()).toEqual([]);
    expect((await store.lanes.journal()).records.map((r) => r.op)).toEqual(['acquire', 'halt', 'spawn', 'release']);
  });

  it('generations and the fence: superseded, unknown, released and never-acquired all refuse', async () => {
    const { lanes, clock } = setup();
    expect(await lanes.fence('api', 1)).toMatchObject({ ok: false, reason: 'unresolved' });
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w1' });
    expect(await lanes.generation('api')).toBe(1);
    expect(await lanes.fence('api', 1)).toMatchObject({ ok: true, generation: 1 });
    await lanes.release({ lane: 'api', owner: 'w1' });
    expect(await lanes.fence('api', 1)).toMatchObject({ ok: false, reason: 'not_held' });
    clock.advance(1);
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w2' });
    expect(await lanes.fence('api', 1)).toMatchObject({ ok: false, reason: 'superseded', current: 2 });
    expect(await lanes.fence('api', 3)).toMatchObject({ ok: false, reason: 'unknown_generation' });
    expect(await lanes.fence('', 2)).toMatchObject({ ok: false, reason: 'unresolved' });
    await lanes.compact();
    expect(await lanes.fence('api', 2)).toMatchObject({ ok: true });
  });

  it('status verdicts: advancing after an acquire, spinning on beats alone, stalled without a fresh beat', async () => {
    const { clock, lanes } = setup();
    await lanes.acquire({ lane: 'api', tree: ['src'], owner: 'w1' });
    const window = 10 * MIN;
    expect((await lanes.status({ windowMs: window }))[0]).toMatchObject({ verdict: 'advancing', ageMs: 0 });
    clock.advance(11 * MIN);
    await lanes.heartbeat({ lane: 'api', owner: 'w1' });
    expect((await lanes.status({ windowMs: window }))[0]).toMatchObject({ verdict: 'spinning', ageMs: 11 * MIN, sinceBeatMs: 0 });
    clock.advance(11 * MIN);
    expect((await lanes.status({ windowMs: window }))[0]).toMatchObject({ verdict: 'stalled', sinceBeatMs: 11 * MIN });
  });

  it('refuses bad input naming the field, writing nothing', async () => {
    const { lanes, store } = setup();
    await expect(lanes.acquire({ lane: '  ', tree: ['src'], owner: 'w1' })).rejects.toThrow(/lane is empty/);
    await expect(lanes.acquire({ lane: 'a', tree: ['src'], owner: 'w1', mode: 'weird' as never })).rejects.toThrow(
      /mode "weird" is unknown/,
    );
    await expect(lanes.acquire({ lane: 'a', tree: ['*', '**'], owner: 'w1' })).rejects.toThrow(/only globs/);
    await expect(lanes.acquire({ lane: 'a', tree: ['src', ' '], owner: 'w1' })).rejects.toThrow(/path #2 is blank/);
    await expect(lanes.acquire({ lane: 'a', tree: ['src'], owner: '' })).rejects.toBeInstanceOf(InvalidInputError);
    expect((await store.lanes.journal()).records).toEqual([]);
  });
});
