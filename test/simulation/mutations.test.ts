import { afterEach, expect, it } from 'vitest';
import { createSimulation, type SimulationResult } from 'holdfast/testing';
import { FAULT_MUTATIONS, setFaultMutation, type FaultMutation } from '../../src/core/fault-mutations.js';
import { replayCommand } from './seeds.js';

/*
 * The mutation check (I5): each known bug class is re-introduced behind its test-only switch
 * (src/core/fault-mutations.ts), and the simulation must find it, by the invariant that guards
 * against it, within the CI seed budget. A harness that stops finding bugs fails the build.
 */
const BUDGET = 1_000;

const GUARD: Record<FaultMutation, string> = {
  'unfenced-commit': 'K1',
  'turn-ignores-demand': 'K5',
  'emit-before-claim': 'D3',
  'claim-cancelled': 'cancel',
  'timer-from-memory': 'D4',
};

afterEach(() => void setFaultMutation(undefined));

for (const mutation of FAULT_MUTATIONS) {
  it(`finds "${mutation}" (${GUARD[mutation]}) within ${BUDGET} seeds`, async () => {
    setFaultMutation(mutation);
    let found: SimulationResult | undefined;
    for (let seed = 1; seed <= BUDGET && found === undefined; seed++) {
      const result = await createSimulation({ seed, replay: (s) => replayCommand(s, mutation) }).run();
      if (!result.ok) found = result;
    }
    expect(found, `the simulation no longer finds "${mutation}" within ${BUDGET} seeds`).toBeDefined();
    console.log(`mutation "${mutation}" found by seed ${found!.seed}\n${found!.report(12)}`);
    expect(found!.violations[0]!.invariant).toBe(GUARD[mutation]);
    expect(found!.report()).toContain(`replay: ${replayCommand(found!.seed, mutation)}`);
    expect(found!.trace).toContain(`VIOLATION ${GUARD[mutation]}`);
    // The same seed, replayed, finds the same violation with the same trace.
    const replayed = await createSimulation({ seed: found!.seed, replay: (s) => replayCommand(s, mutation) }).run();
    expect(replayed.trace).toBe(found!.trace);
    // With the switch off again, the same seed keeps every invariant: the mutation was the bug.
    setFaultMutation(undefined);
    const fixed = await createSimulation({ seed: found!.seed }).run();
    expect(fixed.violations, fixed.report(40)).toEqual([]);
  });
}
