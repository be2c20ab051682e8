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

/**
 * A provider turn failed: its process exited non-zero or by a signal it did not get from holdfast,
 * or could not be started for a reason other than a missing program. The message names the program,
 * how it ended, and the tail of its stderr.
 */
export class ProviderFailedError extends HoldfastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider_failed', message, options);
  }
}

/** A provider's program does not exist (spawn ENOENT). Nothing was started. */
export class ProviderNotFoundError extends HoldfastError {
  readonly program: string;
  constructor(program: string) {
    super(
      'provider_not_found',
      `provider program "${program}" was not found; check the provider's argv[0] (an absolute path, or a name on the PATH of the kernel process)`,
    );
    this.program = program;
  }
}

/**
 * A lane journal record that is not the last one does not decode: the journal is corrupt at that
 * record. Nothing was written. It is never skipped, because the live set after it would be wrong.
 */
export class LaneJournalCorruptError extends HoldfastError {
  readonly seq: number | null;
  readonly position: number;
  constructor(where: string, position: number, seq: number | null, problem: string) {
    super(
      'lane_journal_corrupt',
      `lane journal ${where} is corrupt at ${seq === null ? `position ${position}` : `seq ${seq}`}: ${problem}; restore it from an export (holdfast lane import) or repair that record`,
    );
    this.seq = seq;
    this.position = position;
  }
}

/** `lane import` into a journal that already has records. Nothing was written. */
export class LaneJournalNotEmptyError extends HoldfastError {
  constructor(where: string, records: number) {
    super(
      'lane_journal_not_empty',
      `lane journal ${where} already has ${records} record(s); import only into a fresh database (pass another --db)`,
    );
  }
}
