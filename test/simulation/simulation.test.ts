import { afterAll, describe, expect, it } from 'vitest';
import { defineFlow } from 'holdfast';
import { createSimulation } from 'holdfast/testing';
import { replayCommand, simulationSeeds } from './seeds.js';

/*
 * The deterministic simulation in CI (I5): the built-in workload (every priority and preempt kind,
 * cancels, operator retries, duplicate submits, sleeps, flaky steps, child runs, effects, provider
 * turns) on two kernels sharing one memory store, with faults at every durable boundary, for
 * seeds 1..2000 (HOLDFAST_SIM_SEEDS / HOLDFAST_SIM_SEED override). A failing seed prints its
 * violations, the command that replays it and the end of its trace.
 */
const [first, last] = simulationSeeds(1, 2_000);
const CHUNK = 100;
const measured = { seeds: 0, ms: 0, steps: 0, crashes: 0, pauses: 0 };

describe('the simulation keeps every invariant', () => {
  for (let from = first; from <= last; from += CHUNK) {
    const to = Math.min(last, from + CHUNK - 1);
    it(`seeds ${from}..${to}`, async () => {
      const failures: string[] = [];
      const started = performance.now();
      for (let seed = from; seed <= to; seed++) {
        const result = await createSimulation({ seed, replay: (s) => replayCommand(s) }).run();
        measured.steps += result.stats.steps;
        measured.crashes += result.stats.crashes;
        measured.pauses += result.stats.pauses;
        if (!result.ok) failures.push(result.report(60));
      }
      measured.ms += performance.now() - started;
      measured.seeds += to - from + 1;
      expect(failures, failures.join('\n\n')).toEqual([]);
    });
  }
});

afterAll(() => {
  if (measured.seeds === 0) return;
  const perSecond = (measured.seeds / measured.ms) * 1000;
  console.log(
    `simulation: ${measured.seeds} seeds in ${(measured.ms / 1000).toFixed(1)} s = ${perSecond.toFixed(0)} simulated runs/s ` +
      `(${Math.round(measured.steps / measured.seeds)} steps, ${(measured.crashes / measured.seeds).toFixed(2)} crashes and ` +
      `${(measured.pauses / measured.seeds).toFixed(2)} pauses per run)`,
  );
});

describe('reproduction', () => {
  it('the same seed gives a byte-identical trace; another seed another one', async () => {
    const one = await createSimulation({ seed: 424_242 }).run();
    const again = await createSimulation({ seed: 424_242 }).run();
    const other = await createSimulation({ seed: 424_243 }).run();
    expect(one.trace.length).toBeGreaterThan(1_000);
    expect(again.trace).toBe(one.trace);
    expect(again.stats).toEqual(one.stats);
    expect(other.trace).not.toBe(one.trace);
  });

  it('rejects a seed that is not a 32-bit unsigned integer', () => {
    expect(() => createSimulation({ seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => createSimulation({ seed: 1.5 })).toThrow(/seed must be an integer/);
  });
});

describe('a user flow under crashes and preemption', () => {
  // What docs/simulation.md shows: the user's own flow, provider script and commands.
  const replies = new Map<string, string>();
  const triage = defineFlow('triage', async (ctx, input: { issue: number }) => {
    const plan = await ctx.step('plan', () => `look at #${input.issue}`);
    const answer = await ctx.turn<string>('agent', { prompt: plan });
    await ctx.effect('reply', ({ idempotencyKey }) => {
      if (!replies.has(idempotencyKey)) replies.set(idempotencyKey, answer);
      return idempotencyKey;
    });
    return answer;
  });

  it('keeps every invariant over 100 seeds', async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 100; seed++) {
      const result = await createSimulation({
        seed,
        flows: [triage],
        providers: {
          agent: [
            { durationMs: 3_000, result: 'on it' },
            { durationMs: 500, fail: 'agent crashed' },
          ],
        },
        workload: {
          commands: [
            { flow: 'triage', input: { issue: 7 } },
            { flow: 'triage', input: { issue: 8 } },
          ],
        },
        allowedFailures: ['provider_failed'],
      }).run();
      if (!result.ok) failures.push(result.report(40));
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(replies.size).toBeGreaterThan(0);
  });
});
