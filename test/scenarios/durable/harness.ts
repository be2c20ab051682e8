/**
 * Shared helpers of the durable-execution scenarios: a memory store and a virtual clock per test,
 * kernels with distinct seeded randomness, an event log stamped with virtual time, and ways to
 * move the clock until something holds. Nothing here waits on wall time.
 */
import {
  createKernel,
  memoryStore,
  type Kernel,
  type KernelEventName,
  type KernelEvents,
  type KernelOptions,
  type RunHandle,
  type Store,
} from 'holdfast';
import { seededRandom, virtualClock, type VirtualClock } from 'holdfast/testing';

export interface World {
  readonly clock: VirtualClock;
  readonly store: Store;
  /** Seed of the next kernel's randomness (each kernel gets its own: owner ids must differ). */
  nextSeed: number;
}

export function world(start = 0, seed = 1): World {
  return { clock: virtualClock(start), store: memoryStore(), nextSeed: seed };
}

export type Logged = {
  [E in KernelEventName]: { readonly name: E; readonly at: number; readonly event: KernelEvents[E] };
}[KernelEventName];

/** Every event the durable scenarios look at. */
export const LOGGED_EVENTS = [
  'run:queued',
  'run:started',
  'run:completed',
  'run:failed',
  'run:cancelled',
  'run:requeued',
  'run:waiting',
  'run:spawned',
  'run:parked',
  'step:committed',
  'step:retrying',
  'step:abandoned',
  'effect:claimed',
  'effect:delivered',
  'effect:failed',
  'schedule:fired',
  'journal:compacted',
  'owner:acquired',
  'owner:released',
  'turn:started',
  'turn:preempted',
  'kernel:error',
] as const satisfies readonly KernelEventName[];

export interface Started {
  readonly kernel: Kernel;
  readonly log: Logged[];
  /** Events of one name, in order (a function property: it can be destructured). */
  readonly events: <E extends KernelEventName>(name: E) => { readonly at: number; readonly event: KernelEvents[E] }[];
}

/** Creates and starts a kernel on the world's store and clock (poll every minute: wakes are not polled). */
export async function startKernel(w: World, flows: KernelOptions['flows'], options: Partial<KernelOptions> = {}): Promise<Started> {
  const kernel = createKernel({
    store: w.store,
    flows,
    clock: w.clock,
    random: seededRandom(w.nextSeed++),
    pollIntervalMs: 60_000,
    ...options,
  });
  const log: Logged[] = [];
  for (const name of LOGGED_EVENTS) {
    kernel.on(name, (event: KernelEvents[typeof name]) => log.push({ name, at: w.clock.now(), event } as Logged));
  }
  await kernel.start();
  return {
    kernel,
    log,
    events: <E extends KernelEventName>(name: E) =>
      log.filter((l) => l.name === name).map((l) => ({ at: l.at, event: l.event as KernelEvents[E] })),
  };
}

/** Stops a kernel while moving the virtual clock, so interrupt graces and stop deadlines can pass. */
export async function stopKernel(w: World, kernel: Kernel, advanceMs = 1_000): Promise<void> {
  let stopped = false;
  const stopping = kernel.stop().then(() => (stopped = true));
  for (let t = 0; !stopped && t <= advanceMs; t += 50) await w.clock.advance(50);
  await stopping;
}

/** Moves the virtual clock in steps of `stepMs` until `check` holds; throws after `maxMs`. */
export async function until(
  clock: VirtualClock,
  check: () => boolean | Promise<boolean>,
  options: { readonly maxMs?: number; readonly stepMs?: number } = {},
): Promise<void> {
  const maxMs = options.maxMs ?? 600_000;
  const stepMs = options.stepMs ?? 100;
  await clock.flush();
  for (let t = 0; !(await check()); t += stepMs) {
    if (t > maxMs) throw new Error(`condition not reached within ${maxMs} virtual ms (now ${clock.now()})`);
    await clock.advance(stepMs);
  }
}

/** How a run handle settled, filled in once it has. */
export interface Outcome<O> {
  done: boolean;
  value?: O;
  error?: { readonly code: string; readonly message: string; readonly status?: string };
}

export function outcome<O>(handle: RunHandle<O>): Outcome<O> {
  const o: Outcome<O> = { done: false };
  handle.result().then(
    (value) => {
      o.value = value;
      o.done = true;
    },
    (error: { code: string; message: string; status?: string }) => {
      o.error = { code: error.code, message: error.message, status: error.status };
      o.done = true;
    },
  );
  return o;
}

/** Waits (moving the clock) for a handle to settle and returns how. */
export async function settled<O>(clock: VirtualClock, handle: RunHandle<O>, maxMs?: number): Promise<Outcome<O>> {
  const o = outcome(handle);
  await until(clock, () => o.done, maxMs === undefined ? {} : { maxMs });
  return o;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that never settles: an emit or step stuck in flight (it ignores its signal). */
export function never<T = void>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** Catches what `fn` throws as `{ code, message }` (undefined when it does not throw). */
export async function caught(fn: () => unknown): Promise<{ code: string; message: string } | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    return { code: String(e.code), message: String(e.message) };
  }
}
