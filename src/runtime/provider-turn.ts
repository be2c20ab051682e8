import { StepTimeoutError } from '../errors.js';
import type { Json } from '../model/index.js';
import type { Clock } from '../ports/clock.js';
import type { Provider, TurnHandle, TurnRequest } from '../ports/provider.js';
import type { KernelEventEmitter } from './events.js';

export interface ProviderTurnCall {
  readonly provider: Provider;
  readonly providerName: string;
  /** Journal name of the turn (for events and timeouts). */
  readonly name: string;
  readonly runId: string;
  readonly key: string;
  readonly seq: number;
  readonly attempt: number;
  readonly epoch: number;
  readonly input: Json;
  readonly sessionId: string;
  /** The turn re-issues one interrupted by `steal`. */
  readonly interrupted: boolean;
  readonly timeoutMs: number | undefined;
  /** The run's signal: its abort interrupts the turn. */
  readonly signal: AbortSignal;
  readonly events: KernelEventEmitter;
  readonly clock: Clock;
}

/**
 * Runs the provider under a per-turn controller linked to the run's signal (and to the turn's
 * timeout), and returns as soon as either the provider answers or the turn is aborted. After an
 * abort the provider keeps settling in the background; whatever it answers then is discarded
 * (K7). An interruption rejects with the run signal's reason; a timeout with StepTimeoutError.
 */
export async function runProviderTurn(call: ProviderTurnCall): Promise<unknown> {
  const ids = { runId: call.runId, key: call.key, seq: call.seq };
  const controller = new AbortController();
  const forward = () => controller.abort(call.signal.reason);
  call.signal.addEventListener('abort', forward, { once: true });
  const timeout =
    call.timeoutMs === undefined
      ? undefined
      : call.clock.setTimer(call.timeoutMs, () => controller.abort(new StepTimeoutError('turn', call.name, call.runId, call.timeoutMs!)));
  call.events.emit('turn:started', {
    ...ids,
    provider: call.providerName,
    attempt: call.attempt,
    sessionId: call.sessionId,
    interrupted: call.interrupted,
  });
  const groups: number[] = [];
  const handle = openTurn(call.provider, {
    turn: { runId: call.runId, turnSeq: call.seq, attempt: call.attempt, epoch: call.epoch },
    input: call.input,
    sessionId: call.sessionId,
    interrupted: call.interrupted,
    signal: controller.signal,
    onChunk: (chunk) => {
      if (!controller.signal.aborted) call.events.emit('turn:output', { ...ids, chunk });
    },
    onProcessGroup: (pgid) => {
      groups.push(pgid);
      call.events.emit('turn:process', { ...ids, pgid });
    },
  });
  const pending = handle.result;
  const groupsEnded = () => {
    for (const pgid of groups.splice(0)) call.events.emit('turn:process-ended', { ...ids, pgid });
  };
  pending.then(groupsEnded, groupsEnded);
  try {
    return await untilAborted(pending, controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    const reason: unknown = controller.signal.reason;
    if (reason instanceof StepTimeoutError && !call.signal.aborted) {
      call.events.emit('step:abandoned', { ...ids, name: call.name, reason: 'timeout' });
    } else {
      const why = reason instanceof Error ? reason.message : String(reason);
      call.events.emit('turn:preempted', { ...ids, provider: call.providerName, reason: why });
    }
    pending.then(
      () => call.events.emit('turn:late-result', { ...ids, provider: call.providerName, attempt: call.attempt }),
      () => call.events.emit('turn:aborted', { ...ids, provider: call.providerName }),
    );
    throw reason;
  } finally {
    timeout?.cancel();
    call.signal.removeEventListener('abort', forward);
  }
}

/** The provider's turn handle: its own from `startTurn`, or `runTurn`'s promise as a handle without soft stop or steer. */
export function openTurn(provider: Provider, request: TurnRequest): TurnHandle {
  if (provider.startTurn) return provider.startTurn(request);
  if (provider.runTurn) return { result: provider.runTurn(request) };
  throw new TypeError('a provider must have startTurn or runTurn');
}

/** Whether `value` looks like a Provider: an object with `startTurn` or `runTurn`. */
export function isProvider(value: unknown): value is Provider {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.startTurn === 'function' || typeof candidate.runTurn === 'function';
}

/** Settles like `pending`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason as Error);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the provider's rejection passes through unchanged
        reject(error);
      },
    );
  });
}
