import {
  HoldfastError,
  IdempotencyConflictError,
  InvalidInputError,
  KernelStateError,
  StoreUnavailableError,
  UnknownFlowError,
} from '../../errors.js';

/** Where an ingress route reports what it did; fields are flat JSON facts, never secrets or bodies. */
export type IngressLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;

/** Seconds a sender is asked to wait before redelivering after a 503. */
const DEFAULT_RETRY_AFTER_S = 5;

/** A JSON response; every error answer of an ingress route has the body `{ error: { code, message } }`. */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/** An error answer: what was wrong and what to do, under a stable code. */
export function errorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return jsonReply(status, { error: { code, message } }, headers);
}

/** 204 without a body; `reason` goes into a header (printable ASCII, cut short) for whoever looks at the delivery. */
export function noContentReply(reason: string): Response {
  const printable = reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return new Response(null, { status: 204, headers: { 'x-holdfast-ignored': printable } });
}

/** True for `application/json`, with or without parameters such as `charset`. */
export function isJsonContentType(header: string | undefined | null): boolean {
  return typeof header === 'string' && header.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The body as JSON: strict UTF-8 (a byte-order mark is allowed), then JSON.parse. */
export function parseJsonBody(
  raw: Buffer,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly detail: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { ok: false, detail: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, detail: `the body is not valid JSON (${error instanceof Error ? error.message.slice(0, 200) : 'parse error'})` };
  }
}

/** A request's headers as a plain record with lower-case names. */
export function headerRecord(request: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/**
 * Maps a rejected submit to its answer. The sender's faults are 4xx; a store that is briefly
 * unavailable or a kernel that is stopping is 503 with `Retry-After`, so the sender redelivers
 * (the idempotence key makes that safe); a route to an unknown flow is the server's configuration
 * fault (500, naming `configField`); anything else is an internal error (500).
 */
export function submitFailureReply(error: unknown, configField: string): { readonly response: Response; readonly serverFault: boolean } {
  if (error instanceof IdempotencyConflictError) {
    const message = `${error.message}. This delivery id was already accepted with another payload; send a new delivery instead of reusing its id`;
    return { response: errorReply(409, error.code, message), serverFault: false };
  }
  if (error instanceof StoreUnavailableError || error instanceof KernelStateError) {
    const seconds =
      error instanceof StoreUnavailableError && error.retryAfterMs ? Math.ceil(error.retryAfterMs / 1000) : DEFAULT_RETRY_AFTER_S;
    const message = `${error.message}; nothing was recorded, redeliver after ${seconds} s`;
    return { response: errorReply(503, error.code, message, { 'retry-after': String(seconds) }), serverFault: true };
  }
  if (error instanceof UnknownFlowError) {
    const message = `${configField} names a flow this daemon does not run: ${error.message}; fix the daemon configuration`;
    return { response: errorReply(500, 'route_to_unknown_flow', message), serverFault: true };
  }
  if (error instanceof InvalidInputError) {
    const message = `the request made a command the kernel refuses: ${error.message}`;
    return { response: errorReply(400, error.code, message), serverFault: false };
  }
  const code = error instanceof HoldfastError ? error.code : 'internal_error';
  return {
    response: errorReply(500, code, 'the command could not be recorded because of a fault in the daemon; see its log'),
    serverFault: true,
  };
}

/** An error's message for a log line. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
