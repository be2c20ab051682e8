import type { LaneStore } from '../../ports/lane-store.js';

export function memoryLaneStore(): LaneStore {
  return { kind: 'lanes' };
}
