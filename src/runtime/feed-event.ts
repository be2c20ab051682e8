import type { Json, Millis } from '../model/index.js';
import type { NewFeedEvent } from '../ports/event-feed.js';
import type { KernelEventName, KernelEvents } from './events.js';

/** The kernel events the run-event feed records: all of them but `kernel:error` (logged, not a run's story). */
export type FeedEventName = Exclude<KernelEventName, 'kernel:error'>;

/**
 * Every recorded event name, spelled out so that an event added to KernelEvents does not compile
 * until someone decides here whether the feed records it.
 */
const RECORDED: { readonly [E in FeedEventName]: true } = {
  'run:queued': true,
  'run:started': true,
  'step:committed': true,
  'step:retrying': true,
  'step:abandoned': true,
  'run:completed': true,
  'run:failed': true,
  'run:cancelled': true,
  'run:requeued': true,
  'run:interrupted': true,
  'run:waiting': true,
  'run:spawned': true,
  'effect:claimed': true,
  'effect:delivered': true,
  'effect:failed': true,
  'schedule:fired': true,
  'journal:compacted': true,
  'run:parked': true,
  'run:resumed': true,
  'turn:started': true,
  'turn:process': true,
  'turn:process-ended': true,
  'turn:output': true,
  'turn:completed': true,
  'turn:preempted': true,
  'turn:aborted': true,
  'turn:late-result': true,
  'owner:acquired': true,
  'owner:released': true,
  'owner:lost': true,
  'run:reopened': true,
  'store:unavailable': true,
  'store:recovered': true,
  'kernel:hung': true,
};

export const FEED_EVENT_NAMES = Object.keys(RECORDED) as FeedEventName[];

/** The most text of one `turn:output` chunk the feed keeps (characters); the rest is cut and marked. */
export const OUTPUT_CHUNK_CHARS = 4096;

/** Nesting deeper than this is cut (event payloads are shallow; this only bounds odd values). */
const MAX_DEPTH = 12;

/** A kernel event as a feed entry: its run and key when it has them, its fields as JSON. */
export function toFeedEvent<E extends FeedEventName>(type: E, event: KernelEvents[E], at: Millis): NewFeedEvent {
  const fields = event as Record<string, unknown>;
  const runId = typeof fields.runId === 'string' ? fields.runId : null;
  const key = typeof fields.key === 'string' ? fields.key : null;
  const data = type === 'turn:output' ? outputData(fields) : (toFeedJson(event) ?? null);
  return { at, type, runId, key, data };
}

/**
 * Two `turn:output` entries of the same turn and stream, as one entry, when their text fits in
 * OUTPUT_CHUNK_CHARS together; undefined otherwise.
 */
export function coalescedOutput(earlier: NewFeedEvent, later: NewFeedEvent): NewFeedEvent | undefined {
  if (earlier.type !== 'turn:output' || later.type !== 'turn:output') return undefined;
  const a = earlier.data as { seq?: Json; chunk?: { kind?: Json; data?: Json; truncated?: Json } };
  const b = later.data as typeof a;
  if (earlier.runId !== later.runId || a.seq !== b.seq || a.chunk?.kind !== b.chunk?.kind) return undefined;
  if (a.chunk?.kind === 'json' || a.chunk?.truncated || b.chunk?.truncated) return undefined;
  const text = a.chunk?.data;
  const more = b.chunk?.data;
  if (typeof text !== 'string' || typeof more !== 'string' || text.length + more.length > OUTPUT_CHUNK_CHARS) return undefined;
  return { ...earlier, data: { ...(earlier.data as Record<string, Json>), chunk: { ...a.chunk, data: text + more } } };
}

/** A `turn:output` event with its chunk's text cut to OUTPUT_CHUNK_CHARS (marked `truncated`, with the full `length`). */
function outputData(fields: Record<string, unknown>): Json {
  const { chunk, ...rest } = fields as { chunk?: { kind?: unknown; data?: unknown } };
  const base = toFeedJson(rest) as Record<string, Json>;
  const kind = typeof chunk?.kind === 'string' ? chunk.kind : 'text';
  const data = toFeedJson(chunk?.data) ?? null;
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  if (text.length <= OUTPUT_CHUNK_CHARS) return { ...base, chunk: { kind, data } };
  return { ...base, chunk: { kind, data: cut(text, OUTPUT_CHUNK_CHARS), truncated: true, length: text.length } };
}

/** The first `max` characters of `text`, never splitting a surrogate pair. */
function cut(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * `value` as JSON a store can keep: errors become `{ code, message }`, dates ISO strings, bigints
 * strings, non-finite numbers null; undefined, functions and symbols are left out (null inside
 * arrays); cycles and nesting past MAX_DEPTH become `"[cut]"`.
 */
export function toFeedJson(value: unknown, depth = 0, seen = new Set<object>()): Json | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : value.name, message: value.message };
  }
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[cut]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => toFeedJson(item, depth + 1, seen) ?? null);
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const json = toFeedJson(v, depth + 1, seen);
      if (json !== undefined) out[k] = json;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
