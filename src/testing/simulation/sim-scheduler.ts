import type { Clock, Random, TimerHandle } from '../../ports/clock.js';

/**
 * The simulation's only source of progress (I5). Everything that can happen next is either a
 * ready item (a store call reaching the store, a store result reaching its caller, a wake message
 * arriving) or a timer on the virtual clock; each `step()` picks one from a seeded random stream,
 * runs it, and lets every promise chain it started settle before returning. With no real I/O and
 * no real timers underneath, the same seed therefore gives the same run, event for event.
 *
 * Items and timers belong to a node (a kernel incarnation, the network, the client). A node is
 * `up`, `paused` (nothing of it happens until it resumes: a stopped process) or `down` (crashed:
 * its items and timers are gone, its pending store calls never settle). Timers fire in due order
 * and never before their time; while items are ready, time jumps to the next timer only with
 * `timeJumpChance` (a slow store), so store calls usually complete well within a lease.
 *
 * Modes of a node: up -> paused -> up (resume: its overdue timers fire, late, in due order);
 * up | paused -> down (crash; final for that node).
 */
export type NodeState = 'up' | 'paused' | 'down';

export interface ReadyItem {
  readonly node: string;
  /** One trace line's worth: what happens when it runs. */
  readonly label: string;
  readonly run: () => void | Promise<void>;
}

interface SimTimer {
  readonly due: number;
  readonly order: number;
  readonly node: string;
  readonly fn: () => void;
  cancelled: boolean;
}

/** What one step did: the item's label, or the timer's node and due time; undefined when idle. */
export type StepReport = { readonly kind: 'item'; readonly label: string } | { readonly kind: 'timer'; readonly node: string };

export class SimScheduler {
  private time: number;
  private order = 0;
  private marks = 0;
  private readonly ready: ReadyItem[] = [];
  private timers: SimTimer[] = [];
  private readonly held = new Map<string, SimTimer[]>();
  private readonly states = new Map<string, NodeState>();

  constructor(
    private readonly random: Random,
    start: number,
    private readonly timeJumpChance: number,
  ) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** A number larger than every earlier one: orders observations made within one step. */
  mark(): number {
    return ++this.marks;
  }

  state(node: string): NodeState {
    return this.states.get(node) ?? 'down';
  }

  addNode(node: string): void {
    this.states.set(node, 'up');
  }

  /** A clock whose timers belong to `node`: they stop with it, and wait while it is paused. */
  clockFor(node: string): Clock {
    return {
      now: () => this.time,
      monotonic: () => this.time,
      setTimer: (ms: number, fn: () => void): TimerHandle => this.setTimer(node, ms, fn),
    };
  }

  setTimer(node: string, ms: number, fn: () => void): TimerHandle {
    if (this.state(node) === 'down') return { cancel: () => undefined };
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: SimTimer = { due: this.time + delay, order: this.order++, node, fn, cancelled: false };
    if (this.state(node) === 'paused') this.held.get(node)?.push(timer);
    else heapPush(this.timers, timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  enqueue(item: ReadyItem): void {
    if (this.state(item.node) !== 'down') this.ready.push(item);
  }

  pause(node: string): void {
    if (this.state(node) !== 'up') return;
    this.states.set(node, 'paused');
    this.held.set(
      node,
      this.timers.filter((t) => t.node === node && !t.cancelled),
    );
    this.rebuild((t) => t.node !== node);
  }

  resume(node: string): void {
    if (this.state(node) !== 'paused') return;
    this.states.set(node, 'up');
    for (const timer of this.held.get(node) ?? []) if (!timer.cancelled) heapPush(this.timers, timer);
    this.held.delete(node);
  }

  /** Crashes `node`: its ready items and timers are dropped, now and from now on. */
  down(node: string): void {
    this.states.set(node, 'down');
    this.held.delete(node);
    for (let i = this.ready.length - 1; i >= 0; i--) if (this.ready[i]!.node === node) this.ready.splice(i, 1);
    this.rebuild((t) => t.node !== node);
  }

  /** Ready items of `node` (for the fault plan: is a store call of it in flight?). */
  readyOf(node: string): number {
    let count = 0;
    for (const item of this.ready) if (item.node === node) count++;
    return count;
  }

  /** When the next timer that can fire is due, or undefined. */
  nextDue(): number | undefined {
    this.dropCancelled();
    return this.timers[0]?.due;
  }

  /**
   * Runs one ready item or fires one timer (telling `before` first), then lets the promise chains
   * it started settle. Undefined when nothing can happen (every node idle, down, or paused with no
   * timer left).
   */
  async step(before: (report: StepReport) => void = () => undefined): Promise<StepReport | undefined> {
    const eligible: number[] = [];
    for (let i = 0; i < this.ready.length; i++) if (this.state(this.ready[i]!.node) === 'up') eligible.push(i);
    this.dropCancelled();
    const timer = this.timers[0];
    let report: StepReport | undefined;
    // A timer already due competes with the ready items; a later one comes only with the jump chance.
    const timerNow = timer !== undefined && timer.due <= this.time;
    const pick = Math.floor(this.random.next() * (eligible.length + (timerNow ? 1 : 0)));
    if (pick < eligible.length && (timerNow || timer === undefined || this.random.next() >= this.timeJumpChance)) {
      const index = eligible[pick]!;
      const [item] = this.ready.splice(index, 1);
      report = { kind: 'item', label: item!.label };
      before(report);
      await item!.run();
    } else if (timer !== undefined) {
      heapPop(this.timers);
      this.time = Math.max(this.time, timer.due);
      report = { kind: 'timer', node: timer.node };
      before(report);
      timer.fn();
    } else return undefined;
    await settle();
    return report;
  }

  private dropCancelled(): void {
    while (this.timers.length > 0 && this.timers[0]!.cancelled) heapPop(this.timers);
  }

  private rebuild(keep: (timer: SimTimer) => boolean): void {
    const kept = this.timers.filter((t) => keep(t) && !t.cancelled);
    this.timers = [];
    for (const timer of kept) heapPush(this.timers, timer);
  }
}

/** Lets every pending promise chain run: microtasks all drain before the next macrotask. */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function before(a: SimTimer, b: SimTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}

function heapPush(heap: SimTimer[], timer: SimTimer): void {
  heap.push(timer);
  for (let i = heap.length - 1; i > 0;) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: SimTimer[]): SimTimer | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  for (let i = 0; ;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
    if (m === i) break;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
  return top;
}
