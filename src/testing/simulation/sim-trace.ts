import type { CallOutcome, StoreCall } from './sim-store.js';

const RUN_ID = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;
const SHOWN_FIELDS = ['key', 'runId', 'flow', 'priority', 'preempt', 'seq', 'name', 'status', 'mode', 'effectKey', 'epoch'] as const;

/**
 * The simulation's readable trace: one line per scheduler event and per decision that matters
 * (faults, client actions, kernel events, violations), with run ids shortened to r1, r2 ... and
 * owner ids to their node, in order of first appearance. Nothing in it depends on wall time or
 * on anything but the seed, so two runs of one seed give the same text, byte for byte.
 */
export class SimTrace {
  private readonly lines: string[] = [];
  private readonly runs = new Map<string, string>();
  private readonly owners = new Map<string, string>();

  constructor(private readonly now: () => number) {}

  /** Appends a line; any run id in it (effect keys name them too) is shortened. */
  add(text: string): void {
    this.lines.push(`${this.lines.length} t=${this.now()} ${this.shorten(text)}`);
  }

  /** `text` with every run id in it shortened (r1, r2 ...). */
  shorten(text: string): string {
    return text.replace(RUN_ID, (id) => this.run(id));
  }

  get length(): number {
    return this.lines.length;
  }

  /** The short name of a run id (r1, r2 ... in order of first appearance). */
  run(id: string | undefined | null): string {
    if (id === undefined || id === null) return '-';
    let short = this.runs.get(id);
    if (short === undefined) this.runs.set(id, (short = `r${this.runs.size + 1}`));
    return short;
  }

  /** Owner ids are shown as the node that holds them. */
  nameOwner(ownerId: string, node: string): void {
    this.owners.set(ownerId, node);
  }

  owner(ownerId: string | null | undefined): string {
    if (ownerId === null || ownerId === undefined) return 'nobody';
    return this.owners.get(ownerId) ?? ownerId;
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** The last `count` lines. */
  tail(count: number): string {
    return count > 0 ? this.lines.slice(-count).join('\n') : '';
  }

  /** A store call, and its outcome once known, in a few words. */
  call(call: StoreCall, outcome?: CallOutcome): string {
    const args = call.args.map((a) => this.value(a, true)).join(' ');
    const head = `${call.op}(${args})`;
    if (outcome === undefined) return `-> store ${head}`;
    const result = outcome.ok ? this.result(call.op, outcome.value) : `throws ${errorCode(outcome.error)}`;
    return `<- store ${head} ${result}`;
  }

  private result(op: string, value: unknown): string {
    if (op === 'claimNext') {
      const claim = value as { claimed?: { run: { id: string } }; dropped: { id: string }[] };
      const dropped = claim.dropped.length > 0 ? ` dropped ${claim.dropped.map((r) => this.run(r.id)).join(',')}` : '';
      return claim.claimed ? `claimed ${this.run(claim.claimed.run.id)}${dropped}` : `nothing${dropped}`;
    }
    if (op === 'enqueue') {
      const { run, created } = value as { run: { id: string }; created: boolean };
      return `${this.run(run.id)} ${created ? 'created' : 'existing'}`;
    }
    return this.value(value, false);
  }

  private value(value: unknown, detailed: boolean): string {
    if (value === undefined) return 'undefined';
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return String(value);
    if (typeof value === 'string') return this.runs.has(value) || /^[0-9a-f]{8}-/.test(value) ? this.run(value) : value;
    if (Array.isArray(value)) return `[${value.length}]`;
    const record = value as Record<string, unknown>;
    if (!detailed) {
      if (typeof record.id === 'string') return `${this.run(record.id)}:${typeof record.status === 'string' ? record.status : ''}`;
      if (typeof record.epoch === 'number') return `e${record.epoch}`;
      if (typeof record.state === 'string') return record.state;
      return 'ok';
    }
    const parts: string[] = [];
    if (typeof record.ownerId === 'string') parts.push(this.owner(record.ownerId));
    if (typeof record.id === 'string') parts.push(this.run(record.id));
    for (const field of SHOWN_FIELDS) {
      const shown = record[field];
      if (typeof shown !== 'string' && typeof shown !== 'number' && typeof shown !== 'boolean') continue;
      parts.push(field === 'epoch' ? `e${shown}` : field === 'runId' ? this.run(String(shown)) : String(shown));
    }
    const frame = record.frame as { runId?: string } | undefined;
    if (typeof frame?.runId === 'string') parts.push(`frame ${this.run(frame.runId)}`);
    return parts.join(' ');
  }
}

export function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) return String(error.code);
  return error instanceof Error ? error.name : String(error);
}
