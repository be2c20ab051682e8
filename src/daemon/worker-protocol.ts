/** Messages between the daemon and its worker processes, over the IPC channel. */

/** Worker → daemon. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly ownerId: string }
  /** Sent every HEARTBEAT_MS from the worker's event loop: silence means the loop is blocked. */
  | { readonly type: 'beat' }
  /** The worker could not start (bad config, store unreachable); it exits next. */
  | { readonly type: 'fatal'; readonly message: string };

/** Daemon → worker: a latency hint that `key` has work. The store stays the truth. */
export type DaemonMessage = { readonly type: 'wake'; readonly key: string; readonly urgent: boolean };

export const HEARTBEAT_MS = 1_000;

/** Narrows an IPC message from a worker; anything else is ignored. */
export function asWorkerMessage(value: unknown): WorkerMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'beat' || type === 'fatal' ? (value as WorkerMessage) : undefined;
}

/** Narrows an IPC message from the daemon. */
export function asDaemonMessage(value: unknown): DaemonMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as { type?: unknown; key?: unknown; urgent?: unknown };
  return m.type === 'wake' && typeof m.key === 'string' ? { type: 'wake', key: m.key, urgent: m.urgent === true } : undefined;
}
