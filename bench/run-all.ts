// Runs every holdfast benchmark in order and prints a table per figure plus one final line
// `BENCH_JSON {...}` with the same figures. `npm run bench` from the repository root.
//   1. durable steps/s beside raw single-transaction txn/s (kernel-steps.ts)
//   2. submit-to-start latency for an idle key (submit-latency.ts)
//   3. preemption latency: urgent submit's commit to the in-flight turn's abort and to the urgent
//      run's first step (preemption.ts)
//   4. event-loop delay while another process holds the write lock (loop-delay.ts)
//   5. recovery of 1,000 in-flight keys after a SIGKILL (recovery.ts)
//   6. durable execution: effects/s, timer precision, journal bytes, commit p99 during compaction (durable.ts)
//   7. webhook ingress: signed webhooks/s through HTTP, webhook → run started (webhooks.ts)
//   8-10. lanes.ts, provider-kill.ts and dashboard.ts (needs Chromium), when present, as child processes (output passed through)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { formatKernelSteps, kernelStepsJson, runKernelSteps } from './kernel-steps.js';
import { formatDurable, runDurable } from './durable.js';
import { formatWebhooks, runWebhooks } from './webhooks.js';
import { formatLoopDelay, loopDelayJson, measureLoopDelay } from './loop-delay.js';
import { formatPreemption, preemptionJson, runPreemption } from './preemption.js';
import { formatRecovery, measureRecovery } from './recovery.js';
import { formatSubmitLatency, runSubmitLatency, submitLatencyJson } from './submit-latency.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const PREEMPT_SAMPLES = Number(process.env.BENCH_PREEMPT_SAMPLES ?? 200);

const heading = (title: string) => console.log(`\n== ${title} ${'='.repeat(Math.max(0, 76 - title.length))}`);

interface ChildReport {
  script: string;
  status: 'ok' | 'failed' | 'missing';
  exitCode?: number | null;
  seconds?: number;
}

/** Runs `bench/<name>` with tsx from the repository root, its output passed straight through. */
function runChild(name: string): Promise<ChildReport> {
  const path = join(here, name);
  const script = relative(root, path);
  if (!existsSync(path)) {
    console.log(`skipped: ${script} does not exist yet`);
    return Promise.resolve({ script, status: 'missing' });
  }
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => {
      console.log(`${script} could not be started: ${error.message}`);
      resolve({ script, status: 'failed', exitCode: null, seconds: (performance.now() - start) / 1000 });
    });
    child.on('exit', (code, signal) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) console.log(`${script} exited with ${signal ?? `code ${code}`}`);
      resolve({ script, status: code === 0 ? 'ok' : 'failed', exitCode: code, seconds: Number(seconds.toFixed(1)) });
    });
  });
}

const began = performance.now();
const machine = `${platform()} ${release()}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), node ${process.version}`;
console.log(`holdfast benchmarks — ${machine}`);
console.log('Figures are ratios measured side by side in this run; the raw SQLite baseline is measured in the same run, on the same disk.');

heading('1. durable steps per second');
const steps = await runKernelSteps(SCALE);
console.log(formatKernelSteps(steps));

heading('2. submit-to-start latency');
const latency = await runSubmitLatency(SAMPLES);
console.log(formatSubmitLatency(latency));

heading('3. preemption latency');
const preemption = await runPreemption(PREEMPT_SAMPLES);
console.log(formatPreemption(preemption));

heading('4. event-loop delay under a held write lock');
const loopDelay = await measureLoopDelay();
console.log(formatLoopDelay(loopDelay));

heading('5. recovery after SIGKILL');
const recovery = await measureRecovery();
console.log(formatRecovery(recovery));

heading('6. durable execution');
const durable = await runDurable();
console.log(formatDurable(durable));

heading('7. webhook ingress');
const webhooks = await runWebhooks();
console.log(formatWebhooks(webhooks));

heading('8. lane leases (bench/lanes.ts)');
const lanes = await runChild('lanes.ts');
heading('9. provider process groups (bench/provider-kill.ts)');
const providerKill = await runChild('provider-kill.ts');
heading('10. dashboard under load (bench/dashboard.ts)');
const dashboard = await runChild('dashboard.ts');

const totalSeconds = (performance.now() - began) / 1000;
console.log(`\ntotal ${totalSeconds.toFixed(1)} s`);
console.log(
  `BENCH_JSON ${JSON.stringify({
    machine: { platform: platform(), cores: cpus().length, node: process.version },
    kernelSteps: kernelStepsJson(steps),
    submitToStart: submitLatencyJson(latency),
    preemption: preemptionJson(preemption),
    loopDelay: loopDelayJson(loopDelay),
    recovery,
    durable,
    webhooks,
    children: [lanes, providerKill, dashboard],
    totalSeconds: Number(totalSeconds.toFixed(1)),
  })}`,
);
