import type { FakeScript } from '../../providers/fake-provider.js';
import type { Flow } from '../../runtime/flow.js';
import type { KernelOptions } from '../../runtime/kernel-options.js';
import { endChecks } from './end-checks.js';
import type { FaultOptions } from './fault-plan.js';
import type { Violation } from './invariants.js';
import { SimWorld } from './sim-world.js';
import { generateWorkload, type WorkloadOptions } from './workload.js';
import { DELIBERATE_FAILURE } from './workload-flows.js';

export type { FaultOptions } from './fault-plan.js';
export type { Violation } from './invariants.js';
export type { WorkloadOptions, SimulationCommand } from './workload.js';

/** What `createSimulation` takes. Only `seed` is required: the rest defaults to the built-in workload. */
export interface SimulationOptions {
  readonly seed: number;
  /** The flows under test (default: the built-in `work`, `reply` and `child` workload). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  readonly flows?: readonly Flow<any, unknown>[];
  /** Scripted providers by name (fakeProvider scripts; an array cycles). Default: an `agent` of 0.2–4 s turns. */
  readonly providers?: Readonly<Record<string, FakeScript>>;
  /** How many kernels share the store (default 2). */
  readonly kernels?: number;
  /** How often each fault is injected, or `false` for none (default: FaultOptions' defaults). */
  readonly faults?: FaultOptions | false;
  /** The commands, keys and operator actions drawn from the seed. */
  readonly workload?: WorkloadOptions;
  /**
   * Failure codes your flows cause on purpose. Default: any code but the kernel's own
   * infrastructure codes (store_unavailable, stale_epoch ...), which never fail a run (K11).
   */
  readonly allowedFailures?: readonly string[];
  /** Virtual time the healing phase (faults off, every kernel back) may take before unfinished runs count (default 120 000 ms). */
  readonly healMs?: number;
  /** The one-line command that replays a seed, printed with a violation. */
  readonly replay?: (seed: number) => string;
  /** Kernel timing (defaults: ownerTtlMs 3 000, pollIntervalMs 1 000, interruptGraceMs 1 000, concurrency 2, urgentConcurrency 1). */
  readonly kernel?: Pick<KernelOptions, 'ownerTtlMs' | 'pollIntervalMs' | 'interruptGraceMs' | 'concurrency' | 'urgentConcurrency'>;
}

export interface SimulationStats {
  /** Scheduler steps (store calls reaching the store, results coming back, timers, wake messages). */
  readonly steps: number;
  readonly virtualMs: number;
  readonly runs: number;
  readonly crashes: number;
  readonly pauses: number;
  readonly unavailable: number;
  /** Actions of a replaced owner (after a pause) that the fence kept from committing. */
  readonly fencedActions: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  /** The whole trace, up to the first violation; the same text on every run of the seed. */
  readonly trace: string;
  readonly replay: string;
  readonly stats: SimulationStats;
  /** The violations, the replay command and the last `lines` lines of the trace (default 80). */
  report(lines?: number): string;
}

export interface Simulation {
  /** Runs the simulation to its end (or its first violation). Each call runs it again from the seed. */
  run(): Promise<SimulationResult>;
}

const MAX_STEPS = 250_000;
const BUILT_IN_FAILURES = ['flow_error', 'provider_failed', 'child_failed'];

/**
 * A deterministic simulation of kernels sharing one memory store (I5). The seed decides the
 * workload, the order in which store calls reach the store and their results come back, when wake
 * messages arrive and timers fire, and which faults strike at which durable boundary. The safety
 * invariants are checked at every step, and the run stops at the first violation. After the
 * workload's time the faults stop and every kernel comes back (healing); once every command has
 * ended (or the healing time is up) the liveness checks run: every accepted command completed,
 * failed for its own reasons, or was cancelled on request.
 */
export function createSimulation(options: SimulationOptions): Simulation {
  if (!Number.isInteger(options?.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw new RangeError(`createSimulation: seed must be an integer from 0 to 2^32 - 1, got ${String(options?.seed)}`);
  }
  const kernels = options.kernels ?? 2;
  if (!Number.isInteger(kernels) || kernels < 1)
    throw new RangeError(`createSimulation: kernels must be a positive integer, got ${kernels}`);
  return { run: () => simulate(options, kernels) };
}

async function simulate(options: SimulationOptions, kernelCount: number): Promise<SimulationResult> {
  const world = new SimWorld({
    seed: options.seed,
    flows: options.flows,
    providers: options.providers,
    faults: options.faults,
    kernel: { ownerTtlMs: 3_000, pollIntervalMs: 1_000, interruptGraceMs: 1_000, concurrency: 2, urgentConcurrency: 1, ...options.kernel },
  });
  const { scheduler, trace, invariants, store, client } = world;
  world.start(kernelCount);
  const workload = options.workload ?? {};
  client.plan(generateWorkload(world.stream(2), workload));

  const workMs = workload.durationMs ?? 20_000;
  const endMs = workMs + (options.healMs ?? 120_000);
  let healing = false;
  const finished = async () =>
    client.settled() && (await store.listRuns({ status: ['queued', 'running', 'waiting'], limit: 1 })).length === 0;
  let steps = 0;
  for (;;) {
    if (!healing && scheduler.now() >= workMs) {
      healing = true;
      world.heal();
    }
    const report = await scheduler.step((r) => {
      if (r.kind === 'item') trace.add(r.label);
    });
    if (report === undefined) {
      if (healing) break;
      healing = true;
      world.heal();
      continue;
    }
    steps++;
    await invariants.afterStep();
    if (invariants.violations.length > 0) break;
    if (healing && steps % 16 === 0 && (await finished())) break;
    if (scheduler.now() > endMs || steps >= MAX_STEPS) break;
  }
  const fail = (invariant: string, message: string) => invariants.fail(invariant, message);
  if (invariants.violations.length === 0) {
    const allowed = options.allowedFailures ?? (options.flows ? undefined : BUILT_IN_FAILURES);
    await endChecks({
      store,
      trace,
      commands: client.commands,
      receiver: world.receiver,
      allowedFailures: allowed && new Set(allowed),
      fail,
    });
  }
  if (invariants.violations.length === 0 && !options.flows) {
    // In the built-in workload, `flow_error` is only ever the deliberate failure.
    for (const run of await store.listRuns({ status: ['failed'], limit: 100_000 })) {
      if (run.error?.code === 'flow_error' && !run.error.message.includes(DELIBERATE_FAILURE)) {
        fail('K11', `${trace.run(run.id)} failed: ${run.error.message}`);
      }
    }
  }
  const runs = (await store.listRuns({ limit: 100_000 })).length;
  const stats = { steps, virtualMs: scheduler.now(), runs, ...world.counts, fencedActions: invariants.fencedActions };
  const replay = options.replay?.(options.seed) ?? `HOLDFAST_SIM_SEED=${options.seed} <the command that ran this simulation>`;
  return result(options.seed, invariants.violations, trace.text(), trace.tail.bind(trace), trace.length, replay, stats);
}

function result(
  seed: number,
  violations: readonly Violation[],
  text: string,
  tail: (lines: number) => string,
  length: number,
  replay: string,
  stats: SimulationStats,
): SimulationResult {
  return {
    seed,
    ok: violations.length === 0,
    violations,
    trace: text,
    replay,
    stats,
    report(lines = 80) {
      const head = violations.length === 0 ? `seed ${seed}: no violation` : `seed ${seed}: ${violations.length} violation(s)`;
      const found = violations.map((v) => `  ${v.invariant}: ${v.message}`);
      return [head, ...found, `replay: ${replay}`, `trace (last ${Math.min(lines, length)} of ${length} lines):`, tail(lines)].join('\n');
    },
  };
}
