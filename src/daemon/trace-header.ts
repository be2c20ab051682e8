import { normalTraceParent } from '../core/trace-parent.js';

/**
 * The W3C `traceparent` header of an incoming request, as a submit field: `{ traceparent }` when
 * the request carries a valid one (a user's proxy or OpenTelemetry-instrumented client sends it;
 * GitHub does not), `{}` otherwise. A malformed header is ignored, as the Trace Context
 * specification asks: the run then starts a trace of its own, and the request is not refused.
 */
export function traceContextOf(headers: Headers): { traceparent?: string } {
  const traceparent = normalTraceParent(headers.get('traceparent'));
  return traceparent === undefined ? {} : { traceparent };
}
