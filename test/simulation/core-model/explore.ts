import {
  acquire,
  cloneState,
  demandDecision,
  encode,
  initialState,
  KEYS,
  OWNERS,
  pending,
  type Command,
  type Limits,
  type ModelState,
} from './model.js';
import { canonical, claimStep, hasWork, interruptStep, startTurn, stateViolations, successors, tick } from './transitions.js';

/** What an exploration found: how many states it visited, and the first violations with their paths. */
export interface Exploration {
  readonly states: number;
  readonly violations: readonly { readonly message: string; readonly path: readonly string[] }[];
}

/**
 * Visits every state reachable from the configuration's start, depth first, each once: every
 * interleaving of the model's transitions, every crash point. Checks each transition and each
 * state; from every state where all commands were submitted, checks that the system still ends
 * every command once faults stop (K8: recovery needs no operator). Stops at `maxViolations`.
 */
export function explore(commands: readonly Command[], limits: Limits, maxViolations = 1): Exploration {
  const seen = new Set<string>();
  const violations: { message: string; path: string[] }[] = [];
  const stack: { state: ModelState; path: string[] }[] = [{ state: initialState(commands), path: [] }];
  while (stack.length > 0 && violations.length < maxViolations) {
    const { state, path } = stack.pop()!;
    const id = canonical(state);
    if (seen.has(id)) continue;
    seen.add(id);
    const found = [...stateViolations(state)];
    const nexts = successors(state, commands, limits);
    // Liveness from the frontier: states at the time bound, and states where nothing can happen.
    if (state.now === limits.maxTime || nexts.length === 0) found.push(...liveness(state, commands, limits));
    for (const message of found) violations.push({ message, path });
    for (const next of nexts) {
      for (const message of next.violations) violations.push({ message, path: [...path, next.label] });
      stack.push({ state: next.state, path: [...path, next.label] });
    }
  }
  return { states: seen.size, violations };
}

/**
 * Drives the system to the end with no more faults, cancels or crashes, letting time pass as
 * needed, choosing the first owner that can act. Every command must end: completed, or cancelled
 * because an operator or an abort-drop preemption asked for it.
 */
export function liveness(start: ModelState, commands: readonly Command[], limits: Limits): string[] {
  const s = cloneState(start);
  s.stalled = null;
  for (let step = 0; step < 400; step++) {
    if (!s.runs.some(pending) && s.runs.every((r) => r.status !== 'new')) break;
    const fresh = s.runs.findIndex((r) => r.status === 'new');
    if (fresh >= 0) Object.assign(s.runs[fresh]!, { status: 'queued', seq: s.nextSeq++ });
    else if (!advance(s, commands, limits)) tick(s, limits.ttl);
  }
  const violations: string[] = [];
  s.runs.forEach((run, i) => {
    if (pending(run) || run.status === 'new') violations.push(`K8: command ${i} never ends (still ${run.status})`);
    if (run.status === 'cancelled' && run.cancelledBy === null) violations.push(`K8: command ${i} was cancelled though nobody asked`);
  });
  return violations;
}

/** One step of progress on some key, if any owner can make one; false when only time can help. */
function advance(s: ModelState, commands: readonly Command[], limits: Limits): boolean {
  for (const key of KEYS) {
    const owner = OWNERS.find((o) => s.owners[o].runtimes[key] !== undefined);
    if (owner === undefined) {
      if (!hasWork(s, commands, key)) continue;
      if (OWNERS.some((o) => acquire(s, o, key, limits.ttl))) return true;
      continue;
    }
    const rt = s.owners[owner].runtimes[key]!;
    if (s.now >= rt.provenUntil) continue; // lapses at the next tick
    if (rt.active === null) {
      const before = encode(s, false);
      claimStep(s, commands, owner, key);
      if (encode(s, false) !== before) return true;
      continue;
    }
    const index = rt.active;
    if (rt.inTurn) {
      Object.assign(s.runs[index]!, { turned: true, parked: false });
      rt.inTurn = false;
      return true;
    }
    const reason = demandDecision(s, commands, owner, key);
    if (reason) interruptStep(s, owner, key, reason);
    else if (commands[index]!.priority !== 'urgent' && !s.runs[index]!.turned) startTurn(s, commands, owner, key);
    else {
      rt.active = null;
      Object.assign(s.runs[index]!, { status: 'completed', parked: false });
    }
    return true;
  }
  return false;
}
