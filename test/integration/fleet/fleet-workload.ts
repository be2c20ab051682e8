// The work the fleet tests put on their kernel processes (chore commands of mixed priorities
// across keys, submitted from the test process through a client kernel on the same schema), how
// they wait for it, and the one verification every fault test ends with.
import { createKernel, type Kernel, type Random, type SubmitOptions } from 'holdfast';
import { postgresStore } from 'holdfast/postgres';
import type pg from 'pg';
import { expect, onTestFinished } from 'vitest';
import { PG_TEST_URL } from '../../support/postgres.js';
import { effectChecks, epochOrder, exactlyOnce, executionChecks, readFleetState } from './fleet-invariants.js';
import type { Delivery, Fleet } from './fleet-support.js';

export interface WorkloadShape {
  readonly commands: number;
  readonly keys: number;
  /** Share of urgent commands (each `steal` or `abort-keep`); as many again are background. */
  readonly urgentShare: number;
  /** Steps per run: 2 to this. */
  readonly maxSteps: number;
  /** Milliseconds per step: 2 to this. */
  readonly maxStepMs: number;
}

/** Seeded chore commands, each with an idempotence key `cmd-<n>`. */
export function choreCommands(random: Random, shape: WorkloadShape): SubmitOptions<unknown>[] {
  const pick = (from: number, to: number) => from + Math.floor(random.next() * (to - from + 1));
  return Array.from({ length: shape.commands }, (_, n) => {
    const roll = random.next();
    const urgent = roll < shape.urgentShare;
    const background = !urgent && roll < 2 * shape.urgentShare;
    return {
      key: `key-${pick(0, shape.keys - 1)}`,
      flow: 'chore',
      input: { n, steps: pick(2, shape.maxSteps), ms: pick(2, shape.maxStepMs) },
      idempotencyKey: `cmd-${n}`,
      priority: urgent ? 'urgent' : background ? 'background' : 'normal',
      ...(urgent && { preempt: random.next() < 0.5 ? 'steal' : 'abort-keep' }),
    } satisfies SubmitOptions<unknown>;
  });
}

/**
 * A kernel that is never started, on the fleet's schema: it submits, and signals the owning
 * process over NOTIFY when a submit is urgent. Closed when the test ends.
 */
export function fleetClient(schema: string): Kernel {
  const store = postgresStore({ connectionString: PG_TEST_URL, schema, max: 4, applicationName: 'fleet-test-client' });
  const kernel = createKernel({ store, flows: [], acceptUnknownFlows: true });
  onTestFinished(async () => {
    await kernel.stop();
    await store.close();
  });
  return kernel;
}

/** Submits `commands` in `waves`, a pause between waves, 8 submits in flight within one. */
export async function submitInWaves(
  client: Kernel,
  commands: readonly SubmitOptions<unknown>[],
  waves: number,
  gapMs: number,
): Promise<void> {
  const size = Math.ceil(commands.length / waves);
  for (let start = 0; start < commands.length; start += size) {
    const wave = commands.slice(start, start + size);
    for (let i = 0; i < wave.length; i += 8) await Promise.all(wave.slice(i, i + 8).map((c) => client.submit(c)));
    if (start + size < commands.length) await pause(gapMs);
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** How many runs the schema has, and how many of them completed. */
export async function progress(pool: pg.Pool, schema: string): Promise<{ total: number; completed: number; pending: number }> {
  const { rows } = await pool.query<{ total: string; completed: string; pending: string }>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status IN ('queued', 'running', 'waiting')) AS pending FROM "${schema}".runs`,
  );
  const row = rows[0]!;
  return { total: Number(row.total), completed: Number(row.completed), pending: Number(row.pending) };
}

/**
 * Resolves with the progress once `count` runs completed; fails with the state after `timeoutMs`. A read that fails
 * (the test's own connection lost in a server restart) is tried again.
 */
export async function allCompleted(
  pool: pg.Pool,
  schema: string,
  count: number,
  timeoutMs: number,
  diagnose: () => string,
): Promise<{ total: number; completed: number; pending: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = await progress(pool, schema).catch((error: Error) => error);
    if (!(now instanceof Error) && now.completed >= count) return now;
    if (performance.now() > deadline)
      throw new Error(`timed out: ${String(now instanceof Error ? now : JSON.stringify(now))} of ${count} runs. ${diagnose()}`);
    await pause(250);
  }
}

/**
 * Everything a fleet fault test promises, checked from the database, the step bodies' execution
 * lines and the receiver: every command ran exactly once and completed, epochs of a key never
 * interleave, no two runs of a key executed at once, no committed step ran again, every effect
 * reached the deduping receiver and was acted on once. Returns figures for the test's summary.
 */
export async function verifyFleet(
  pool: pg.Pool,
  fleet: Fleet,
  commands: readonly SubmitOptions<unknown>[],
  deliveries: readonly Delivery[],
) {
  const state = await readFleetState(pool, fleet.schema);
  const log = fleet.log();
  const execs = executionChecks(state.steps, log);
  const effects = effectChecks(state, deliveries);
  const errors = log.filter((l) => l.what === 'kernel:error').map((l) => `${l.pid}: ${JSON.stringify(l.data)}`);
  const context = `schema ${fleet.schema}, logs in ${fleet.dir}; kernel errors:\n${errors.slice(0, 20).join('\n')}`;
  expect(
    exactlyOnce(
      commands.map((c) => c.idempotencyKey!),
      state.runs,
    ),
    context,
  ).toEqual([]);
  expect(epochOrder(state.steps), context).toEqual([]);
  expect(execs.missing, context).toEqual([]);
  expect(execs.redone, context).toEqual([]);
  expect(execs.overlapping, context).toEqual([]);
  expect(effects.problems, context).toEqual([]);
  const count = (what: string) => log.filter((l) => l.what === what).length;
  return {
    runs: state.runs.length,
    steps: state.steps.length,
    bodyExecutions: log.filter((l) => l.what === 'exec' && l.data.phase === 'start').length,
    epochs: new Set(state.steps.map((s) => `${s.key}/${s.epoch}`)).size,
    takeovers: log.filter((l) => l.what === 'owner:acquired' && l.data.takeover === true).length,
    lost: count('owner:lost'),
    preemptions: count('run:interrupted'),
    parked: count('run:parked'),
    requeued: count('run:requeued'),
    storeUnavailable: count('store:unavailable'),
    catchUps: count('catch-up'),
    repeatedDeliveries: effects.repeats,
    kernelErrors: errors.length,
  };
}
