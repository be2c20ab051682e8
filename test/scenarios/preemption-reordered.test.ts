import { vi } from 'vitest';
import { memoryStore } from 'holdfast';
import { reorderingStore } from 'holdfast/testing';
import { preemptionScenarios } from './preemption-scenarios.js';
import { advanceInSteps, reorderingOptions, seedRange } from './reordered.js';
import { StoreTrace } from './store-trace.js';

/**
 * The preemption scenarios through `reorderingStore`, seeds 1..100: every store call of the kernel
 * is delayed by a seeded number of event-loop turns before it is applied and again before it
 * settles, so calls issued together land in a seeded order. A StoreTrace records when each call
 * was issued and applied, and the guarantees are checked on it after every scenario. The clock
 * moves in steps with event-loop turns between them (advanceInSteps), so that a store call takes
 * far less virtual time than a lease's safety margin, as with a real store.
 */
// A scenario takes milliseconds; a hang (a lost wake-up, an event never emitted) fails in 10 s, not 60.
vi.setConfig({ testTimeout: 10_000 });

const [from, to] = seedRange(process.env.HOLDFAST_SEEDS, 1, 100);
for (let seed = from; seed <= to; seed++) {
  const options = reorderingOptions(seed);
  // A call takes at most twice maxDelayTurns turns; leave room for the chain around it.
  const turns = 2 * (options.maxDelayTurns ?? 8) + 24;
  preemptionScenarios(`preemption scenarios, reordered store (seed ${seed})`, {
    makeStore: () => {
      const trace = new StoreTrace();
      return { store: trace.record(reorderingStore(trace.record(memoryStore(), 'apply'), options), 'issue'), trace };
    },
    exactTrace: false,
    advance: (clock, ms) => advanceInSteps(clock, ms, { stepMs: 250, turns }),
  });
}
