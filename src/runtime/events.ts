import type { Epoch, Json, Key, Priority, RunError, RunId } from '../model/index.js';

/** Everything the kernel reports, by event name. Tests await these instead of sleeping. */
export interface KernelEvents {
  'run:queued': { runId: RunId; key: Key; flow: string; priority: Priority };
  'run:started': { runId: RunId; key: Key; flow: string; attempt: number; epoch: Epoch };
  'step:committed': { runId: RunId; key: Key; seq: number; name: string };
  'run:completed': { runId: RunId; key: Key; result: Json };
  'run:failed': { runId: RunId; key: Key; error: RunError };
  'run:cancelled': { runId: RunId; key: Key; error: RunError };
  /** A run was put back in the queue unfinished (kernel stop, ownership lost, abort-keep). */
  'run:requeued': { runId: RunId; key: Key; reason: string };
  'owner:acquired': { key: Key; epoch: Epoch };
  'owner:released': { key: Key; epoch: Epoch };
  'owner:lost': { key: Key; epoch: Epoch };
  /** Something failed that the kernel handled (a store error in a background loop, ...). */
  'kernel:error': { error: unknown; context: string };
}

export type KernelEventName = keyof KernelEvents;
type Listener<E extends KernelEventName> = (event: KernelEvents[E]) => void;

/**
 * A small typed event emitter. Listeners run synchronously in registration order; a throwing
 * listener is isolated (reported as `kernel:error`) so it cannot break the runtime that emitted.
 */
export class KernelEventEmitter {
  private readonly listeners = new Map<KernelEventName, Set<(event: never) => void>>();

  on<E extends KernelEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves with the next `name` event for which `predicate` holds. */
  once<E extends KernelEventName>(name: E, predicate: (event: KernelEvents[E]) => boolean = () => true): Promise<KernelEvents[E]> {
    return new Promise((resolve) => {
      const off = this.on(name, (event) => {
        if (!predicate(event)) return;
        off();
        resolve(event);
      });
    });
  }

  emit<E extends KernelEventName>(name: E, event: KernelEvents[E]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(event);
      } catch (error) {
        if (name !== 'kernel:error') this.emit('kernel:error', { error, context: `listener of ${name}` });
      }
    }
  }
}
