import type { Json } from '../model/index.js';

/** One piece of a provider's streamed output. */
export interface ProviderChunk {
  /** `stdout`/`stderr` text, or one parsed JSON line when the provider emits JSON lines. */
  readonly kind: 'text' | 'json' | 'stderr';
  readonly data: Json;
}

/** Identity of one provider turn: `(runId, turnSeq, attempt)` plus the epoch it started under. */
export interface TurnIdentity {
  readonly runId: string;
  readonly turnSeq: number;
  readonly attempt: number;
  readonly epoch: number;
}

export interface TurnRequest {
  readonly turn: TurnIdentity;
  /** The turn's input, as given to `ctx.turn`. */
  readonly input: Json;
  /**
   * Provider session identity. Stable across a parked turn's re-issue, so agent CLIs that resume
   * sessions continue the same conversation.
   */
  readonly sessionId: string;
  /** True when this turn re-issues one that was interrupted (by `steal`). */
  readonly interrupted: boolean;
  /** Owned by the runtime: aborted on preemption, cancel, deadline or shutdown. */
  readonly signal: AbortSignal;
  /** Streamed output; the runtime turns it into `turn:output` events. */
  readonly onChunk: (chunk: ProviderChunk) => void;
  /**
   * Called once with the process group id when the provider starts a child process group, so the
   * runtime can record it with the turn and a janitor can reap the group after a kernel crash.
   */
  readonly onProcessGroup?: (pgid: number) => void;
}

/**
 * A provider runs one turn of an agent (a CLI child process, an LLM stream, a scripted fake).
 *
 * Contract: `runTurn` resolves with the turn's JSON result, or rejects. When `signal` aborts it
 * must stop promptly, free everything it started (child process groups included) and reject with
 * the signal's reason. A result that still arrives after the abort is discarded by the runtime.
 */
export interface Provider {
  runTurn(request: TurnRequest): Promise<Json>;
}
