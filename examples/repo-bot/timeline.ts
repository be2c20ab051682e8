import type { Kernel } from 'holdfast';

/** Prints the kernel's events as a readable timeline, relative to `t0` (milliseconds). */
export function printTimeline(kernel: Kernel, write: (line: string) => void, now: () => number): void {
  const t0 = now();
  const at = () => `+${(now() - t0).toFixed(1).padStart(6)}ms`;
  const short = (id: string) => id.slice(0, 8);
  kernel.on('run:queued', (e) => write(`${at()}  ${e.key.padEnd(14)} queued     ${short(e.runId)} ${e.flow} (${e.priority})`));
  kernel.on('owner:acquired', (e) => write(`${at()}  ${e.key.padEnd(14)} owned      epoch ${e.epoch}`));
  kernel.on('run:started', (e) => write(`${at()}  ${e.key.padEnd(14)} started    ${short(e.runId)} ${e.flow} attempt ${e.attempt}`));
  kernel.on('step:committed', (e) => write(`${at()}  ${e.key.padEnd(14)} step       ${short(e.runId)} #${e.seq} ${e.name}`));
  kernel.on('run:completed', (e) => write(`${at()}  ${e.key.padEnd(14)} completed  ${short(e.runId)} ${JSON.stringify(e.result)}`));
  kernel.on('run:failed', (e) => write(`${at()}  ${e.key.padEnd(14)} FAILED     ${short(e.runId)} ${e.error.code}: ${e.error.message}`));
  kernel.on('owner:released', (e) => write(`${at()}  ${e.key.padEnd(14)} released   epoch ${e.epoch}`));
}
