import { memoryStore } from 'holdfast';
import { preemptionScenarios } from './preemption-scenarios.js';

preemptionScenarios('preemption scenarios (fake provider, virtual clock)', {
  makeStore: () => ({ store: memoryStore() }),
  exactTrace: true,
});
