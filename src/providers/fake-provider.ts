import { HoldfastError, ProviderFailedError } from '../errors.js';
import type { Json, Millis } from '../model/index.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { ProviderChunk, TurnIdentity, TurnRequest } from '../ports/provider.js';

/** One chunk a scripted turn emits, `atMs` after the turn starts (clamped to the turn's duration). */
export interface FakeChunk {
  readonly atMs: number;
  /** Default `text`. */
  readonly kind?: ProviderChunk['kind'];
  readonly data: Json;
}

/** What one scripted turn does. */
export interface FakeTurn {
  /** How long the turn takes on the injected clock. Default 0 (settles on the next microtask). */
  readonly durationMs?: number;
  readonly chunks?: readonly FakeChunk[];
  /** The result, or a function of the input computing it. Default `null`. */
  readonly result?: Json | ((input: Json, request: TurnRequest) => Json);
  /** Fail instead of returning: an Error is thrown as-is, a string becomes `provider_failed`. */
  readonly fail?: string | Error;
  /** Keep running after abort and settle at the scripted time (overrides the provider option). */
  readonly ignoreAbort?: boolean;
}

/** Turns by call index (0 = first `runTurn` call), or a function of the request and call index. */
export type FakeScript = readonly FakeTurn[] | ((request: TurnRequest, callIndex: number) => FakeTurn);

/** One recorded `runTurn` call. Updated in place as the turn progresses. */
export interface FakeCall {
  readonly index: number;
  readonly input: Json;
  readonly sessionId: string;
  readonly interrupted: boolean;
  readonly turn: TurnIdentity;
  readonly startedAt: Millis;
  /** True once the request's signal aborted (before or during the turn). */
  aborted: boolean;
  abortedAt: Millis | undefined;
  outcome: 'running' | 'resolved' | 'rejected';
  settledAt: Millis | undefined;
  result: Json | undefined;
  error: unknown;
}

export interface FakeProviderOptions {
  /** Drives durations and chunk offsets; a virtual clock in tests. No real timer is ever used. */
  readonly clock: Clock;
  /** Default for `FakeTurn.ignoreAbort`. */
  readonly ignoreAbort?: boolean;
}

export interface FakeProvider {
  runTurn(request: TurnRequest): Promise<Json>;
  /** Every call so far, in call order. */
  readonly calls: readonly FakeCall[];
}

/**
 * A scripted provider for tests, demos and the deterministic harness.
 *
 * On abort it cancels its timers and rejects at once with the signal's reason, emitting nothing
 * more. With `ignoreAbort` it behaves like a provider that does not honour the signal: it keeps
 * emitting chunks and resolves (or fails) at its scripted time, so a test can check that the late
 * result is discarded. Calls beyond the end of an array script reject with `fake_script_exhausted`.
 */
export function fakeProvider(script: FakeScript, options: FakeProviderOptions): FakeProvider {
  const { clock } = options;
  const calls: FakeCall[] = [];

  const runTurn = (request: TurnRequest): Promise<Json> => {
    const call: FakeCall = {
      index: calls.length,
      input: request.input,
      sessionId: request.sessionId,
      interrupted: request.interrupted,
      turn: request.turn,
      startedAt: clock.now(),
      aborted: request.signal.aborted,
      abortedAt: request.signal.aborted ? clock.now() : undefined,
      outcome: 'running',
      settledAt: undefined,
      result: undefined,
      error: undefined,
    };
    calls.push(call);
    return new Promise<Json>((resolve, reject) => {
      const timers: TimerHandle[] = [];
      const settle = (ok: boolean, value: unknown) => {
        if (call.outcome !== 'running') return;
        for (const t of timers) t.cancel();
        request.signal.removeEventListener('abort', onAbort);
        call.outcome = ok ? 'resolved' : 'rejected';
        call.settledAt = clock.now();
        if (ok) {
          call.result = value as Json;
          resolve(value as Json);
        } else {
          call.error = value;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the Provider contract: reject with the signal's reason as given
          reject(value);
        }
      };
      const spec = pickTurn(script, request, call.index);
      if (spec instanceof Error) return settle(false, spec);
      const ignoreAbort = spec.ignoreAbort ?? options.ignoreAbort ?? false;
      function onAbort() {
        call.aborted = true;
        call.abortedAt = clock.now();
        if (!ignoreAbort) settle(false, request.signal.reason);
      }
      if (request.signal.aborted && !ignoreAbort) return settle(false, request.signal.reason);
      request.signal.addEventListener('abort', onAbort, { once: true });

      const duration = Math.max(0, spec.durationMs ?? 0);
      const emit = (c: FakeChunk) => {
        if (call.outcome === 'running') request.onChunk({ kind: c.kind ?? 'text', data: c.data });
      };
      const finish = () => {
        if (spec.fail !== undefined) return settle(false, typeof spec.fail === 'string' ? new ProviderFailedError(spec.fail) : spec.fail);
        try {
          settle(true, typeof spec.result === 'function' ? spec.result(request.input, request) : (spec.result ?? null));
        } catch (err) {
          settle(false, err);
        }
      };
      const chunks = [...(spec.chunks ?? [])]
        .map((c) => ({ ...c, atMs: Math.min(Math.max(0, c.atMs), duration) }))
        .sort((a, b) => a.atMs - b.atMs);
      if (duration === 0) {
        // Never settle synchronously inside runTurn: real providers cannot either.
        void Promise.resolve().then(() => {
          for (const c of chunks) emit(c);
          finish();
        });
        return;
      }
      for (const c of chunks) timers.push(clock.setTimer(c.atMs, () => emit(c)));
      timers.push(clock.setTimer(duration, finish));
    });
  };

  return { runTurn, calls };
}

function pickTurn(script: FakeScript, request: TurnRequest, index: number): FakeTurn | Error {
  if (typeof script === 'function') {
    try {
      return script(request, index);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }
  return (
    script[index] ??
    new HoldfastError(
      'fake_script_exhausted',
      `fakeProvider: the script has ${script.length} turn(s) but call #${index + 1} was made; add turns or use a function script`,
    )
  );
}
