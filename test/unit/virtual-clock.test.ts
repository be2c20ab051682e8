import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/testing/seeded-random.js';
import { virtualClock } from '../../src/testing/virtual-clock.js';

describe('virtualClock', () => {
  it('fires due timers in time order, same-time timers in the order they were set', async () => {
    const clock = virtualClock(1000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(50, () => fired.push(`late@${clock.now()}`));
    await clock.advance(30);
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030']);
    expect(clock.now()).toBe(1030);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDueAt()).toBe(1050);
  });

  it('fires timers set by fired timers within the same advance, and leaves later ones pending', async () => {
    const clock = virtualClock();
    const fired: number[] = [];
    const rearm = () => {
      fired.push(clock.now());
      clock.setTimer(10, rearm);
    };
    clock.setTimer(10, rearm);
    clock.setTimer(0, () => clock.setTimer(0, () => fired.push(-1)));
    await clock.advance(35);
    expect(fired).toEqual([-1, 10, 20, 30]);
    expect(clock.now()).toBe(35);
    expect(clock.pending()).toBe(1);
  });

  it('lets promise chains started by a timer progress before the next timer fires', async () => {
    const clock = virtualClock();
    const log: string[] = [];
    clock.setTimer(5, () => {
      void (async () => {
        for (let i = 0; i < 20; i++) await Promise.resolve();
        log.push('chain done');
        clock.setTimer(0, () => log.push(`second@${clock.now()}`));
      })();
    });
    clock.setTimer(6, () => log.push(`other@${clock.now()}`));
    await clock.advance(6);
    expect(log).toEqual(['chain done', 'second@5', 'other@6']);
  });

  it('cancelled timers never fire; runAll drains in order and refuses runaway re-arming', async () => {
    const clock = virtualClock();
    const fired: number[] = [];
    const handle = clock.setTimer(5, () => fired.push(5));
    clock.setTimer(100, () => fired.push(100));
    clock.setTimer(7, () => fired.push(7));
    handle.cancel();
    await clock.runAll();
    expect(fired).toEqual([7, 100]);
    expect(clock.now()).toBe(100);
    expect(clock.pending()).toBe(0);

    const forever = () => void clock.setTimer(1, forever);
    forever();
    await expect(clock.runAll({ maxTimers: 50 })).rejects.toThrow(/re-arming/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed, in [0, 1), with v4-shaped unique ids', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(43).next()).not.toBe(seededRandom(42).next());

    const ids = Array.from({ length: 1000 }, () => a.uuid());
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(seededRandom(7).uuid()).toBe(seededRandom(7).uuid());
  });
});
