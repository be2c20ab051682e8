import type { Random } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';
import type { Flow } from '../../runtime/flow.js';
import { createKernel, type Kernel } from '../../runtime/kernel.js';
import type { KernelOptions } from '../../runtime/kernel-options.js';
import type { Provider } from '../../ports/provider.js';
import type { WakeTransport } from '../../ports/wake.js';
import type { Clock } from '../../ports/clock.js';
import { seededRandom } from '../seeded-random.js';
import type { SimScheduler } from './sim-scheduler.js';
import type { SimTrace } from './sim-trace.js';

/** One incarnation of a kernel slot: `k2.3` is slot 2 after its second restart. */
export interface Incarnation {
  readonly node: string;
  readonly slot: number;
  readonly kernel: Kernel;
  readonly pid: number;
}

/** What building a kernel incarnation needs from the simulation. */
export interface IncarnationParts {
  readonly store: (node: string) => Store;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  readonly flows: (node: string) => readonly Flow<any, unknown>[];
  readonly providers: (node: string, clock: Clock) => Record<string, Provider>;
  readonly wake: (node: string) => WakeTransport;
  readonly forget: (node: string) => void;
  readonly onError: (node: string, context: string, error: unknown) => void;
  /** Timing and concurrency of every kernel (createKernel's options). */
  readonly options: Pick<KernelOptions, 'ownerTtlMs' | 'pollIntervalMs' | 'interruptGraceMs' | 'concurrency' | 'urgentConcurrency'>;
}

/**
 * The kernel slots of a simulation (K8): each runs one incarnation at a time on the shared store;
 * a crash takes the incarnation down (its pending store calls and timers are gone with it) and a
 * new one starts in the slot after the restart delay, as a supervisor would restart a process. A
 * pause stops an incarnation for a while (SIGSTOP/SIGCONT). Each slot has a host name of its own,
 * so only its own next incarnation sees the dead pid and takes its keys over at once; the other
 * slots wait for the leases to expire.
 */
export class SimKernels {
  private readonly current = new Map<number, Incarnation>();
  private readonly dead = new Set<number>();
  private readonly owners = new Map<string, string>();
  private restarts = 0;

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly trace: SimTrace,
    private readonly seed: number,
    private readonly parts: IncarnationParts,
  ) {}

  /** Starts a new incarnation in `slot`. */
  start(slot: number): Incarnation {
    const generation = ++this.restarts;
    const node = `k${slot}.${generation}`;
    const pid = 1000 + generation;
    this.scheduler.addNode(node);
    const clock = this.scheduler.clockFor(node);
    const random: Random = seededRandom((this.seed * 7919 + generation * 104729) >>> 0);
    const kernel = createKernel({
      ...this.parts.options,
      store: this.parts.store(node),
      flows: this.parts.flows(node),
      providers: this.parts.providers(node, clock),
      clock,
      random,
      wake: this.parts.wake(node),
      host: { name: `host-${slot}`, pid, isAlive: (p: number) => !this.dead.has(p) },
      // Scratch directories are real files, outside the deterministic world: a root the file system
      // refuses at once (a NUL byte) keeps them out, with no I/O. A flow that needs one fails here.
      scratchRoot: '\u0000holdfast-simulation-has-no-scratch-directories',
    });
    this.owners.set(node, kernel.ownerId);
    this.trace.nameOwner(kernel.ownerId, node);
    const incarnation: Incarnation = { node, slot, kernel, pid };
    this.current.set(slot, incarnation);
    this.watch(incarnation);
    this.trace.add(`${node} starts (pid ${pid} on host-${slot})`);
    kernel.start().catch((error: unknown) => this.parts.onError(node, 'kernel.start', error));
    return incarnation;
  }

  /** Crashes the incarnation `node`; its slot restarts after `restartMs` (never, when undefined). */
  crash(node: string, restartMs: number | undefined): void {
    const incarnation = [...this.current.values()].find((i) => i.node === node);
    if (!incarnation || this.scheduler.state(node) === 'down') return;
    this.scheduler.down(node);
    this.parts.forget(node);
    this.dead.add(incarnation.pid);
    this.trace.add(`${node} CRASHES${restartMs === undefined ? '' : `; restarts in ${restartMs} ms`}`);
    if (restartMs !== undefined) this.scheduler.setTimer('chaos', restartMs, () => this.restart(incarnation.slot, node));
  }

  /** Pauses `node` for `ms` of virtual time, then resumes it. */
  pause(node: string, ms: number): void {
    if (this.scheduler.state(node) !== 'up') return;
    this.scheduler.pause(node);
    this.trace.add(`${node} PAUSED for ${ms} ms`);
    this.scheduler.setTimer('chaos', ms, () => this.resume(node));
  }

  resume(node: string): void {
    if (this.scheduler.state(node) !== 'paused') return;
    this.scheduler.resume(node);
    this.trace.add(`${node} resumes`);
  }

  /** Restarts `slot` now if its incarnation is `node` and down (healing: no slot stays down). */
  restart(slot: number, node: string): void {
    const incarnation = this.current.get(slot);
    if (incarnation?.node === node && this.scheduler.state(node) === 'down') this.start(slot);
  }

  /** The incarnations now in their slots (up or paused). */
  live(): Incarnation[] {
    return [...this.current.values()].filter((i) => this.scheduler.state(i.node) !== 'down');
  }

  /** Every slot's incarnation, down ones included. */
  all(): Incarnation[] {
    return [...this.current.values()];
  }

  ownerOf(node: string): string | undefined {
    return this.owners.get(node);
  }

  private watch({ node, kernel }: Incarnation): void {
    const log = (text: string) => this.trace.add(`${node} ${text}`);
    const run = (id: string) => this.trace.run(id);
    kernel.on('owner:acquired', (e) => log(`owns ${e.key} at epoch ${e.epoch}${e.takeover ? ' (took it over)' : ''}`));
    kernel.on('owner:lost', (e) => log(`loses ${e.key} at epoch ${e.epoch} (${e.reason})`));
    kernel.on('owner:released', (e) => log(`releases ${e.key} at epoch ${e.epoch}`));
    kernel.on('run:started', (e) => log(`starts ${run(e.runId)} (${e.flow}, attempt ${e.attempt}, epoch ${e.epoch})`));
    kernel.on('run:completed', (e) => log(`completes ${run(e.runId)}`));
    kernel.on('run:failed', (e) => log(`fails ${run(e.runId)}: ${e.error.code}`));
    kernel.on('run:cancelled', (e) => log(`cancels ${run(e.runId)}: ${e.error.code}`));
    kernel.on('run:interrupted', (e) => log(`interrupts ${run(e.runId)} (${e.kind} by ${e.by === 'operator' ? e.by : run(e.by)})`));
    kernel.on('run:parked', (e) => log(`parks ${run(e.runId)} at #${e.turnSeq}`));
    kernel.on('run:requeued', (e) => log(`requeues ${run(e.runId)}`));
    kernel.on('run:waiting', (e) => log(`${run(e.runId)} waits (${e.kind} until ${e.wakeAt})`));
    kernel.on('turn:started', (e) => log(`turn #${e.seq} of ${run(e.runId)} starts (attempt ${e.attempt})`));
    kernel.on('turn:late-result', (e) => log(`discards a late result of ${run(e.runId)} turn #${e.seq}`));
    kernel.on('kernel:error', (e) => this.parts.onError(node, e.context, e.error));
  }
}
