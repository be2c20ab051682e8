import type { RunId } from '../model/index.js';
import type { SubmitOptions } from '../runtime/submit-command.js';

/** What an ingress route learns from a durable submit. */
export interface AcceptedCommand {
  readonly runId: RunId;
  /** False when the idempotence key named an earlier command: nothing new was recorded. */
  readonly created: boolean;
}

/**
 * Where ingress routes (webhooks, `POST /v1/commands`) hand commands. Resolves once the command is
 * committed (the route answers 202 right after); rejects with the kernel's typed errors
 * (`IdempotencyConflictError`, unknown flow, `StoreUnavailableError`), which routes map to HTTP.
 */
export type CommandSink = (command: SubmitOptions) => Promise<AcceptedCommand>;
