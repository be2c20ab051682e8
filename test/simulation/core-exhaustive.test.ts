import { afterEach, describe, expect, it } from 'vitest';
import { setFaultMutation } from '../../src/core/fault-mutations.js';
import { explore } from './core-model/explore.js';
import type { Command, Limits } from './core-model/model.js';

/*
 * Bounded exhaustive check of the pure core (I5): mailbox order, preemption decision, owner lease
 * and fence, suspension and interrupt effects, composed by a thin model of the runtime
 * (core-model/), explored over every interleaving and every crash, stall and cancel point of
 * configurations of 2 keys and 3 commands with 2 owners, against the requirements written out
 * independently (core-model/spec.ts). Every configuration is explored without faults; each fault
 * kind over a fixed sample of them (HOLDFAST_EXHAUSTIVE=full: all of them, a few minutes).
 */
const KINDS: readonly Omit<Command, 'key'>[] = [
  { priority: 'normal', preempt: null },
  { priority: 'background', preempt: null },
  { priority: 'urgent', preempt: 'steal' },
  { priority: 'urgent', preempt: 'abort-keep' },
  { priority: 'urgent', preempt: 'abort-drop' },
];

/** A normal worker on key a, and two more commands of every kind on either key: 100 configurations. */
const CONFIGS: Command[][] = [];
for (const second of KINDS) {
  for (const third of KINDS) {
    for (const keys of [
      ['a', 'a'],
      ['a', 'b'],
      ['b', 'a'],
      ['b', 'b'],
    ] as const) {
      CONFIGS.push([
        { key: 'a', priority: 'normal', preempt: null },
        { ...second, key: keys[0] },
        { ...third, key: keys[1] },
      ]);
    }
  }
}

const full = process.env.HOLDFAST_EXHAUSTIVE === 'full';
const base: Limits = { ttl: 2, maxTime: 3, maxCrashes: 0, maxStalls: 0, maxCancels: 0, maxFaults: 1 };
const FAULTS = [
  { name: 'no faults', limits: base, every: 1 },
  { name: 'one crash', limits: { ...base, maxCrashes: 1 }, every: full ? 1 : 5 },
  { name: 'one cancel', limits: { ...base, maxCancels: 1 }, every: full ? 1 : 5 },
  { name: 'one stalled owner', limits: { ...base, maxStalls: 1 }, every: full ? 1 : 10 },
];

const show = (commands: readonly Command[]) => commands.map((c) => `${c.priority}${c.preempt ? `/${c.preempt}` : ''}@${c.key}`).join(', ');

describe('every interleaving of 2 keys and 3 commands keeps the invariants', () => {
  for (const { name, limits, every } of FAULTS) {
    it(`${name} (${Math.ceil(CONFIGS.length / every)} configurations)`, () => {
      let states = 0;
      const found: string[] = [];
      CONFIGS.forEach((commands, index) => {
        if (index % every !== 0) return;
        const result = explore(commands, limits);
        states += result.states;
        for (const v of result.violations) found.push(`[${show(commands)}] ${v.message}\n  after: ${v.path.join(' > ')}`);
      });
      console.log(`exhaustive, ${name}: ${states} distinct states`);
      expect(found, found.join('\n')).toEqual([]);
      expect(states).toBeGreaterThan(1_000);
    });
  }
});

describe('the exhaustive check finds the core mutations', () => {
  afterEach(() => void setFaultMutation(undefined));
  const worker: Command[] = [
    { key: 'a', priority: 'normal', preempt: null },
    { key: 'a', priority: 'urgent', preempt: 'steal' },
    { key: 'b', priority: 'normal', preempt: null },
  ];

  it('a run whose abort-drop was recorded is claimed (claim-cancelled)', () => {
    setFaultMutation('claim-cancelled');
    const result = explore(worker, { ...base, maxCancels: 1 });
    expect(result.violations[0]?.message).toMatch(/^cancel: /);
  });

  it('a waiting run is claimed before its time (timer-from-memory)', () => {
    setFaultMutation('timer-from-memory');
    const result = explore(worker, base);
    expect(result.violations[0]?.message).toMatch(/^(K4|D4): /);
  });
});
