/** Which pool an execution slot comes from. */
export type SlotClass = 'urgent' | 'normal';

/** A place in a slot queue. */
export interface SlotWait {
  /** Resolves with the class of the slot granted, or undefined if the wait was cancelled. */
  readonly granted: Promise<SlotClass | undefined>;
  /** Urgent work arrived for the waiting key: move to the urgent queue (no-op once granted). */
  upgrade(): void;
  /** Stop waiting (no-op once granted: release the slot instead). */
  cancel(): void;
}

/**
 * Execution slots: how many key runtimes execute a run at the same time. Two pools, so urgent
 * work never waits behind normal work of other keys (K5): `normal` slots (createKernel's
 * `concurrency`) run anything; `urgent` slots (`urgentConcurrency`) are taken only by a runtime
 * that has urgent work and claims only urgent runs with them. A runtime waiting for a normal
 * slot when urgent work arrives for its key moves to the urgent queue. Waiters are served in
 * arrival order within each queue.
 */
export class Slots {
  private readonly free: Record<SlotClass, number>;
  private readonly queues: Record<SlotClass, Waiter[]> = { urgent: [], normal: [] };

  constructor(normal: number, urgent: number) {
    this.free = { normal, urgent };
  }

  acquire(wanted: SlotClass): SlotWait {
    let resolve!: (cls: SlotClass | undefined) => void;
    const granted = new Promise<SlotClass | undefined>((r) => (resolve = r));
    const waiter: Waiter = { cls: wanted, resolve, done: false };
    if (this.free[wanted] > 0) this.grant(waiter, wanted);
    else this.queues[wanted].push(waiter);
    return {
      granted,
      upgrade: () => {
        if (waiter.done || waiter.cls === 'urgent') return;
        this.remove(waiter);
        waiter.cls = 'urgent';
        if (this.free.urgent > 0) this.grant(waiter, 'urgent');
        else this.queues.urgent.push(waiter);
      },
      cancel: () => {
        if (waiter.done) return;
        this.remove(waiter);
        waiter.done = true;
        waiter.resolve(undefined);
      },
    };
  }

  release(cls: SlotClass): void {
    const next = this.queues[cls].shift();
    if (next) {
      next.done = true;
      next.resolve(cls);
    } else this.free[cls]++;
  }

  private grant(waiter: Waiter, cls: SlotClass): void {
    this.free[cls]--;
    waiter.done = true;
    waiter.resolve(cls);
  }

  private remove(waiter: Waiter): void {
    const queue = this.queues[waiter.cls];
    const at = queue.indexOf(waiter);
    if (at >= 0) queue.splice(at, 1);
  }
}

interface Waiter {
  cls: SlotClass;
  readonly resolve: (cls: SlotClass | undefined) => void;
  done: boolean;
}
