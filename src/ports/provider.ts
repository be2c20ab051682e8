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
  /**
   * The native session this turn continues, as an earlier turn of the same session scope reported
   * it through `onSession` (journaled, so it survives a steal, a crash and a takeover on another
   * machine). Absent for the first turn of a session.
   */
  readonly nativeSession?: NativeSession;
  /**
   * Called when the provider learns the agent's own session identity (an agent CLI's session id,
   * a thread id) and working directory. The runtime journals it at once, before the turn ends.
   */
  readonly onSession?: (session: NativeSession) => void;
}

/** An agent's own session identity, as its provider reports it (A2). */
export interface NativeSession {
  /** The agent's session id (Claude Code's session id, a Codex thread id, an ACP session id). */
  readonly id: string;
  /** The working directory the session belongs to (agent CLIs keep transcripts per directory). */
  readonly cwd?: string;
  /** Anything else the provider needs to re-open the session (JSON, journaled as is). */
  readonly data?: Json;
}

/** Why the runtime asks a turn to stop, so the provider can keep or forget it (K6). */
export interface SoftStopRequest {
  /** `steal` parks the run and re-issues the turn later; `abort-keep` requeues it; `abort-drop`,
   * `cancel` and `deadline` end it; `stop` and `lost` hand the key on. */
  readonly kind: 'steal' | 'abort-keep' | 'abort-drop' | 'cancel' | 'deadline' | 'stop' | 'lost';
  /** A message for logs and events. */
  readonly reason: string;
  /** True when the interrupted turn must not be seen by later turns of its session (abort-drop). */
  readonly forget: boolean;
}

/** What a steer delivery did: `delivered` into the running turn, or `refused` (nothing changed). */
export type SteerOutcome = 'delivered' | 'refused';

/**
 * One provider turn in flight (A1).
 *
 * - `result` settles once: resolved with the turn's JSON result, or rejected. After `softStop` it
 *   settles as soon as the agent has ended the turn as interrupted (resolve or reject; the runtime
 *   treats either as interrupted and discards the value, K7).
 * - `softStop`, where the provider has one, asks the agent to end the turn now and keep its process
 *   and session. The runtime waits up to its grace for `result` to settle, and only then aborts the
 *   request's signal, on which the provider must kill everything it started and reject.
 * - `steer`, where the provider has one, delivers more input into the running turn.
 */
export interface TurnHandle {
  readonly result: Promise<Json>;
  softStop?(request: SoftStopRequest): void;
  steer?(input: Json): Promise<SteerOutcome>;
}

/**
 * A provider runs one turn of an agent (a CLI child process, an LLM stream, a scripted fake).
 * It implements `startTurn` (a turn handle: soft stop, steer, native session), `runTurn` (a plain
 * promise), or both; the runtime prefers `startTurn`.
 *
 * Contract: the result resolves with the turn's JSON result, or rejects. When `signal` aborts the
 * provider must stop promptly, free everything it started (child process groups included) and
 * reject with the signal's reason. A result that still arrives after the abort is discarded by the
 * runtime. `close`, where present, ends every process the provider keeps between turns (the
 * kernel calls it on stop).
 */
export type Provider =
  | { runTurn(request: TurnRequest): Promise<Json>; startTurn?(request: TurnRequest): TurnHandle; close?(): Promise<void> }
  | { startTurn(request: TurnRequest): TurnHandle; runTurn?(request: TurnRequest): Promise<Json>; close?(): Promise<void> };
