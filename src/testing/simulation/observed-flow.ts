import type { EffectCall, Flow, FlowContext } from '../../runtime/flow.js';

/** A step function starting, or an effect being emitted, as the invariant checks see it. */
export type FlowAction =
  | {
      readonly kind: 'step';
      readonly node: string;
      readonly runId: string;
      readonly key: string;
      readonly epoch: number;
      readonly name: string;
      /** How many earlier `ctx.step` calls of this execution had the same name. */
      readonly occurrence: number;
    }
  | {
      readonly kind: 'emit';
      readonly node: string;
      readonly runId: string;
      readonly key: string;
      readonly epoch: number;
      readonly name: string;
      readonly effectKey: string;
    };

/**
 * `flow` as kernel incarnation `node` runs it: the same function, given a context whose `step`
 * and `effect` report each function call to `observe` just before it runs (which node, run, epoch
 * and position), so the checks can tell a committed step run twice (D1) or an effect emitted
 * without its claim (D3). Everything else of the context passes through unchanged.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
export function observedFlow(flow: Flow<any, unknown>, node: string, observe: (action: FlowAction) => void): Flow<any, unknown> {
  return {
    ...flow,
    run: (ctx, input) => flow.run(observedContext(ctx, node, observe), input),
  };
}

function observedContext(ctx: FlowContext, node: string, observe: (action: FlowAction) => void): FlowContext {
  const seen = new Map<string, number>();
  const where = () => ({ node, runId: ctx.runId, key: ctx.key, epoch: ctx.fencingToken.epoch });
  const step: FlowContext['step'] = (name, fn, options) => {
    const occurrence = seen.get(name) ?? 0;
    seen.set(name, occurrence + 1);
    return ctx.step(
      name,
      (s) => {
        observe({ kind: 'step', ...where(), name, occurrence });
        return fn(s);
      },
      options,
    );
  };
  const effect = (name: string, fn: (call: EffectCall) => unknown, options?: object) =>
    ctx.effect(
      name,
      (call: EffectCall) => {
        observe({ kind: 'emit', ...where(), name, effectKey: call.idempotencyKey });
        return fn(call) as never;
      },
      options,
    );
  return Object.freeze({ ...ctx, step, effect });
}
