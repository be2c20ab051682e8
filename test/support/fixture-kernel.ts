// What fault-test kernel processes share: presenting as a host of their own, logging kernel events,
// and an orderly exit on SIGTERM.
import type { Kernel, KernelEventName, Store } from 'holdfast';

/**
 * Each process a host of its own: a dead or stopped owner is never recognised by its pid, so its
 * keys pass on only when its leases expire (what happens between machines).
 */
export function separateHost(): { name: string; pid: number; isAlive: (pid: number) => boolean } {
  return { name: `machine-${process.pid}`, pid: process.pid, isAlive: () => true };
}

/** The events the ownership fault tests read. */
export const OWNERSHIP_EVENTS = [
  'owner:acquired',
  'owner:lost',
  'owner:released',
  'run:started',
  'step:committed',
  'run:completed',
  'run:failed',
  'kernel:hung',
] as const satisfies readonly KernelEventName[];

/** Logs every `names` event as `<name> <json>` through `note`. */
export function logEvents(kernel: Kernel, names: readonly KernelEventName[], note: (line: string) => void): void {
  for (const name of names) kernel.on(name, (event) => note(`${name} ${JSON.stringify(event)}`));
}

/** On SIGTERM: stop the kernel, close the store, exit 0. */
export function exitOnSigterm(kernel: Kernel, store: Store): void {
  process.on('SIGTERM', () => {
    void kernel
      .stop()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
}
