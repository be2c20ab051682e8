import type { FaultMutation } from '../../src/core/fault-mutations.js';

/**
 * The seeds a simulation suite runs: `first..last` by default; HOLDFAST_SIM_SEEDS=`a..b` runs a
 * to b, `n` runs 1 to n, and HOLDFAST_SIM_SEED=`s` runs seed s alone (a replay).
 */
export function simulationSeeds(first: number, last: number, env: NodeJS.ProcessEnv = process.env): [number, number] {
  const one = /^\d+$/.exec(env.HOLDFAST_SIM_SEED ?? '');
  if (one) return [Number(one[0]), Number(one[0])];
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(env.HOLDFAST_SIM_SEEDS ?? '');
  if (!match) return [first, last];
  return match[2] === undefined ? [1, Number(match[1])] : [Number(match[1]), Number(match[2])];
}

/** The one-line command that replays a seed of the built-in workload (and its mutation, if any), printing its whole trace. */
export function replayCommand(seed: number, mutation?: FaultMutation): string {
  return `npx tsx test/simulation/soak.ts --seed ${seed}${mutation ? ` --mutation ${mutation}` : ''}`;
}
