import { Worker } from 'node:worker_threads';
import type { KeptLease, LeaseKeeper, LeaseKeeperOptions, OwnerRenewerModule } from '../ports/lease-keeper.js';
import { platformScript } from './shipped-file.js';
import { monotonicNow } from './system-clock.js';
import { PAGE_SLOTS, type ToKeeper, type FromKeeper, type KeeperThreadData } from './lease-keeper-protocol.js';

/**
 * A LeaseKeeper whose renewals run on a worker thread with a store connection of its own (K10):
 * a step that blocks this thread's event loop for seconds does not stop its leases from being
 * renewed, so no other process takes the key over under it.
 *
 * Proofs live in shared memory: the thread writes each lease's proven-until deadline (monotonic
 * milliseconds, the process-wide CLOCK_MONOTONIC both threads read) into a slot of a
 * SharedArrayBuffer page; `provenUntil()` reads it without any message. Slot 0 of the first page
 * is the event loop's heartbeat: the thread stops renewing when it is older than `hungAfterMs`.
 *
 * Slots are recycled only after the thread acknowledged their release, so a late renewal of one
 * lease never lands in the slot of another.
 */
export async function startLeaseKeeperThread(renewer: OwnerRenewerModule, options: LeaseKeeperOptions): Promise<LeaseKeeper> {
  const data: KeeperThreadData = {
    renewer,
    pageSlots: PAGE_SLOTS,
    ownerId: options.ownerId,
    ttlMs: options.ttlMs,
    renewEveryMs: options.renewEveryMs,
    marginMs: options.marginMs,
    hungAfterMs: options.hungAfterMs,
  };
  // execArgv: [] — the thread runs plain JavaScript and needs none of the process's loaders
  // (a TypeScript loader inherited from the command line costs ~0.5 s per thread).
  const worker = new Worker(platformScript('lease-keeper-worker.js'), { workerData: data, execArgv: [] });
  const keeper = new ThreadLeaseKeeper(worker, options);
  await keeper.ready;
  // Until ready the thread keeps the process alive (nothing else may yet); after, the kernel's
  // own timers decide how long the process lives.
  worker.unref();
  return keeper;
}

interface Slot {
  readonly key: string;
  readonly epoch: number;
  released: boolean;
}

class ThreadLeaseKeeper implements LeaseKeeper {
  readonly ready: Promise<void>;
  private readonly pages: Float64Array[] = [];
  private readonly slots = new Map<number, Slot>();
  private readonly free: number[] = [];
  private nextSlot = 1; // slot 0 is the heartbeat
  private closed = false;
  private readonly stopped: Promise<void>;

  constructor(
    private readonly worker: Worker,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.addPage();
    this.heartbeat();
    let onReady!: () => void;
    let onFail!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromKeeper) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'failed') onFail(new Error(`holdfast: the lease keeper thread could not start: ${message.message}`));
      else this.onMessage(message);
    });
    worker.once('error', (error) => onFail(error));
    worker.once('exit', (code) => {
      onFail(new Error(`holdfast: the lease keeper thread exited (code ${code}) before it was ready`));
      if (!this.closed) this.options.onFailed?.(new Error(`holdfast: the lease keeper thread exited unexpectedly (code ${code})`));
    });
  }

  now(): number {
    return monotonicNow();
  }

  keep(lease: { readonly key: string; readonly epoch: number }, acquiredAt: number): KeptLease {
    const slot = this.free.pop() ?? this.nextSlot++;
    const page = Math.floor(slot / PAGE_SLOTS);
    if (page >= this.pages.length) this.addPage();
    const cells = this.pages[page]!;
    const index = slot % PAGE_SLOTS;
    cells[index] = acquiredAt + this.options.ttlMs - this.options.marginMs;
    const entry: Slot = { key: lease.key, epoch: lease.epoch, released: false };
    this.slots.set(slot, entry);
    this.post({ type: 'keep', slot, key: lease.key, epoch: lease.epoch });
    return {
      provenUntil: () => (entry.released ? -Infinity : cells[index]!),
      release: () => {
        if (entry.released) return;
        entry.released = true;
        cells[index] = -Infinity;
        this.post({ type: 'release', slot });
      },
    };
  }

  heartbeat(): void {
    this.pages[0]![0] = monotonicNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.post({ type: 'stop' });
    this.worker.ref(); // keep the process alive until the thread has closed its connection
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  private onMessage(message: FromKeeper): void {
    switch (message.type) {
      case 'released':
        // The thread will not write this slot again: it may serve another lease now.
        this.slots.delete(message.slot);
        this.free.push(message.slot);
        return;
      case 'lost': {
        const entry = this.slots.get(message.slot);
        if (entry && !entry.released) this.options.onLost(entry.key, entry.epoch);
        return;
      }
      case 'hung':
        this.options.onHung?.(message.hung);
        return;
      case 'renew-failed':
        this.options.onRenewFailed?.(new Error(message.message));
        return;
    }
  }

  private addPage(): void {
    const buffer = new SharedArrayBuffer(PAGE_SLOTS * Float64Array.BYTES_PER_ELEMENT);
    const cells = new Float64Array(buffer).fill(-Infinity);
    this.pages.push(cells);
    this.post({ type: 'page', buffer });
  }

  private post(message: ToKeeper): void {
    if (this.closed && message.type !== 'stop') return;
    this.worker.postMessage(message);
  }
}
