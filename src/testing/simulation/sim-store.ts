import type { Store } from '../../ports/store.js';
import type { SimScheduler } from './sim-scheduler.js';

/** One store call of a node, as the simulation sees it at the durable boundary. */
export interface StoreCall {
  readonly node: string;
  readonly op: string;
  readonly args: readonly unknown[];
  /** The scheduler's mark when the caller issued it. */
  readonly issuedMark: number;
}

export type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * What happens when a call reaches the store: the outcome to deliver, `'hold'` to keep the call in
 * flight (it reaches the store again later: its node was paused with it), or `'lost'` when its
 * node crashed (the caller never hears back).
 */
export type BoundaryDecision = CallOutcome | 'hold' | 'lost';

/**
 * A node's view of the shared store: every call becomes a ready item that reaches the store when
 * the scheduler picks it, and its outcome another ready item that settles the caller's promise
 * when picked. So calls issued together are applied in a seeded order and their results come back
 * in another, and a crash or a pause can fall between any two of these steps. `boundary` applies
 * the call (or a fault instead); it runs while nothing else runs, so it may read the store before
 * and after. Data members (`description`, `lanes` ...) pass through.
 */
export function simStoreView(
  inner: Store,
  node: string,
  scheduler: SimScheduler,
  boundary: (call: StoreCall, apply: () => Promise<unknown>) => Promise<BoundaryDecision>,
  describe: (call: StoreCall, outcome?: CallOutcome) => string,
): Store {
  const view: Record<string, unknown> = {};
  for (const key of Object.keys(inner)) {
    const member = (inner as unknown as Record<string, unknown>)[key];
    if (typeof member !== 'function' || key === 'close') {
      view[key] = member;
      continue;
    }
    const method = member as (...args: unknown[]) => Promise<unknown>;
    view[key] = (...args: unknown[]) =>
      new Promise<unknown>((resolve, reject) => {
        const call: StoreCall = { node, op: key, args, issuedMark: scheduler.mark() };
        const reach = (): void =>
          scheduler.enqueue({
            node,
            label: `${node} ${describe(call)}`,
            run: async () => {
              const decision = await boundary(call, () => Reflect.apply(method, inner, args));
              if (decision === 'lost') return;
              if (decision === 'hold') return reach();
              scheduler.enqueue({
                node,
                label: `${node} ${describe(call, decision)}`,
                // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the store's error passes through unchanged
                run: () => (decision.ok ? resolve(decision.value) : reject(decision.error)),
              });
            },
          });
        reach();
      });
  }
  return Object.freeze(view) as unknown as Store;
}
