import { StoreUnavailableError } from '../../errors.js';
import type { Random } from '../../ports/clock.js';
import type { SimKernels } from './sim-kernels.js';
import type { SimScheduler } from './sim-scheduler.js';
import type { SimTrace } from './sim-trace.js';
import type { ClientAction } from './workload.js';

/** How long the client waits for a kernel's answer before it tries another (a crashed or paused one never answers). */
const CLIENT_TIMEOUT_MS = 3_000;
const RETRY_AFTER_MS = 250;

/** What the client knows of one command. */
export interface CommandState {
  readonly command: number;
  readonly idempotencyKey: string;
  /** The run id of every accepted submit (K3: all the same). */
  readonly accepted: string[];
  /** Explicit cancels the client asked for (recorded or not). */
  readonly cancels: string[];
}

/**
 * The client of the simulation: performs the workload's actions through a kernel picked from the
 * seed, as webhooks and operators would. A submit that fails as unavailable, or gets no answer in
 * time (its kernel crashed or is paused), is sent again with the same idempotence key through
 * another kernel, until accepted (K3). Cancels and operator retries are tried once per action.
 */
export class SimClient {
  readonly commands = new Map<number, CommandState>();
  private outstanding = 0;

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly kernels: SimKernels,
    private readonly random: Random,
    private readonly trace: SimTrace,
    private readonly fail: (invariant: string, message: string) => void,
  ) {}

  /** Schedules every action at its time on the client's clock. */
  plan(actions: readonly ClientAction[]): void {
    for (const action of actions) {
      if (action.kind === 'submit' && !this.commands.has(action.command)) {
        this.commands.set(action.command, { command: action.command, idempotencyKey: `cmd-${action.command}`, accepted: [], cancels: [] });
      }
      this.outstanding++;
      this.scheduler.setTimer('client', action.at, () => this.perform(action, 0));
    }
  }

  /** True once every action was performed and every command accepted. */
  settled(): boolean {
    return this.outstanding === 0 && [...this.commands.values()].every((c) => c.accepted.length > 0);
  }

  private perform(action: ClientAction, attempt: number): void {
    const live = this.kernels.live();
    if (live.length === 0) return void this.scheduler.setTimer('client', RETRY_AFTER_MS, () => this.perform(action, attempt));
    const { node, kernel } = live[Math.floor(this.random.next() * live.length)]!;
    const state = this.commands.get(action.command)!;
    if (action.kind !== 'submit') {
      this.outstanding--;
      const runId = state.accepted[0];
      if (runId === undefined) return this.trace.add(`client skips ${action.kind} of cmd-${action.command}: not accepted yet`);
      this.trace.add(
        `client asks ${node} to ${action.kind} ${this.trace.run(runId)}${action.kind === 'cancel' ? ` (${action.mode})` : ''}`,
      );
      if (action.kind === 'cancel') {
        state.cancels.push(action.mode);
        kernel.cancel(runId, { mode: action.mode }).then(
          (status) => this.trace.add(`client: cancel of ${this.trace.run(runId)} recorded (${status})`),
          (error: unknown) => this.refused('cancel', error),
        );
      } else {
        kernel.retry(runId).then(
          () => this.trace.add(`client: ${this.trace.run(runId)} re-opened`),
          (error: unknown) => this.refused('retry', error),
        );
      }
      return;
    }
    let answered = false;
    const again = (why: string) => {
      if (answered) return;
      answered = true;
      this.trace.add(`client: submit of ${state.idempotencyKey} through ${node} ${why}; sending it again`);
      this.scheduler.setTimer('client', RETRY_AFTER_MS, () => this.perform(action, attempt + 1));
    };
    this.trace.add(
      `client submits ${state.idempotencyKey} (${action.flow}, ${action.priority}${action.preempt ? ` ${action.preempt}` : ''}) to ${node}`,
    );
    this.scheduler.setTimer('client', CLIENT_TIMEOUT_MS, () => again('got no answer'));
    kernel
      .submit({
        key: action.key,
        flow: action.flow,
        input: action.input,
        idempotencyKey: state.idempotencyKey,
        priority: action.priority,
        ...(action.preempt && { preempt: action.preempt }),
        ...(action.deadlineMs !== undefined && { deadlineMs: action.deadlineMs }),
      })
      .then(
        (handle) => {
          if (answered) return;
          answered = true;
          this.outstanding--;
          this.trace.add(`client: ${state.idempotencyKey} accepted as ${this.trace.run(handle.id)}${handle.created ? '' : ' (existing)'}`);
          if (state.accepted.length > 0 && state.accepted[0] !== handle.id) {
            this.fail(
              'K3',
              `${state.idempotencyKey} was accepted as ${this.trace.run(state.accepted[0])} and as ${this.trace.run(handle.id)}`,
            );
          }
          state.accepted.push(handle.id);
        },
        (error: unknown) => {
          if (error instanceof StoreUnavailableError) return again('failed as unavailable');
          if (answered) return;
          answered = true;
          this.outstanding--;
          this.fail('K3', `submit of ${state.idempotencyKey} was refused: ${String(error)}`);
        },
      );
  }

  private refused(what: string, error: unknown): void {
    const code = (error as { code?: string }).code;
    // An operator retry of a run that is not failed or cancelled is refused by design.
    if (what === 'retry' && code === 'run_not_retryable') return this.trace.add(`client: retry refused (${code})`);
    if (error instanceof StoreUnavailableError) return this.trace.add(`client: ${what} failed as unavailable`);
    this.fail('client', `${what} was refused: ${String(error)}`);
  }
}
