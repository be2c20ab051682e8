// One of the two processes of the cross-process preemption figure, driven over stdin/stdout with
// one JSON line per message. Both open holdfast's Postgres store on the same schema; the kernel
// finds the store's LISTEN/NOTIFY wake transport itself (no `wake` option is given).
//
//   owner:     a started kernel. `long KEY` submits a run whose long step honours its signal and
//              answers {"started": at} once the step runs; it then reports, unasked,
//              {"event": "aborted", key, at} when the step's signal aborts, {"event": "urgent", key,
//              at} at the urgent run's first step, and {"event": "drained", key} once both runs
//              completed and the key's owner lease was released. Its safety-net poll is 60 s, so
//              only a wake message can interrupt the step within a sample.
//   submitter: a kernel that is never started (it owns no key). `submit KEY PREEMPT` records an
//              urgent command for KEY and answers {"at": <when the enqueue's COMMIT returned>}.
//   Both answer `ping` with {"at": now}.
//
//   node --import tsx bench/peers/notify-process.ts owner|submitter <connection string> <schema>
import { createInterface } from 'node:readline';
import { createKernel, defineFlow, type Kernel, type PreemptKind } from '../../src/index.js';
import { firstLine, loadPostgresStore } from './holdfast-postgres.js';
import { abortableSleep } from './systems/abortable-sleep.js';
import { now } from './unit.js';

/** The owner's long step: far longer than a sample, so only an interruption ends it in time. */
export const NOTIFY_LONG_STEP_MS = 30_000;
export const OWNER_POLL_MS = 60_000;

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const started = new Map<string, (at: number) => void>();
const executions = new Map<string, number>();

const long = defineFlow('long', async (ctx) => {
  await ctx.step('long', async ({ signal }) => {
    const n = executions.get(ctx.key) ?? 0;
    executions.set(ctx.key, n + 1);
    if (n > 0) return 'resumed'; // re-executed after the urgent run: nothing left to wait for
    signal.addEventListener('abort', () => out({ event: 'aborted', key: ctx.key, at: now() }), { once: true });
    started.get(ctx.key)?.(now());
    await abortableSleep(NOTIFY_LONG_STEP_MS, signal);
    return 'finished';
  });
  return 'long-done';
});
const urgent = defineFlow('urgent', async (ctx) => {
  await ctx.step('reply', () => (out({ event: 'urgent', key: ctx.key, at: now() }), 'replied'));
  return 'urgent-done';
});

/** Reports `drained` once both runs of `key` completed and then its owner lease was released. */
function watchDrain(kernel: Kernel, key: string): void {
  let completed = 0;
  const offCompleted = kernel.on('run:completed', (e) => {
    if (e.key === key) completed++;
  });
  const offReleased = kernel.on('owner:released', (e) => {
    if (e.key !== key || completed < 2) return;
    offCompleted();
    offReleased();
    out({ event: 'drained', key });
  });
}

async function main(role: string, url: string, schema: string): Promise<void> {
  const loaded = await loadPostgresStore();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const store = loaded.postgresStore({ connectionString: url, schema });
  if (typeof store.wakeTransport !== 'function') throw new Error('the Postgres store offers no wakeTransport (LISTEN/NOTIFY) capability');
  const owner = role === 'owner';
  const kernel: Kernel = createKernel({ store, flows: [long, urgent], ...(owner ? { pollIntervalMs: OWNER_POLL_MS } : {}) });
  kernel.on('kernel:error', (e) => out({ event: 'error', error: firstLine(e.error) }));
  kernel.on('run:failed', (e) => out({ event: 'error', error: `run ${e.runId} failed: ${e.error.code} ${e.error.message}` }));
  let committedAt = 0;
  kernel.on('run:queued', () => (committedAt = now()));
  if (owner) await kernel.start();
  out({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, key, kind] = line.trim().split(' ');
    try {
      if (verb === 'ping') {
        out({ at: now() });
      } else if (owner && verb === 'long' && key) {
        watchDrain(kernel, key);
        const at = new Promise<number>((resolve) => started.set(key, resolve));
        await kernel.submit({ key, flow: 'long', input: null });
        out({ started: await at });
      } else if (!owner && verb === 'submit' && key && kind) {
        await kernel.submit({ key, flow: 'urgent', input: null, priority: 'urgent', preempt: kind as PreemptKind });
        out({ at: committedAt });
      } else {
        out({ error: `unknown command "${line}"` });
      }
    } catch (error) {
      out({ error: firstLine(error) });
    }
  }
  if (owner) await kernel.stop();
  await store.close();
}

const [, , role, url, schema] = process.argv;
if (role && url && schema) {
  try {
    await main(role, url, schema);
    process.exit(0);
  } catch (error) {
    out({ fatal: firstLine(error) });
    process.exit(1);
  }
}
