/**
 * Every error holdfast throws is a HoldfastError with a stable string `code`, so callers can branch
 * on it without parsing messages. Messages say what was wrong and what to do about it.
 */
export class HoldfastError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller passed something the kernel cannot accept. Nothing was written. */
export class InvalidInputError extends HoldfastError {
  constructor(message: string, code = 'invalid_input') {
    super(code, message);
  }
}

/** A flow name that no `defineFlow` registered with this kernel. */
export class UnknownFlowError extends HoldfastError {
  constructor(flow: string, known: readonly string[]) {
    super(
      'unknown_flow',
      `no flow named "${flow}" is registered with this kernel (known: ${known.length ? known.join(', ') : 'none'}); pass it in createKernel({ flows })`,
    );
  }
}

/** A provider name that was not registered with this kernel. */
export class UnknownProviderError extends HoldfastError {
  constructor(provider: string, known: readonly string[]) {
    super(
      'unknown_provider',
      `no provider named "${provider}" is registered with this kernel (known: ${known.length ? known.join(', ') : 'none'}); pass it in createKernel({ providers })`,
    );
  }
}

/**
 * A fenced write was attempted with an epoch that is no longer the key's current one: another
 * runtime has taken the key over. The write was not applied.
 */
export class StaleEpochError extends HoldfastError {
  readonly key: string;
  readonly epoch: number;
  constructor(key: string, epoch: number, current: number | null) {
    super(
      'stale_epoch',
      `write for key "${key}" with epoch ${epoch} rejected: the key's current epoch is ${current ?? 'unowned'}, another runtime owns it now`,
    );
    this.key = key;
    this.epoch = epoch;
  }
}

/** A re-run reached a step whose name differs from the one journaled at that position. */
export class JournalDivergenceError extends HoldfastError {
  constructor(runId: string, seq: number, expected: string, actual: string) {
    super(
      'journal_divergence',
      `run ${runId} diverged from its journal at step #${seq}: the journal has "${expected}" but the flow now calls "${actual}"; step names and order must be deterministic for a run (derive them from the input and earlier step results only)`,
    );
  }
}

/** The database file exists but is not usable by this version of holdfast. */
export class StoreFormatError extends HoldfastError {
  constructor(code: 'not_holdfast_database' | 'schema_too_new' | 'corrupt_database', message: string) {
    super(code, message);
  }
}

/** The kernel was used in a state that does not allow the call (not started, stopping). */
export class KernelStateError extends HoldfastError {
  constructor(message: string) {
    super('kernel_state', message);
  }
}

/** A run ended in failure or cancellation; thrown by `RunHandle.result()`. */
export class RunFailedError extends HoldfastError {
  readonly runId: string;
  readonly status: 'failed' | 'cancelled';
  constructor(runId: string, status: 'failed' | 'cancelled', code: string, message: string) {
    super(code, `run ${runId} ${status}: ${message}`);
    this.runId = runId;
    this.status = status;
  }
}

/**
 * Thrown from a step or flow to fail the run at once, without retry. Any other error thrown by a
 * flow also fails the run; this one lets the caller choose the recorded code.
 */
export class TerminalError extends HoldfastError {
  constructor(message: string, code = 'terminal') {
    super(code, message);
  }
}
