import { deadlineError } from '../core/deadline.js';
import { faultMutation } from '../core/fault-mutations.js';
import type { InterruptReason } from '../core/interrupt.js';
import type { FencingToken, Key, RunId } from '../model/index.js';
import type { ClaimedRun, Fence } from '../ports/store.js';
import type { Flow } from './flow.js';
import { startExecution, type Execution, type RunOutcome } from './flow-run.js';
import type { KeyRuntimeDeps } from './key-runtime-deps.js';
import type { RunEnvironment } from './run-environment.js';
import { RunInterrupt } from './run-interrupt.js';
import { startRunTrace } from './tracing.js';

/** What an execution needs from its key runtime. */
export interface ExecutionHost {
  readonly key: Key;
  readonly fence: Fence;
  readonly fencingToken: FencingToken;
  readonly deps: KeyRuntimeDeps;
  /** The runtime's fenced, proven, retried write; a symbol when it may not write any more. */
  write<T>(operation: string, call: () => Promise<T>, alsoWhile?: () => boolean): Promise<T | symbol>;
  /** Reads durable urgent demand and interrupts the active run if it says so. */
  checkDemand(): Promise<void>;
}

/** One execution in progress, as the runtime holds it while it runs. */
export interface ActiveExecution {
  readonly runId: RunId;
  readonly controller: AbortController;
  readonly execution: Execution;
  /** Stop waiting for the flow now (the kernel's stop deadline passed). */
  readonly abandonNow: () => void;
}

/**
 * Executes a claimed run of `flow` and resolves with how it ended, without recording it (the key
 * runtime records every outcome in one place): what the flow returned; an interruption (at the
 * position reached, for a parked frame), also when the flow did not unwind within the grace and
 * was abandoned, or when its deadline passed; or the durable wait it entered.
 *
 * `onStart` gets the active execution at once, so the runtime can interrupt it.
 */
export function executeClaimed(
  host: ExecutionHost,
  flow: Flow,
  claimed: ClaimedRun,
  onStart: (active: ActiveExecution) => void,
): Promise<RunOutcome> {
  const { run, steps, attempts, frame } = claimed;
  const { deps } = host;
  const controller = new AbortController();
  const signal = controller.signal;
  let enteredWait!: (outcome: RunOutcome) => void;
  const waiting = new Promise<RunOutcome>((resolve) => (enteredWait = resolve));
  const trace = startRunTrace(run, host.fence.epoch);
  const env: RunEnvironment = {
    clock: deps.clock,
    random: deps.random,
    events: deps.events,
    store: deps.store,
    fence: host.fence,
    signal,
    fencingToken: host.fencingToken,
    providers: deps.providers,
    flows: deps.flows,
    flowRetry: flow.retry,
    frame,
    attempts,
    beforeTurn: () => (faultMutation('turn-ignores-demand') ? Promise.resolve() : host.checkDemand()), // test-only switch, off in product code
    durable: async (operation, call) => {
      const written = await host.write(operation, call, () => !signal.aborted);
      if (typeof written === 'symbol')
        throw signal.aborted ? signal.reason : new RunInterrupt({ kind: 'lost' }, `run ${run.id}: ${operation} not written`);
      return written;
    },
    suspended: (wait) => enteredWait({ kind: 'suspended', wait }),
    dispatch: (work) => deps.onWork(work.map((w) => ({ key: w.key, urgent: w.urgent ?? false }))),
    wakeAt: (at) => deps.onWaiting(at),
    scratchDir: () => deps.scratch.create(run.id),
    trace,
    lanes: deps.lanes,
  };
  deps.events.emit('run:started', { runId: run.id, key: run.key, flow: run.flow, attempt: run.attempts, epoch: host.fence.epoch });
  if (frame) deps.events.emit('run:resumed', { runId: run.id, key: run.key, turnSeq: frame.turnSeq });
  const execution = trace.within(() => startExecution(flow, run, steps, env));
  signal.addEventListener('abort', () => trace.interrupted(signal.reason), { once: true });
  const interrupt = (reason: InterruptReason, message: string) => {
    if (!signal.aborted) controller.abort(new RunInterrupt(reason, message));
  };
  const deadline =
    run.deadlineAt === null
      ? undefined
      : deps.clock.setTimer(Math.max(0, run.deadlineAt - deps.clock.now()), () =>
          interrupt({ kind: 'deadline' }, deadlineError(run.id, run.deadlineAt!, 'running').message),
        );
  let abandonNow!: () => void;
  const settled = settle(host, execution, run.id, signal, waiting, (abandon) => (abandonNow = abandon));
  onStart({ runId: run.id, controller, execution, abandonNow });
  return settled
    .then((outcome) => {
      trace.end(outcome);
      return outcome;
    })
    .finally(() => deadline?.cancel());
}

/**
 * The outcome of an execution: what the flow returned, the wait it entered, or, once the run was
 * interrupted and did not unwind within the grace (or the kernel's stop deadline passed), an
 * interruption at the position it had reached. The abandoned flow keeps running in the
 * background; nothing it does is committed.
 */
function settle(
  host: ExecutionHost,
  execution: Execution,
  runId: string,
  signal: AbortSignal,
  waiting: Promise<RunOutcome>,
  expose: (abandon: () => void) => void,
): Promise<RunOutcome> {
  const { deps } = host;
  return new Promise<RunOutcome>((resolve) => {
    let timer: { cancel(): void } | undefined;
    let settled = false;
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const abandon = () => {
      if (settled) return;
      const at = execution.position();
      execution.abandon();
      deps.events.emit('step:abandoned', {
        runId,
        key: host.key,
        seq: at.seq,
        name: at.name ?? '(between steps)',
        reason: 'interrupt-grace',
      });
      finish({ kind: 'interrupted', reason: signal.reason ?? new RunInterrupt({ kind: 'stop' }, 'kernel stop deadline passed'), at });
    };
    const onAbort = () => {
      timer = deps.clock.setTimer(deps.interruptGraceMs, abandon);
    };
    expose(abandon);
    void execution.done.then(finish);
    void waiting.then(finish);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
