/**
 * Test-only fault mutations (I5): known bug classes, each re-introduced at its own decision point
 * when a test turns it on, so the deterministic simulation can prove it still finds them. Every
 * switch is off unless `setFaultMutation` turns it on, which only the simulation's mutation check
 * does; product code never does. Reading a switch is one comparison, and with every switch off the
 * decisions are exactly the unmutated ones.
 *
 * - `unfenced-commit`: a step is committed without the epoch fence (K1).
 * - `turn-ignores-demand`: a turn starts without checking for durable urgent demand (K5).
 * - `emit-before-claim`: an effect is emitted before it is claimed durably (D3).
 * - `claim-cancelled`: a run whose cancel (abort-drop) was requested is claimed instead of dropped.
 * - `timer-from-memory`: a wait counts as over whenever its key is claimed, as if a runtime had
 *   resumed it from an in-memory timer instead of the store's `wake_at <= now` (D4).
 */
export type FaultMutation = 'unfenced-commit' | 'turn-ignores-demand' | 'emit-before-claim' | 'claim-cancelled' | 'timer-from-memory';

export const FAULT_MUTATIONS: readonly FaultMutation[] = [
  'unfenced-commit',
  'turn-ignores-demand',
  'emit-before-claim',
  'claim-cancelled',
  'timer-from-memory',
];

let active: FaultMutation | undefined;

/** True when `mutation` is the one turned on (never, outside the simulation's mutation check). */
export function faultMutation(mutation: FaultMutation): boolean {
  return active === mutation;
}

/** Turns one mutation on, or every one off (`undefined`). Returns the one that was on before. */
export function setFaultMutation(mutation: FaultMutation | undefined): FaultMutation | undefined {
  if (mutation !== undefined && !FAULT_MUTATIONS.includes(mutation)) {
    throw new RangeError(`unknown fault mutation ${JSON.stringify(mutation)}; known: ${FAULT_MUTATIONS.join(', ')}`);
  }
  const before = active;
  active = mutation;
  return before;
}
