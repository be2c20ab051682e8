import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { formatTraceParent, parseTraceParent } from '../core/trace-parent.js';
import type { RunError, RunRecord } from '../model/index.js';
import { RunInterrupt } from './run-interrupt.js';

/** The instrumentation scope of every holdfast span. */
export const TRACER_NAME = 'holdfast';

/** The spans holdfast starts under a run's span. */
export type RunChildSpan = 'holdfast.step' | 'holdfast.turn' | 'holdfast.effect';

/** How an execution ended, as far as its span is concerned (a `RunOutcome` fits). */
export interface TracedOutcome {
  readonly kind: 'completed' | 'failed' | 'interrupted' | 'suspended';
  readonly error?: RunError;
  readonly reason?: unknown;
  readonly wait?: { readonly kind: string };
}

/**
 * The OpenTelemetry spans of one execution of a run (I4), through `@opentelemetry/api` only: a
 * `holdfast.run` span from the claim to the outcome, parented on the run's stored `traceparent`
 * (so every execution of a run, in any process, joins the submitter's trace) or a root of its
 * own; `holdfast.step`, `holdfast.turn` and `holdfast.effect` spans as its children, each active
 * while its function runs, so spans that user code starts nest under it. A failure sets the
 * status to error; an interruption adds a `holdfast.preempted` (urgent work) or
 * `holdfast.interrupted` event and leaves the status unset.
 *
 * With no OpenTelemetry SDK registered every call is a no-op of the API (a non-recording span, a
 * context manager that only calls the function): nothing is recorded and nothing is exported. Spans
 * live in memory only: a process that dies mid-run loses its open spans; the next execution starts
 * a new `holdfast.run` span under the same parent.
 */
export interface RunTrace {
  /** Calls `fn` at once with the run's span as the active context. */
  within<T>(fn: () => T): T;
  /** Calls `fn` at once inside a child span of the run, ended when its promise settles. */
  child<T>(name: RunChildSpan, attributes: Attributes, fn: () => Promise<T>): Promise<T>;
  /** The run's signal aborted: records why on the run's span. */
  interrupted(reason: unknown): void;
  /** Ends the run's span with the execution's outcome. */
  end(outcome: TracedOutcome): void;
  /** The run's span as a `traceparent` (for the runs it spawns), or null when it has no valid context. */
  traceparent(): string | null;
}

/** Starts the `holdfast.run` span of an execution of `run` under the fence's `epoch`. */
export function startRunTrace(
  run: Pick<RunRecord, 'id' | 'key' | 'flow' | 'attempts' | 'priority' | 'traceparent'>,
  epoch: number,
): RunTrace {
  return new SpanRunTrace(run, epoch);
}

/** A RunTrace over the API's global tracer (object spreads are avoided: this runs per execution and per step). */
class SpanRunTrace implements RunTrace {
  private readonly tracer: Tracer;
  private readonly span: Span;
  private readonly context: Context;
  /** What every span of the run carries. */
  private readonly base: Attributes;

  constructor(run: Pick<RunRecord, 'id' | 'key' | 'flow' | 'attempts' | 'priority' | 'traceparent'>, epoch: number) {
    this.tracer = trace.getTracer(TRACER_NAME);
    this.base = { 'holdfast.run_id': run.id, 'holdfast.key': run.key, 'holdfast.flow': run.flow, 'holdfast.epoch': epoch };
    const attributes: Attributes = {
      'holdfast.run_id': run.id,
      'holdfast.key': run.key,
      'holdfast.flow': run.flow,
      'holdfast.epoch': epoch,
      'holdfast.attempt': run.attempts,
      'holdfast.priority': run.priority,
    };
    this.span = this.tracer.startSpan('holdfast.run', { kind: SpanKind.INTERNAL, attributes }, parentContext(run.traceparent));
    this.context = trace.setSpan(ROOT_CONTEXT, this.span);
  }

  within<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  child<T>(name: RunChildSpan, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, this.context);
    if (span.isRecording()) span.setAttributes(this.base);
    let pending: Promise<T>;
    try {
      pending = context.with(trace.setSpan(this.context, span), fn);
    } catch (error) {
      failed(span, error);
      span.end();
      throw error;
    }
    return pending.then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failed(span, error);
        span.end();
        throw error;
      },
    );
  }

  interrupted(reason: unknown): void {
    markInterrupted(this.span, reason);
  }

  end(outcome: TracedOutcome): void {
    endRunSpan(this.span, outcome);
  }

  traceparent(): string | null {
    return traceParentOf(this.span.spanContext()) ?? null;
  }
}

/**
 * The trace context a submitted command is stored with, so that every execution of its run joins
 * one trace: the `traceparent` given (a request's header), else the active span's (the submit
 * happens inside traced code), else a `holdfast.submit` span started and ended here, a root of
 * its own. Null when no OpenTelemetry SDK is registered (nothing would record the spans).
 */
export function submitTraceParent(given: string | undefined, command: { readonly key: string; readonly flow: string }): string | null {
  if (given !== undefined) return given;
  const active = traceParentOf(trace.getSpanContext(context.active()));
  if (active !== undefined) return active;
  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(
      'holdfast.submit',
      { kind: SpanKind.PRODUCER, attributes: { 'holdfast.key': command.key, 'holdfast.flow': command.flow } },
      ROOT_CONTEXT,
    );
  span.end();
  return traceParentOf(span.spanContext()) ?? null;
}

function traceParentOf(spanContext: SpanContext | undefined): string | undefined {
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  return formatTraceParent({ traceId: spanContext.traceId, spanId: spanContext.spanId, flags: spanContext.traceFlags });
}

/** The remote parent a stored `traceparent` names, or the root context (a trace of its own). */
function parentContext(traceparent: string | null): Context {
  const parent = traceparent === null ? undefined : parseTraceParent(traceparent);
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags & 0xff,
    isRemote: true,
  });
}

/** An interruption is an event, not an error; anything else sets the error status. */
function failed(span: Span, error: unknown): void {
  if (error instanceof RunInterrupt) return markInterrupted(span, error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}

function markInterrupted(span: Span, reason: unknown): void {
  if (!(reason instanceof RunInterrupt)) {
    span.addEvent('holdfast.interrupted', { 'holdfast.interrupt': reason instanceof Error ? reason.message : String(reason) });
    return;
  }
  const why = reason.reason;
  if (why.kind === 'preempt') {
    span.addEvent('holdfast.preempted', { 'holdfast.preempt_kind': why.mode, 'holdfast.preempted_by': why.by });
  } else {
    span.addEvent('holdfast.interrupted', { 'holdfast.interrupt': why.kind, ...('mode' in why && { 'holdfast.cancel_mode': why.mode }) });
  }
}

function endRunSpan(span: Span, outcome: TracedOutcome): void {
  span.setAttribute('holdfast.outcome', outcome.kind === 'suspended' ? 'waiting' : outcome.kind);
  if (outcome.kind === 'failed' && outcome.error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.error.code}: ${outcome.error.message}` });
  } else if (outcome.kind === 'interrupted' && outcome.reason instanceof RunInterrupt && outcome.reason.reason.kind === 'deadline') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason.message });
  } else if (outcome.kind === 'suspended' && outcome.wait) {
    span.setAttribute('holdfast.wait_kind', outcome.wait.kind);
  }
  span.end();
}
