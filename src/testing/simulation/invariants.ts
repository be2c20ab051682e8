import type { OwnerLease, RunRecord } from '../../model/index.js';
import type { Store } from '../../ports/store.js';
import type { FlowAction } from './observed-flow.js';
import type { ObservedTurn, SimProviders } from './sim-providers.js';
import type { CallOutcome, StoreCall } from './sim-store.js';
import type { SimTrace } from './sim-trace.js';

/** A broken guarantee, named by its requirement (K1, D1 ...). */
export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

/** Store calls that write under the epoch fence and throw StaleEpochError when it fails. */
const FENCED = new Set([
  'claimNext',
  'commitStep',
  'finishRun',
  'requeueRun',
  'parkRun',
  'suspendRun',
  'spawnChild',
  'expireOverdue',
  'claimEffect',
  'recordEffect',
  'failEffect',
  'releaseOwner',
]);

/** Calls after which a run is queued again: its demand counts from then (K5). */
const QUEUES = new Set(['enqueue', 'spawnChild', 'fireSchedule', 'reopenRun', 'requeueRun']);

type Request = Record<string, unknown> & { key?: string; runId?: string; ownerId?: string; epoch?: number; now?: number };

/**
 * The safety checks of the simulation, run at every store call as it reaches the store (with the
 * state before and after it) and after every scheduler step (on what flows and providers did in
 * it). They read the shared store directly: between two steps nothing else can change it.
 *
 * - K1: a fenced write succeeds only for the key's lease holder at its current epoch.
 * - D1: no step function runs, at the current epoch, while its step is already committed.
 * - K5: no non-urgent turn starts, at the current epoch, while urgent demand for its key that was
 *   durable before the run's last write is still queued (the check before the turn must see it).
 * - K7: nothing is committed for a turn after its call was aborted (no late result).
 * - D3: an effect is emitted, at the current epoch, only while the store holds its claim for the run.
 * - a run whose cancel (abort-drop) was recorded is never claimed afterwards.
 * - D4: a waiting run is claimed only once its wake time came; a timer wait fires once.
 *
 * Actions at an epoch that is no longer current (a paused owner that resumed before its lease
 * watch noticed) commit nothing and are counted as fenced, not as violations.
 */
export class SimInvariants {
  readonly violations: Violation[] = [];
  fencedActions = 0;
  private applied = 0;
  private readonly queuedAt = new Map<string, number>();
  private readonly lastWrite = new Map<string, number>();
  private readonly firedTimers = new Set<string>();
  private actions: FlowAction[] = [];
  private turns: ObservedTurn[] = [];

  constructor(
    private readonly store: Store,
    private readonly providers: SimProviders,
    private readonly ownerOf: (node: string) => string | undefined,
    private readonly trace: SimTrace,
  ) {}

  fail(invariant: string, message: string): void {
    this.violations.push({ invariant, message: this.trace.shorten(message) });
    this.trace.add(`VIOLATION ${invariant}: ${message}`);
  }

  /** Applies `call` to the store with the checks that need the state around it. */
  async apply(call: StoreCall, perform: () => Promise<unknown>): Promise<CallOutcome> {
    const request = (call.args[0] ?? {}) as Request;
    const fenced = FENCED.has(call.op) && typeof request.key === 'string';
    const lease = fenced ? copy(await this.store.getOwner(request.key!)) : undefined;
    const before = call.op === 'claimNext' ? await this.store.listRuns({ key: request.key! }) : undefined;
    let outcome: CallOutcome;
    try {
      outcome = { ok: true, value: await perform() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.applied++;
    if (!outcome.ok) return outcome;
    const wrote = call.op !== 'releaseOwner' || outcome.value === true;
    if (fenced && wrote && (lease?.ownerId !== request.ownerId || lease?.epoch !== request.epoch)) {
      this.fail(
        'K1',
        `${call.op} by ${call.node} at epoch ${request.epoch} was applied while ${request.key} was held by ${this.trace.owner(lease?.ownerId)} at epoch ${lease?.epoch}`,
      );
    }
    const runId = request.runId ?? (request.frame as { runId?: string } | undefined)?.runId;
    if (fenced && runId !== undefined) this.lastWrite.set(runId, this.applied);
    if (QUEUES.has(call.op)) this.noteQueued(call.op, request, outcome.value);
    if (call.op === 'claimNext') this.checkClaim(call, request, outcome.value, before!);
    if (call.op === 'commitStep' && String(request.name).startsWith('turn:')) this.checkTurnCommit(call, request);
    return outcome;
  }

  /** A flow's step function or effect emission is starting (checked after the step). */
  observe(action: FlowAction): void {
    this.actions.push(action);
  }

  /** A provider turn is starting (checked after the step). */
  turnStarted(turn: ObservedTurn): void {
    this.turns.push(turn);
  }

  /** Checks what flows and providers did during the last scheduler step. */
  async afterStep(): Promise<void> {
    const actions = this.actions;
    const turns = this.turns;
    if (actions.length === 0 && turns.length === 0) return;
    this.actions = [];
    this.turns = [];
    for (const action of actions) {
      if (!(await this.current(action.node, action.key, action.epoch, `${action.kind} ${action.name} of ${this.trace.run(action.runId)}`)))
        continue;
      if (action.kind === 'step') {
        const committed = (await this.store.getSteps(action.runId)).filter((s) => s.name === action.name).length;
        if (committed > action.occurrence)
          this.fail('D1', `${action.node} ran step "${action.name}" of ${this.trace.run(action.runId)} although it was already committed`);
      } else {
        const effect = (await this.store.listEffects()).find((e) => e.key === action.effectKey);
        if (effect?.status !== 'claimed' || effect.runId !== action.runId) {
          const state = effect ? `${effect.status} by ${this.trace.run(effect.runId)}` : 'not claimed at all';
          this.fail('D3', `${action.node} emitted effect ${action.effectKey} while the store had it ${state}`);
        }
      }
    }
    for (const turn of turns) await this.checkTurnStart(turn);
  }

  private async checkTurnStart(turn: ObservedTurn): Promise<void> {
    const run = await this.store.getRun(turn.runId);
    if (!run || !(await this.current(turn.node, run.key, turn.epoch, `turn #${turn.seq} of ${this.trace.run(run.id)}`))) return;
    if (run.priority === 'urgent') return;
    const write = this.lastWrite.get(run.id) ?? 0;
    for (const other of await this.store.listRuns({ key: run.key, status: ['queued'] })) {
      if (other.priority !== 'urgent' || other.cancelRequested === 'abort-drop' || other.id === run.id) continue;
      const at = this.queuedAt.get(other.id);
      if (at !== undefined && at < write) {
        this.fail(
          'K5',
          `${turn.node} started turn #${turn.seq} of ${this.trace.run(run.id)} while urgent ${this.trace.run(other.id)} was queued`,
        );
      }
    }
  }

  /** Whether `node` acts at the key's current epoch; if not, the action is fenced (counted). */
  private async current(node: string, key: string, epoch: number, what: string): Promise<boolean> {
    const lease = await this.store.getOwner(key);
    if (lease?.ownerId === this.ownerOf(node) && lease?.epoch === epoch) return true;
    this.fencedActions++;
    this.trace.add(`fenced: ${node} ${what} at epoch ${epoch} (the lease is at epoch ${lease?.epoch}); nothing it does commits`);
    return false;
  }

  private noteQueued(op: string, request: Request, value: unknown): void {
    if (op === 'enqueue' || op === 'fireSchedule') {
      const result = value as { run: RunRecord; created: boolean } | null | undefined;
      if (result?.created) this.queuedAt.set(result.run.id, this.applied);
    } else if (op === 'spawnChild') {
      const child = value as RunRecord;
      if (!this.queuedAt.has(child.id)) this.queuedAt.set(child.id, this.applied);
    } else if (request.runId !== undefined) this.queuedAt.set(request.runId, this.applied);
  }

  private checkClaim(call: StoreCall, request: Request, value: unknown, before: RunRecord[]): void {
    const claimedId = (value as { claimed?: { run: RunRecord } }).claimed?.run.id;
    const run = before.find((r) => r.id === claimedId);
    if (!run) return;
    this.lastWrite.set(run.id, this.applied);
    const name = this.trace.run(run.id);
    const now = request.now ?? 0;
    if (run.cancelRequested === 'abort-drop')
      this.fail('cancel', `${call.node} claimed ${name} although its cancel (abort-drop) was recorded`);
    if (run.status !== 'waiting' || !run.wait) return;
    const due = (run.wait.wakeAt !== null && run.wait.wakeAt <= now) || (run.deadlineAt !== null && run.deadlineAt <= now);
    if (!due) this.fail('D4', `${call.node} claimed ${name} at ${now}, before its ${run.wait.kind} wait ends (${run.wait.wakeAt})`);
    if (run.wait.kind !== 'timer') return;
    const timer = `${run.id}/${JSON.stringify(run.wait.detail)}/${run.wait.wakeAt}`;
    if (this.firedTimers.has(timer)) this.fail('D4', `the timer of ${name} due at ${run.wait.wakeAt} fired twice`);
    this.firedTimers.add(timer);
  }

  private checkTurnCommit(call: StoreCall, request: Request): void {
    const turn = this.providers.callOf(request.result);
    if (!turn) return;
    const name = `provider call #${turn.index} (${this.trace.run(turn.runId)} turn #${turn.seq})`;
    if (turn.abortedMark !== undefined && turn.abortedMark < call.issuedMark) {
      this.fail('K7', `${call.node} committed the result of ${name} after the call was aborted at ${turn.abortedAt}`);
    } else if (turn.epoch !== request.epoch) {
      this.fail('K7', `${call.node} committed at epoch ${request.epoch} the result of ${name} started at epoch ${turn.epoch}`);
    }
  }
}

function copy(lease: OwnerLease | undefined): OwnerLease | undefined {
  return lease && { ...lease };
}
