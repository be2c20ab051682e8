// @ts-check
// The lease keeper thread (started by lease-keeper-thread.ts). Plain JavaScript, type-checked
// through JSDoc, so the thread starts without a TypeScript loader (one costs ~0.5 s per thread)
// both from a checkout and from the installed package.
//
// Every `renewEveryMs` it renews every tracked lease in one store transaction, unless the kernel's
// event loop has not beaten its heartbeat (slot 0 of the first proof page) for `hungAfterMs`; after
// a renewal that started at monotonic `t0` it writes `t0 + ttl - margin` into each renewed lease's
// proof slot, and `-Infinity` into a lost one's.
//
// Process dies: the thread dies with it; nothing renews, the leases expire after their TTL.
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {import('../ports/lease-keeper.js').OwnerRenewer} OwnerRenewer */
/** @typedef {import('./lease-keeper-protocol.js').KeeperThreadData} KeeperThreadData */
/** @typedef {import('./lease-keeper-protocol.js').ToKeeper} ToKeeper */
/** @typedef {import('./lease-keeper-protocol.js').FromKeeper} FromKeeper */

/** Monotonic milliseconds: the process-wide CLOCK_MONOTONIC the kernel's thread reads too. */
const monotonicNow = () => Number(process.hrtime.bigint()) / 1e6;

if (parentPort === null) throw new Error('holdfast: lease-keeper-worker.js runs only as a worker thread');
const port = parentPort;
/** @type {KeeperThreadData} */
const data = workerData;
/** @param {FromKeeper} message */
const post = (message) => port.postMessage(message);
/** @type {Float64Array[]} */
const pages = [];
/** @type {Map<number, { readonly key: string, readonly epoch: number }>} */
const tracked = new Map();
/** @type {OwnerRenewer | undefined} */
let renewer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let timer;
let stopping = false;
let hung = false;
let busy = false;

/** @param {number} slot @param {number} until */
function prove(slot, until) {
  const page = pages[Math.floor(slot / data.pageSlots)];
  if (page) page[slot % data.pageSlots] = until;
}

/** @param {OwnerRenewer} store */
async function renewAll(store) {
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
}

async function tick() {
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
  } catch (error) {
    post({ type: 'renew-failed', message: error instanceof Error ? error.message : String(error) });
  } finally {
    busy = false;
  }
}

async function stop() {
  stopping = true;
  if (timer) clearInterval(timer);
  await renewer?.close();
  port.close();
}

port.on('message', (/** @type {ToKeeper} */ message) => {
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
  /** @type {{ openOwnerRenewer?: (options: unknown) => OwnerRenewer | Promise<OwnerRenewer> }} */
  const module = await import(data.renewer.module);
  if (typeof module.openOwnerRenewer !== 'function') throw new Error(`${data.renewer.module} exports no openOwnerRenewer`);
  renewer = await module.openOwnerRenewer(data.renewer.options);
  timer = setInterval(() => void tick(), data.renewEveryMs);
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  port.close();
}
