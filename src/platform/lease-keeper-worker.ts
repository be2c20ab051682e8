import { parentPort } from 'node:worker_threads';
import type { OwnerRenewer } from '../ports/lease-keeper.js';
import { PAGE_SLOTS, type FromKeeper, type KeeperThreadData, type ToKeeper } from './lease-keeper-protocol.js';
import { monotonicNow } from './system-clock.js';

/** How often the store's upkeep (`maintain`, e.g. a WAL checkpoint) runs on this thread. */
const MAINTAIN_EVERY_MS = 1_000;

/**
 * The lease keeper thread (see lease-keeper-thread.ts). Every `renewEveryMs` it renews every
 * tracked lease in one store transaction, unless the kernel's event loop has not beaten its
 * heartbeat for `hungAfterMs`; after a successful renewal that started at monotonic `t0` it writes
 * `t0 + ttl - margin` into each renewed lease's proof slot, and `-Infinity` into a lost one's.
 *
 * Process dies: the thread dies with it; nothing renews, the leases expire after their TTL.
 */
export async function runThread(data: KeeperThreadData): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('holdfast: lease-keeper-worker runs only as a worker thread');
  const post = (message: FromKeeper) => port.postMessage(message);
  const pages: Float64Array[] = [];
  const tracked = new Map<number, { readonly key: string; readonly epoch: number }>();
  const cell = (slot: number) => ({ page: pages[Math.floor(slot / PAGE_SLOTS)], index: slot % PAGE_SLOTS });
  const prove = (slot: number, until: number) => {
    const { page, index } = cell(slot);
    if (page) page[index] = until;
  };

  let renewer: OwnerRenewer | undefined;
  const renewal: { timer?: ReturnType<typeof setInterval> } = {};
  let stopping = false;
  let hung = false;
  let busy = false;
  let lastMaintain = monotonicNow();

  const stop = async () => {
    stopping = true;
    if (renewal.timer) clearInterval(renewal.timer);
    await renewer?.close();
    port.close();
  };

  const tick = async () => {
    if (busy || stopping || renewer === undefined) return;
    busy = true;
    try {
      const beat = pages[0]?.[0] ?? -Infinity;
      const nowHung = monotonicNow() - beat > data.hungAfterMs;
      if (nowHung !== hung) {
        hung = nowHung;
        post({ type: 'hung', hung });
      }
      if (!hung && tracked.size > 0) await renewAll(renewer);
      if (monotonicNow() - lastMaintain >= MAINTAIN_EVERY_MS) {
        lastMaintain = monotonicNow();
        await renewer.maintain?.();
      }
    } catch (error) {
      post({ type: 'renew-failed', message: error instanceof Error ? error.message : String(error) });
    } finally {
      busy = false;
    }
  };

  const renewAll = async (store: OwnerRenewer) => {
    const entries = [...tracked.entries()];
    const startedAt = monotonicNow();
    const { renewed } = await store.renew({
      ownerId: data.ownerId,
      leases: entries.map(([, lease]) => lease),
      now: Date.now(),
      ttlMs: data.ttlMs,
    });
    entries.forEach(([slot, lease], i) => {
      if (tracked.get(slot) !== lease) return; // released while the renewal ran
      if (renewed[i] === true) {
        prove(slot, startedAt + data.ttlMs - data.marginMs);
      } else {
        prove(slot, -Infinity);
        tracked.delete(slot);
        post({ type: 'lost', slot });
      }
    });
  };

  port.on('message', (message: ToKeeper) => {
    switch (message.type) {
      case 'page':
        pages.push(new Float64Array(message.buffer));
        return;
      case 'keep':
        tracked.set(message.slot, { key: message.key, epoch: message.epoch });
        return;
      case 'release':
        tracked.delete(message.slot);
        post({ type: 'released', slot: message.slot });
        return;
      case 'stop':
        void stop();
        return;
    }
  });

  try {
    const module = (await import(data.renewer.module)) as { openOwnerRenewer?: (options: unknown) => OwnerRenewer | Promise<OwnerRenewer> };
    if (typeof module.openOwnerRenewer !== 'function') throw new Error(`${data.renewer.module} exports no openOwnerRenewer`);
    renewer = await module.openOwnerRenewer(data.renewer.options);
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    port.close();
    return;
  }
  renewal.timer = setInterval(() => void tick(), data.renewEveryMs);
  post({ type: 'ready' });
}
