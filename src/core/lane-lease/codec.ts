import { shownValue } from '../shown-value.js';
import { HoldfastError } from '../../errors.js';
import type { Json } from '../../model/json.js';
import { LANE_MODES, LANE_OPS, type LaneJournalRead, type LaneRecord, type LiveLease } from '../../model/lane.js';

/**
 * Reading and writing journal records as data: validation of a record read back from a store
 * row or an export line, the sorted-key JSON line format of `lane export`, and the reading rule
 * shared by stores and import: a record that does not decode is corrupt (reported with its seq),
 * unless it is the last one, which reads as torn, i.e. not written. Pure.
 */

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const OPS: ReadonlySet<string> = new Set(LANE_OPS);
const MODES: ReadonlySet<string> = new Set(LANE_MODES);

/** Validates an object (a parsed JSON line or a decoded row) as a LaneRecord. */
export function decodeLaneRecord(raw: unknown): Decoded<LaneRecord> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('not an object');
  const r = raw as Record<string, unknown>;
  if (!isPositiveInt(r.seq)) return fail(`seq ${show(r.seq)} is not a positive integer`);
  if (typeof r.op !== 'string' || !OPS.has(r.op)) return fail(`unknown op ${show(r.op)}`);
  if (typeof r.at !== 'number' || !Number.isFinite(r.at)) return fail(`at ${show(r.at)} is not a time`);
  for (const f of ['lane', 'holder', 'kind', 'host', 'runId', 'reason'] as const) {
    if (r[f] !== null && typeof r[f] !== 'string') return fail(`${f} ${show(r[f])} is not a string or null`);
  }
  for (const f of ['lease', 'generation', 'pid'] as const) {
    if (r[f] !== null && !Number.isInteger(r[f])) return fail(`${f} ${show(r[f])} is not an integer or null`);
  }
  if (r.ttlMinutes !== null && (typeof r.ttlMinutes !== 'number' || !(r.ttlMinutes > 0)))
    return fail(`ttlMinutes ${show(r.ttlMinutes)} is not positive`);
  if (r.tree !== null && !isStringArray(r.tree)) return fail(`tree ${show(r.tree)} is not a list of paths`);
  if (r.mode !== null && (typeof r.mode !== 'string' || !MODES.has(r.mode))) return fail(`unknown mode ${show(r.mode)}`);
  if (r.detail === undefined) return fail('detail is missing');
  const record = {
    seq: r.seq,
    op: r.op,
    at: r.at,
    lane: r.lane,
    lease: r.lease,
    holder: r.holder,
    kind: r.kind,
    tree: r.tree,
    mode: r.mode,
    ttlMinutes: r.ttlMinutes,
    generation: r.generation,
    host: r.host,
    pid: r.pid,
    runId: r.runId,
    reason: r.reason,
    detail: r.detail,
  } as LaneRecord;
  const problem = opProblem(record);
  return problem === undefined ? { ok: true, value: record } : fail(problem);
}

function opProblem(r: LaneRecord): string | undefined {
  switch (r.op) {
    case 'acquire':
      if (!r.lane) return 'acquire without a lane';
      if (!r.holder) return 'acquire without a holder';
      if (r.tree === null || r.mode === null || r.kind === null) return 'acquire without tree, mode or kind';
      if (r.ttlMinutes === null || r.generation === null || r.generation < 1) return 'acquire without ttl or generation';
      if (r.host === null || r.pid === null) return 'acquire without host or pid';
      return undefined;
    case 'release':
    case 'heartbeat':
    case 'scavenge':
      return r.lease === null ? `${r.op} without a lease` : undefined;
    case 'adopt':
      if (r.lease === null) return 'adopt without a lease';
      return r.holder ? undefined : 'adopt without a new holder';
    case 'refuse':
    case 'spawn':
      return r.lane ? undefined : `${r.op} without a lane`;
    case 'halt':
      return undefined;
    case 'checkpoint':
      return checkpointProblem(r.detail);
  }
}

function checkpointProblem(detail: Json | null): string | undefined {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return 'checkpoint without a snapshot';
  const { leases, generations } = detail as { leases?: unknown; generations?: unknown };
  if (!Array.isArray(leases) || !leases.every(isLiveLease)) return 'checkpoint with malformed leases';
  if (typeof generations !== 'object' || generations === null || Array.isArray(generations)) return 'checkpoint without generations';
  if (!Object.values(generations).every(isPositiveInt)) return 'checkpoint with malformed generations';
  return undefined;
}

function isLiveLease(v: unknown): v is LiveLease {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return (
    isPositiveInt(l.id) &&
    typeof l.lane === 'string' &&
    typeof l.kind === 'string' &&
    isStringArray(l.tree) &&
    typeof l.mode === 'string' &&
    MODES.has(l.mode) &&
    typeof l.holder === 'string' &&
    typeof l.host === 'string' &&
    Number.isInteger(l.pid) &&
    (l.runId === null || typeof l.runId === 'string') &&
    typeof l.ttlMinutes === 'number' &&
    isPositiveInt(l.generation) &&
    typeof l.acquiredAt === 'number' &&
    typeof l.beatAt === 'number'
  );
}

/** One export line: the record as JSON with its keys sorted at every depth, no newline. */
export function encodeLaneRecordLine(record: LaneRecord): string {
  return JSON.stringify(sortKeys(record as unknown as Json));
}

export function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k]!)]),
  );
}

export type JournalReadResult =
  | ({ readonly ok: true } & LaneJournalRead)
  | { readonly ok: false; readonly position: number; readonly seq: number | null; readonly problem: string };

/**
 * The reading rule for a sequence of raw records (`position` is a line number or a row's seq):
 * every one must decode and seqs must strictly increase; the last one alone may fail, and then
 * it is torn and dropped.
 */
export function readJournal(raws: readonly { readonly position: number; readonly raw: () => unknown }[]): JournalReadResult {
  const records: LaneRecord[] = [];
  for (let i = 0; i < raws.length; i++) {
    const item = raws[i]!;
    let decoded: Decoded<LaneRecord>;
    try {
      decoded = decodeLaneRecord(item.raw());
    } catch (error) {
      decoded = fail((error as Error).message);
    }
    const previous = records.at(-1);
    if (decoded.ok && previous !== undefined && decoded.value.seq <= previous.seq) {
      decoded = fail(`seq ${decoded.value.seq} does not follow seq ${previous.seq}`);
    }
    if (decoded.ok) {
      records.push(decoded.value);
      continue;
    }
    if (i === raws.length - 1) return { ok: true, records, torn: { at: item.position, problem: decoded.problem } };
    return { ok: false, position: item.position, seq: seqOf(item.raw), problem: decoded.problem };
  }
  return { ok: true, records, torn: null };
}

/** Reads export text: one record per non-blank line; a torn last line reads as not written. */
export function readJournalLines(text: string): JournalReadResult {
  const lines = text
    .split('\n')
    .map((line, i) => ({ line, position: i + 1 }))
    .filter((l) => l.line.trim() !== '');
  return readJournal(lines.map((l) => ({ position: l.position, raw: () => JSON.parse(l.line) as unknown })));
}

function seqOf(raw: () => unknown): number | null {
  try {
    const v = raw();
    const seq = typeof v === 'object' && v !== null ? (v as { seq?: unknown }).seq : undefined;
    return isPositiveInt(seq) ? seq : null;
  } catch {
    return null;
  }
}

function isPositiveInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 0;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((p) => typeof p === 'string');
}

function fail(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

const show = shownValue;

/** Refuses to append a record that would not read back (a bug in the deciding code). */
export function checkedRecord(record: LaneRecord): LaneRecord {
  const decoded = decodeLaneRecord(record);
  if (!decoded.ok) {
    throw new HoldfastError(
      'invalid_lane_record',
      `refusing to append lane record #${record.seq} (${record.op}): ${decoded.problem}; nothing was written`,
    );
  }
  return decoded.value;
}
