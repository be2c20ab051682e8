/**
 * `holdfast/testing`: what users need to test their own flows deterministically (I5): a virtual
 * clock that only moves when told, seeded randomness, a scripted provider, and the memory store.
 */
export { virtualClock } from './testing/virtual-clock.js';
export type { VirtualClock } from './testing/virtual-clock.js';
export { seededRandom } from './testing/seeded-random.js';
export { fakeProvider } from './providers/fake-provider.js';
export type { FakeProvider, FakeProviderOptions, FakeScript, FakeTurn, FakeChunk, FakeCall } from './providers/fake-provider.js';
export { memoryStore } from './stores/memory/memory-store.js';
