import { RetryableError } from '../../errors.js';
import type { Json } from '../../model/index.js';
import type { TurnRequest } from '../../ports/provider.js';
import type { FakeTurn } from '../../providers/fake-provider.js';
import { defineFlow, type Flow } from '../../runtime/flow.js';
import type { Random } from '../../ports/clock.js';
import type { EffectReceiver } from './effect-receiver.js';

/** What one `work` run does, drawn by the workload generator. */
export interface WorkInput {
  readonly task: string;
  /** Provider turns, one after the other. */
  readonly turns: number;
  /** A durable sleep after the plan. */
  readonly sleepMs?: number;
  /** A step that fails (retryable) the first time it runs. */
  readonly flaky?: boolean;
  /** A child run (`ctx.call`), on this key or another. */
  readonly child?: { readonly key?: string; readonly sleepMs?: number };
  /** An effect through the receiver; `failOnce`: its first emission fails (outbox retry). */
  readonly effect?: { readonly failOnce: boolean };
  /** A step that throws: the run fails on purpose (code `flow_error`). */
  readonly fail?: boolean;
}

/** The message of the built-in workload's deliberate failure, so the checks can tell it apart. */
export const DELIBERATE_FAILURE = 'deliberate failure (simulated workload)';

/**
 * The built-in workload's flows: `work` (plan, sleep, flaky step, provider turns, child run,
 * effect, deliberate failure, as its input says), `reply` (the short urgent command) and `child`.
 * They act on the outside world only through the receiver and the flaky-step ledger, which live
 * as long as the simulation: a crash loses neither.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
export function workloadFlows(receiver: EffectReceiver): Flow<any, unknown>[] {
  const flakyTried = new Set<string>();
  const work = defineFlow('work', async (ctx, input: WorkInput) => {
    const plan = await ctx.step('plan', () => `plan:${input.task}`);
    if (input.sleepMs !== undefined) await ctx.sleep(input.sleepMs);
    if (input.flaky) {
      await ctx.step(
        'flaky',
        () => {
          if (flakyTried.has(ctx.runId)) return 'recovered';
          flakyTried.add(ctx.runId);
          throw new RetryableError('the flaky step fails the first time (simulated)', { retryAfterMs: 400 });
        },
        { retry: { maxAttempts: 3, initialMs: 400 } },
      );
    }
    const answers: Json[] = [];
    for (let i = 0; i < input.turns; i++) answers.push(await ctx.turn<Json>('agent', { plan, turn: i }));
    if (input.child) {
      const key = input.child.key;
      answers.push(await ctx.call('child', { sleepMs: input.child.sleepMs ?? null }, key === undefined ? {} : { key }));
    }
    if (input.effect) {
      const failOnce = input.effect.failOnce;
      await ctx.effect('reply', (call) => receiver.emit(call, ctx.runId, failOnce));
    }
    if (input.fail) {
      await ctx.step('boom', () => {
        throw new Error(DELIBERATE_FAILURE);
      });
    }
    return ctx.step('finish', () => ({ task: input.task, answers: answers.length }));
  });
  const reply = defineFlow('reply', async (ctx, input: { text: string }) => ctx.step('reply', () => `replied: ${input.text}`));
  const child = defineFlow('child', async (ctx, input: { sleepMs: number | null }) => {
    await ctx.step('child-work', () => 'working');
    if (input.sleepMs !== null) await ctx.sleep(input.sleepMs);
    return ctx.step('child-done', () => 'done');
  });
  return [work, reply, child];
}

/**
 * The built-in `agent` script: turns of 200 ms to 4 s with a chunk halfway, answering an object
 * that names the call (so a committed answer can be traced to the call it came from).
 */
export function agentScript(random: Random): (request: TurnRequest, index: number) => FakeTurn {
  return (request, index) => {
    const durationMs = 200 + Math.floor(random.next() * 3_800);
    return {
      durationMs,
      chunks: [{ atMs: durationMs / 2, data: `thinking ${index}` }],
      result: { call: index, session: request.sessionId, interrupted: request.interrupted },
    };
  };
}
