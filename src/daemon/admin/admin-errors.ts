import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AdminApiError, HoldfastError, InvalidInputError, RunIdAmbiguousError } from '../../errors.js';

/** The body of every error answer of the admin API. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    /** For `run_id_ambiguous`: some of the matching run ids. */
    readonly candidates?: readonly string[];
  };
}

/** HTTP status of a typed error, by its code: client faults are 4xx, the store being unavailable 503. */
const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  run_not_found: 404,
  not_found: 404,
  unauthorized: 401,
  run_id_ambiguous: 409,
  run_not_retryable: 409,
  idempotency_conflict: 409,
  unknown_flow: 400,
  store_unavailable: 503,
  kernel_state: 503,
  database_read_only: 503,
};

/** The HTTP status an error is answered with. */
export function statusOfError(error: unknown): ContentfulStatusCode {
  if (error instanceof HoldfastError) {
    const byCode = STATUS_BY_CODE[error.code];
    if (byCode !== undefined) return byCode;
    if (error instanceof InvalidInputError || error.code.startsWith('invalid_')) return 400;
    if (error instanceof AdminApiError && error.status >= 400 && error.status <= 599) return error.status as ContentfulStatusCode;
  }
  return 500;
}

/** `{error:{code,message}}` for an error; anything that is not a HoldfastError is `internal`. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof RunIdAmbiguousError) {
    return { error: { code: error.code, message: error.message, candidates: error.candidates } };
  }
  if (error instanceof HoldfastError) return { error: { code: error.code, message: error.message } };
  const detail = error instanceof Error ? error.message : String(error);
  return { error: { code: 'internal', message: `the admin API failed: ${detail}; see the server's log` } };
}

/** Answers an error as JSON with its status. */
export function answerError(c: Context, error: unknown): Response {
  return c.json(errorBody(error), statusOfError(error));
}

/** A 4xx answer built here (bad request, bad token): `{error:{code,message}}`. */
export function answerProblem(c: Context, status: ContentfulStatusCode, code: string, message: string): Response {
  const body: ErrorBody = { error: { code, message } };
  return c.json(body, status);
}
