import { describe, vi } from 'vitest';
import { memoryStore } from 'holdfast';
import { reorderingStore } from 'holdfast/testing';
import { kernelScenarios } from './kernel-scenarios.js';
import { advanceInSteps, reorderingOptions, seedRange } from './reordered.js';

/**
 * The kernel's unit scenarios through `reorderingStore`, seeds 1..100 (HOLDFAST_SEEDS overrides).
 * The clock moves in small steps with event-loop turns between them (advanceInSteps): the
 * renewal scenario assumes a store call completes well within a lease's safety margin.
 */
// A scenario takes milliseconds; a hang (a lost wake-up, an event never emitted) fails in 10 s, not 60.
vi.setConfig({ testTimeout: 10_000 });

const [from, to] = seedRange(process.env.HOLDFAST_SEEDS, 1, 100);
for (let seed = from; seed <= to; seed++) {
  const options = reorderingOptions(seed);
  // A call takes at most twice maxDelayTurns turns; leave room for the chain around it.
  const turns = 2 * (options.maxDelayTurns ?? 8) + 24;
  describe(`reordered store (seed ${seed})`, () =>
    kernelScenarios(() => reorderingStore(memoryStore(), options), { advance: (clock, ms) => advanceInSteps(clock, ms, { turns }) }));
}
