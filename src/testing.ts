/**
 * `holdfast/testing`: what users need to test their own flows deterministically (I5): a virtual
 * clock that only moves when told, seeded randomness, a scripted provider, the memory store, a
 * store decorator that applies calls in a seeded order other than the one they were issued in, and
 * `createSimulation`: kernels, faults and invariant checks driven by one seed (docs/simulation.md).
 */
export { virtualClock } from './testing/virtual-clock.js';
export type { VirtualClock } from './testing/virtual-clock.js';
export { seededRandom } from './testing/seeded-random.js';
export { fakeProvider } from './providers/fake-provider.js';
export type { FakeProvider, FakeProviderOptions, FakeScript, FakeTurn, FakeChunk, FakeCall } from './providers/fake-provider.js';
export { memoryStore } from './stores/memory/memory-store.js';
export { reorderingStore } from './testing/reordering-store.js';
export type { ReorderingStoreOptions } from './testing/reordering-store.js';
export { createSimulation } from './testing/simulation/simulation.js';
export type {
  Simulation,
  SimulationOptions,
  SimulationResult,
  SimulationStats,
  FaultOptions,
  Violation,
  WorkloadOptions,
  SimulationCommand,
} from './testing/simulation/simulation.js';
