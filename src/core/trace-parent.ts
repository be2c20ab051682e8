/**
 * The W3C Trace Context `traceparent` value (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `<version>-<trace id>-<parent span id>-<flags>`, lower-case hex, e.g.
 * `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. A run keeps the one it was submitted
 * with, so that its spans, in whatever process executes it, continue the submitter's trace.
 */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The trace flags byte (bit 0: sampled). */
  readonly flags: number;
}

/** Version, trace id, parent span id, flags; a version after 00 may append fields after the flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/** The longest `traceparent` accepted (version 00 is 55 characters; later versions may be longer). */
export const MAX_TRACEPARENT_LENGTH = 256;

/**
 * Parses a `traceparent` as the specification asks a receiver to: surrounding whitespace is
 * ignored, hex is accepted in either case; version `ff`, version `00` with extra fields, an
 * all-zero trace or span id, or any other shape is invalid (undefined), and the receiver starts a
 * trace of its own.
 */
export function parseTraceParent(text: unknown): TraceParent | undefined {
  if (typeof text !== 'string' || text.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const match = TRACEPARENT.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** A trace parent as a version-00 `traceparent` value. */
export function formatTraceParent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** `text` as a version-00 `traceparent` if it is a valid one (see parseTraceParent), else undefined. */
export function normalTraceParent(text: unknown): string | undefined {
  const parent = parseTraceParent(text);
  return parent && formatTraceParent(parent);
}
