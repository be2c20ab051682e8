import { StoreUnavailableError } from '../../errors.js';
import type { Random } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';
import type { FakeScript } from '../../providers/fake-provider.js';
import type { Flow } from '../../runtime/flow.js';
import type { KernelOptions } from '../../runtime/kernel-options.js';
import { memoryStore } from '../../stores/memory/memory-store.js';
import { seededRandom } from '../seeded-random.js';
import { EffectReceiver } from './effect-receiver.js';
import { FaultPlan, NO_FAULTS, type FaultOptions } from './fault-plan.js';
import { SimInvariants } from './invariants.js';
import { observedFlow } from './observed-flow.js';
import { SimClient } from './sim-client.js';
import { SimKernels } from './sim-kernels.js';
import { SimProviders } from './sim-providers.js';
import { SimScheduler } from './sim-scheduler.js';
import { simStoreView, type BoundaryDecision, type StoreCall } from './sim-store.js';
import { SimTrace } from './sim-trace.js';
import { SimWakeNetwork } from './sim-wake.js';
import { agentScript, workloadFlows } from './workload-flows.js';

/** Store calls that write nothing: they may fail as unavailable, but no kernel crashes or pauses at them. */
const READS = new Set([
  'getRun',
  'listRuns',
  'getSteps',
  'keysWithWork',
  'getOwner',
  'peekUrgent',
  'operatorActions',
  'childrenOf',
  'getStepAttempts',
  'nextWakeAt',
  'dueSchedules',
  'listSchedules',
  'listEffects',
]);

/** What the world is built from (the simulation's options, resolved). */
export interface WorldOptions {
  readonly seed: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  readonly flows: readonly Flow<any, unknown>[] | undefined;
  readonly providers: Readonly<Record<string, FakeScript>> | undefined;
  readonly faults: FaultOptions | false | undefined;
  readonly kernel: Pick<KernelOptions, 'ownerTtlMs' | 'pollIntervalMs' | 'interruptGraceMs' | 'concurrency' | 'urgentConcurrency'>;
}

/**
 * Everything one simulation runs on, wired together: the scheduler and its seeded streams, the
 * shared memory store, the fault plan applied at every store call (and at chaos ticks), the
 * invariant checks, the scripted providers, the wake network, the kernel slots and the client.
 */
export class SimWorld {
  readonly scheduler: SimScheduler;
  readonly trace: SimTrace;
  readonly plan: FaultPlan;
  readonly store: Store = memoryStore();
  readonly receiver: EffectReceiver | undefined;
  readonly providers: SimProviders;
  readonly invariants: SimInvariants;
  readonly network: SimWakeNetwork;
  readonly kernels: SimKernels;
  readonly client: SimClient;
  readonly counts = { crashes: 0, pauses: 0, unavailable: 0 };

  constructor(private readonly options: WorldOptions) {
    this.scheduler = new SimScheduler(this.stream(1), 0, 0.05);
    for (const node of ['client', 'chaos', 'network']) this.scheduler.addNode(node);
    this.trace = new SimTrace(() => this.scheduler.now());
    const log = (line: string) => this.trace.add(line);
    this.plan = new FaultPlan(this.stream(3), options.faults === false ? NO_FAULTS : (options.faults ?? {}));
    this.receiver = options.flows ? undefined : new EffectReceiver(log);
    const flows = options.flows ?? workloadFlows(this.receiver!);
    const scripts = options.providers ?? { agent: agentScript(this.stream(5)) };
    const mark = () => this.scheduler.mark();
    this.providers = new SimProviders(
      scripts,
      () => this.plan.turnFault(),
      (t) => this.invariants.turnStarted(t),
      log,
      mark,
    );
    this.invariants = new SimInvariants(this.store, this.providers, (node) => this.kernels.ownerOf(node), this.trace);
    this.network = new SimWakeNetwork(this.scheduler, () => this.plan.wakeFate(), log);
    const boundary = (call: StoreCall, apply: () => Promise<unknown>) => this.boundary(call, apply);
    this.kernels = new SimKernels(this.scheduler, this.trace, options.seed, {
      store: (node) => simStoreView(this.store, node, this.scheduler, boundary, (call, outcome) => this.trace.call(call, outcome)),
      flows: (node) => flows.map((flow) => observedFlow(flow, node, (action) => this.invariants.observe(action))),
      providers: (node, clock) => this.providers.forNode(node, clock),
      wake: (node) => this.network.transport(node),
      forget: (node) => this.network.forget(node),
      onError: (node, context, error) => this.invariants.fail('kernel', `${node} reported an error while ${context}: ${String(error)}`),
      options: options.kernel,
    });
    this.client = new SimClient(this.scheduler, this.kernels, this.stream(4), this.trace, (i, m) => this.invariants.fail(i, m));
  }

  /** An independent seeded stream for one purpose (scheduling, workload, faults ...). */
  stream(salt: number): Random {
    return seededRandom(Math.imul(this.options.seed ^ Math.imul(salt, 0x9e3779b9), 0x85ebca6b) >>> 0);
  }

  /** Starts `count` kernel slots and the chaos ticks. */
  start(count: number): void {
    for (let slot = 1; slot <= count; slot++) this.kernels.start(slot);
    const tick = () => {
      const fault = this.plan.tickFault();
      const up = this.kernels.live().filter((i) => this.scheduler.state(i.node) === 'up');
      if (fault !== 'none' && up.length > 0) {
        const { node } = up[this.plan.pick(up.length)]!;
        this.strike(node, fault);
      }
      if (this.plan.enabled) this.scheduler.setTimer('chaos', this.plan.tickMs, tick);
    };
    this.scheduler.setTimer('chaos', this.plan.tickMs, tick);
  }

  /** Faults off; every paused kernel resumes and every crashed slot restarts now. */
  heal(): void {
    this.plan.enabled = false;
    this.trace.add('HEALING: no more faults; every kernel resumes or restarts');
    for (const incarnation of this.kernels.all()) {
      if (this.scheduler.state(incarnation.node) === 'paused') this.kernels.resume(incarnation.node);
      else this.kernels.restart(incarnation.slot, incarnation.node);
    }
  }

  private strike(node: string, fault: 'pause' | 'crash'): void {
    if (fault === 'pause') {
      this.counts.pauses++;
      this.kernels.pause(node, this.plan.pauseMs());
    } else {
      this.counts.crashes++;
      this.kernels.crash(node, this.plan.restartMs());
    }
  }

  /** A store call reaching the store: a fault instead, or the call applied under the checks. */
  private async boundary(call: StoreCall, apply: () => Promise<unknown>): Promise<BoundaryDecision> {
    const fault = this.plan.storeFault(!READS.has(call.op));
    if (fault === 'unavailable') {
      this.counts.unavailable++;
      this.trace.add(`FAULT ${call.op} of ${call.node} fails: store unavailable`);
      return { ok: false, error: new StoreUnavailableError('locked', 'the simulated store', 'another writer holds it (simulated fault)') };
    }
    if (fault === 'pause') {
      this.strike(call.node, 'pause');
      return 'hold';
    }
    if (fault === 'crash-before') {
      this.trace.add(`FAULT ${call.node} crashes before ${call.op} reaches the store`);
      this.strike(call.node, 'crash');
      return 'lost';
    }
    const outcome = await this.invariants.apply(call, apply);
    if (fault !== 'crash-after') return outcome;
    this.trace.add(`FAULT ${call.node} crashes after ${call.op} was applied, before hearing back`);
    this.strike(call.node, 'crash');
    return 'lost';
  }
}
