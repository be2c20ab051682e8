import { StepTimeoutError } from '../errors.js';
import type { DurableCursor } from './run-environment.js';

/**
 * Calls a step's function at once (no await before it) with a signal that aborts on interruption
 * (the run's own, when the step has no timeout) or on its timeout. With a timeout, stops waiting
 * for the function when the timeout passes: the step is abandoned (`step:abandoned`) and the call
 * rejects with StepTimeoutError; whatever the function still returns is discarded.
 */
export async function callStepFunction<T>(
  cursor: DurableCursor,
  step: {
    readonly name: string;
    readonly seq: number;
    readonly fn: (step: { readonly signal: AbortSignal }) => Promise<T> | T;
    readonly timeoutMs: number | undefined;
  },
): Promise<T> {
  const { env } = cursor;
  if (step.timeoutMs === undefined) return await callNow(step.fn, { signal: cursor.signal });
  const timeoutMs = step.timeoutMs;
  const controller = new AbortController();
  const forward = () => controller.abort(cursor.signal.reason);
  cursor.signal.addEventListener('abort', forward, { once: true });
  let timer: { cancel(): void } | undefined;
  try {
    const running = callNow(step.fn, { signal: controller.signal });
    const timedOut = new Promise<never>((_, reject) => {
      timer = env.clock.setTimer(timeoutMs, () => {
        const error = new StepTimeoutError('step', step.name, cursor.runId, timeoutMs);
        controller.abort(error);
        env.events.emit('step:abandoned', { runId: cursor.runId, key: cursor.key, seq: step.seq, name: step.name, reason: 'timeout' });
        reject(error);
      });
    });
    running.catch(() => undefined); // a late failure of an abandoned step is discarded
    return await Promise.race([running, timedOut]);
  } finally {
    timer?.cancel();
    cursor.signal.removeEventListener('abort', forward);
  }
}

/** Calls a function at once and returns its outcome as a promise (a throw becomes a rejection). */
export function callNow<A, T>(fn: (arg: A) => Promise<T> | T, arg: A): Promise<T> {
  try {
    return Promise.resolve(fn(arg));
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the function's own throw passes through unchanged
    return Promise.reject(error);
  }
}
