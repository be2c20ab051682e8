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
 * flow also fails the run (after the step's retries, for a `RetryableError`); this one lets the
 * caller choose the recorded code and says plainly that trying again cannot help.
 */
export class TerminalError extends HoldfastError {
  constructor(message: string, code = 'terminal') {
    super(code, message);
  }
}

/**
 * Thrown from a step to say "this may work if tried again": the step is run again after
 * `retryAfterMs` (or its retry policy's backoff) instead of failing the run, until its attempts
 * are used up. Subclasses mark holdfast's own transient failures (`StoreUnavailableError`).
 */
export class RetryableError extends HoldfastError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { readonly code?: string; readonly retryAfterMs?: number; readonly cause?: unknown } = {}) {
    super(options.code ?? 'retryable', message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Why a store could not be used just now; each passes without anyone changing holdfast's data. */
export type StoreUnavailableReason = 'locked' | 'full' | 'read_only' | 'io' | 'disconnected';

/**
 * The store could not be reached or written just now (another process holds the write lock past
 * the busy timeout, the disk is full or read-only, an I/O error, a dropped connection). Nothing
 * was written by the call that failed. Retryable: the kernel retries its own writes with capped
 * backoff and never fails a run for this; a caller of `submit` may retry with the same
 * idempotence key (a webhook ingress answers 503 so the sender redelivers).
 */
export class StoreUnavailableError extends RetryableError {
  readonly reason: StoreUnavailableReason;
  constructor(reason: StoreUnavailableReason, where: string, detail: string, cause?: unknown) {
    super(`${where} is unavailable (${reason}: ${detail}); nothing was written, retry later`, { code: 'store_unavailable', cause });
    this.reason = reason;
  }
}

/**
 * An idempotence key was submitted again with a different key, flow or input than the run it
 * already names. Nothing was written: the key keeps naming that first run.
 */
export class IdempotencyConflictError extends HoldfastError {
  readonly runId: string;
  readonly field: 'key' | 'flow' | 'input';
  constructor(idempotencyKey: string, runId: string, field: 'key' | 'flow' | 'input') {
    super(
      'idempotency_conflict',
      `idempotence key ${JSON.stringify(idempotencyKey)} already names run ${runId}, submitted with a different ${field}; ` +
        'an idempotence key must always carry the same command (use a new key for a different command)',
    );
    this.runId = runId;
    this.field = field;
  }
}

/** A child run failed or was cancelled; `ctx.join` throws this with the child's own error. */
export class ChildFailedError extends HoldfastError {
  readonly childId: string;
  readonly childError: { readonly code: string; readonly message: string };
  constructor(childId: string, status: string, error: { readonly code: string; readonly message: string }) {
    super('child_failed', `child run ${childId} ${status}: ${error.code}: ${error.message}`);
    this.childId = childId;
    this.childError = error;
  }
}

/** No run has this id in the store. */
export class RunNotFoundError extends HoldfastError {
  readonly runId: string;
  constructor(runId: string, where: string) {
    super('run_not_found', `no run with id ${runId} in ${where}; check the id (holdfast runs lists them)`);
    this.runId = runId;
  }
}

/**
 * A step or turn ran past its `timeoutMs`. The step is abandoned: whatever its function still
 * returns is discarded, never committed. In-process code cannot be killed; work that must be
 * stoppable belongs in a provider child process.
 */
export class StepTimeoutError extends HoldfastError {
  constructor(what: 'step' | 'turn', name: string, runId: string, timeoutMs: number) {
    super(
      `${what}_timeout`,
      `${what} "${name}" of run ${runId} did not finish within ${timeoutMs} ms and was abandoned (its late result is discarded)`,
    );
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

/** A run-id prefix names more than one run. Nothing was done; pass more characters of the id. */
export class RunIdAmbiguousError extends HoldfastError {
  readonly prefix: string;
  /** Some of the matching run ids (at most ten). */
  readonly candidates: readonly string[];
  constructor(prefix: string, candidates: readonly string[], total: number) {
    super(
      'run_id_ambiguous',
      `run id prefix "${prefix}" matches ${total} runs (${candidates.join(', ')}${total > candidates.length ? ', ...' : ''}); give more characters of the id`,
    );
    this.prefix = prefix;
    this.candidates = candidates;
  }
}

/** No database file at the path (or no directory for it). Nothing was created. */
export class DatabaseMissingError extends HoldfastError {
  readonly path: string;
  /** `directoryProblem`: what is wrong with the path's directory (`the directory /x does not exist`). */
  constructor(path: string, directoryProblem?: string) {
    super(
      'database_missing',
      directoryProblem === undefined
        ? `no database at ${path}; pass --db with the path of an existing holdfast database (holdfast serve or a kernel creates it)`
        : `no database at ${path}: ${directoryProblem}; check the --db path`,
    );
    this.path = path;
  }
}

/** The database path names a directory, not a file. */
export class DatabaseIsDirectoryError extends HoldfastError {
  readonly path: string;
  constructor(path: string) {
    super('database_is_directory', `${path} is a directory, not a database file; pass --db with the path of the database file in it`);
    this.path = path;
  }
}

/**
 * The database file is damaged or is not a SQLite database at all (its header or its pages cannot
 * be read). Nothing was written to it.
 */
export class DatabaseCorruptError extends StoreFormatError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(
      'corrupt_database',
      `${path} is corrupt: ${problem}; check it with holdfast doctor --db ${path}, then restore it from a backup or move it aside`,
    );
    this.path = path;
  }
}

/** The database cannot be read by this process (file permissions). */
export class DatabaseUnreadableError extends HoldfastError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super('database_unreadable', `${path} cannot be read (${detail}); check its permissions and those of its directory`);
    this.path = path;
  }
}

/** A verb that writes was pointed at a database this process may only read. Nothing was written. */
export class DatabaseReadOnlyError extends HoldfastError {
  readonly path: string;
  constructor(path: string, what: string) {
    super(
      'database_read_only',
      `${path} is read-only for this process, and ${what} writes to it; nothing was written. Run it as the database's owner, or over --url against holdfast serve`,
    );
    this.path = path;
  }
}

/** A holdfast database whose schema is older than this version, opened where it cannot be migrated. */
export class SchemaTooOldError extends HoldfastError {
  constructor(path: string, version: number, latest: number) {
    super(
      'schema_too_old',
      `${path} has holdfast schema version ${version}, older than this holdfast's (${latest}), and a read-only open cannot migrate it; start holdfast serve (or a kernel) on it once to upgrade it`,
    );
  }
}

/** The admin API at a URL could not be reached (refused, unknown host, timed out). */
export class DaemonUnreachableError extends HoldfastError {
  readonly url: string;
  constructor(url: string, detail: string, cause?: unknown) {
    super(
      'daemon_unreachable',
      `cannot reach the holdfast admin API at ${url} (${detail}); start it with holdfast serve, or check --url / HOLDFAST_URL`,
      { cause },
    );
    this.url = url;
  }
}

/** The admin API refused the request's credentials (HTTP 401). */
export class UnauthorizedError extends HoldfastError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/**
 * The admin API answered with an error: `code` and message are the server's (a HoldfastError's
 * there), `status` the HTTP status.
 */
export class AdminApiError extends HoldfastError {
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(code, message);
    this.status = status;
  }
}
