import type { Kernel } from 'holdfast';

/** Prints the kernel's events as a readable timeline, relative to the first event (milliseconds). */
export function printTimeline(kernel: Kernel, write: (line: string) => void, now: () => number): void {
  const t0 = now();
  const line = (key: string, what: string, detail: string) =>
    write(`+${(now() - t0).toFixed(1).padStart(7)}ms  ${key.padEnd(14)} ${what.padEnd(10)} ${detail}`);
  const short = (id: string) => id.slice(0, 8);
  kernel.on('run:queued', (e) => line(e.key, 'queued', `${short(e.runId)} ${e.flow} (${e.priority})`));
  kernel.on('owner:acquired', (e) => line(e.key, 'owned', `epoch ${e.epoch}`));
  kernel.on('run:started', (e) => line(e.key, 'started', `${short(e.runId)} ${e.flow} attempt ${e.attempt}`));
  kernel.on('step:committed', (e) => line(e.key, 'step', `${short(e.runId)} #${e.seq} ${e.name}`));
  kernel.on('turn:started', (e) =>
    line(e.key, 'turn', `${short(e.runId)} #${e.seq} ${e.provider}${e.interrupted ? ' (re-issued after interruption)' : ''}`),
  );
  kernel.on('turn:output', (e) => {
    for (const text of (typeof e.chunk.data === 'string' ? e.chunk.data : JSON.stringify(e.chunk.data))
      .split('\n')
      .filter((t) => t.trim() !== ''))
      line(e.key, '  agent', text.trim());
  });
  kernel.on('run:interrupted', (e) => line(e.key, 'PREEMPT', `${short(e.runId)} ${e.kind} by ${short(e.by)}`));
  kernel.on('run:parked', (e) => line(e.key, 'parked', `${short(e.runId)} at #${e.turnSeq}`));
  kernel.on('run:resumed', (e) => line(e.key, 'resumed', `${short(e.runId)} from #${e.turnSeq}`));
  kernel.on('run:completed', (e) => line(e.key, 'completed', `${short(e.runId)} ${JSON.stringify(e.result)}`));
  kernel.on('run:failed', (e) => line(e.key, 'FAILED', `${short(e.runId)} ${e.error.code}: ${e.error.message}`));
  kernel.on('owner:released', (e) => line(e.key, 'released', `epoch ${e.epoch}`));
}
